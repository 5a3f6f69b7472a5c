# Helpers shared by the benchmarks (sourced; they set TOP first).

# bench_help: the script's header comment, as its --help.
bench_help() { sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//;$d'; }

# bench_tools NAME TOOL...: the tools (scripts/setup.sh installs them) and
# the built CLI, or exit with a message.
bench_tools() {
	local name=$1 t
	shift
	for t in "$@"; do
		command -v "$t" >/dev/null ||
			{ echo "$name: $t is missing (scripts/setup.sh)" >&2; exit 1; }
	done
	[ -x "$TOP/build/bin/dmakit" ] || { echo "$name: build first (make)" >&2; exit 1; }
}

# bench_bytes SIZE: SIZE (K/M/G/T, powers of 1024; KiB/KB read alike) in bytes
bench_bytes() {
	python3 -c 'import sys
u={"":1,"K":1<<10,"M":1<<20,"G":1<<30,"T":1<<40}
s=sys.argv[1].upper().rstrip("B").rstrip("I"); n=s.rstrip("KMGT")
print(int(float(n)*u[s[len(n):]]))' "$1"
}

# bench_need NAME TOOL...: root, the tools (scripts/setup.sh installs
# them), the built CLI and tracefs, or exit with a message.
bench_need() {
	local name=$1 t
	shift
	[ "$(id -u)" = 0 ] || { echo "$name: needs root" >&2; exit 1; }
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "$name: needs $t (scripts/setup.sh)" >&2; exit 1; }
	done
	[ -x "$DMAKIT" ] || { echo "$name: build first (make)" >&2; exit 1; }
	[ -e /sys/kernel/tracing/trace ] || mount -t tracefs nodev /sys/kernel/tracing
}

# wait_line FILE PATTERN: until FILE has a line matching PATTERN (up to
# 60 s: a tracer's setup takes seconds on a loaded machine)
wait_line() {
	local _
	for _ in $(seq 1 1200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "no '$2' in $1:" >&2
	cat "$1" >&2
	return 1
}

# cpu_secs PID: CPU seconds (user + system) of PID and its children so far
cpu_secs() {
	local p t total=0 hz
	hz=$(getconf CLK_TCK)
	for p in $1 $(pgrep -P "$1" | tr '\n' ' '); do
		# (a child may be gone by now: it counts 0)
		t=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}')
		total=$((total + ${t:-0}))
	done
	echo "$total $hz" | awk '{print $1 / $2}'
}

# rss_kib PID: resident memory
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# doc_block MARKER BLOCK: replace what docs/trace.md holds between
# <!-- bench:MARKER:begin --> and <!-- bench:MARKER:end --> with BLOCK
doc_block() {
	local doc=$TOP/docs/trace.md
	[ -f "$doc" ] && grep -q "<!-- bench:$1:begin -->" "$doc" || return 0
	python3 - "$doc" "$1" "$2" <<'PY'
import re, sys
doc, marker, block = sys.argv[1:4]
s = open(doc).read()
s = re.sub(r"(<!-- bench:%s:begin -->\n).*?(<!-- bench:%s:end -->)" % (marker, marker),
           lambda m: m.group(1) + block + "\n" + m.group(2), s, flags=re.S)
open(doc, "w").write(s)
PY
	echo "(written into docs/trace.md)"
}
