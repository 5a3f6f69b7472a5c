#!/usr/bin/env bash
# Benchmark of the register poller (dmakit trace --start reg:...): the
# period it achieves and the CPU it costs at requested periods of 0 (as
# fast as reads go), 1 us, 10 us, 100 us and 1 ms, polling a memory word
# with the library's own poller (bench/progs/pollbench.c).  Each run
# SECS seconds; the table goes into docs/benchmarks.md between the
# bench:poller markers and is printed.
#
#   bench/poller.sh [--quick]
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
SECS=${SECS:-3}
[ "${1:-}" = --quick ] && SECS=1
[ -e "$TOP/build/lib/libdmakit.a" ] || { echo "bench/poller.sh: build first (make)" >&2; exit 1; }
W=$(mktemp -d /tmp/dmakit-bench-poller.XXXXXX)
trap 'rm -rf "$W"' EXIT
cc -O2 -I"$TOP/include" -o "$W/pollbench" "$TOP/bench/progs/pollbench.c" \
	"$TOP/build/lib/libdmakit.a" $(pkg-config --libs liburing libtracefs libtraceevent) -lpthread -lm
"$W/pollbench" "$SECS" 0 1000 10000 100000 1000000 >"$W/raw"
load=$(cut -d' ' -f1 /proc/loadavg)
{
	echo "<!-- bench:poller start -->"
	echo "Measured $(date -u +%Y-%m-%d) on $(nproc) CPUs, load average $load, ${SECS} s per row"
	echo "(bench/poller.sh; a memory word, so an MMIO read's round trip comes on top):"
	echo
	echo "| requested period | achieved period | achieved / requested | longest gap | CPU of one core | polls |"
	echo "|---|---|---|---|---|---|"
	while read -r req got gap cpu polls; do
		if [ "$req" = 0 ]; then
			ratio="-"; reqs="0 (as fast as reads go)"
		else
			ratio=$(awk -v a="$got" -v b="$req" 'BEGIN { printf "%.2f", a / b }')
			reqs="$req ns"
		fi
		echo "| $reqs | $got ns | $ratio | $gap ns | $cpu % | $polls |"
	done <"$W/raw"
	echo "<!-- bench:poller end -->"
} >"$W/table"
cat "$W/table"
python3 - "$TOP/docs/benchmarks.md" "$W/table" <<'PY'
import re, sys
doc, table = open(sys.argv[1]).read(), open(sys.argv[2]).read().rstrip("\n")
pat = re.compile(r"<!-- bench:poller start -->.*?<!-- bench:poller end -->", re.S)
if pat.search(doc):
    doc = pat.sub(lambda m: table, doc)
else:
    doc = doc.rstrip("\n") + "\n\n## Register poller\n\n" + table + "\n"
open(sys.argv[1], "w").write(doc)
PY
