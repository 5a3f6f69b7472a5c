#!/usr/bin/env bash
# Every command reports option errors the same way (like bcc's tools, the
# commands are siblings): exit 2, "dmakit CMD: <what> '<option>'" naming the
# option as it was typed, a pointer to --help, nothing on stdout.  And
# every command answers --help on stdout with exit 0.
# timeout: 60
. "$TOP/tests/host/lib.bash"

usage_case() {	# DESCRIPTION EXPECTED-MESSAGE ARGS...
	local what=$1 msg=$2; shift 2
	"$DMAKIT" "$@" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$what: exit 2" "$?" 2
	t_check "$what: exact message" grep -qxF "$msg" "$TMPDIR/err"
	t_check "$what: --help hint" grep -qxF "try 'dmakit $1 --help'" "$TMPDIR/err"
	t_check "$what: nothing on stdout" test ! -s "$TMPDIR/out"
	# getopt's own message would be a third line: the error is said once
	t_eq "$what: two lines on stderr" "$(wc -l <"$TMPDIR/err")" 2
}

# the value-taking option each command has
declare -A valopt=([record]=--output [verify]=--sidecar [send]=--device
	[recv]=--listen [xfer]=--size [trace]=--start [bench]=--size
	[play]=--device)

for cmd in record verify play send recv xfer trace info bench; do
	usage_case "$cmd unknown long option" \
		"dmakit $cmd: unknown option '--bogus'" $cmd --bogus
	usage_case "$cmd unknown long option with value" \
		"dmakit $cmd: unknown option '--bogus'" $cmd --bogus=1
	usage_case "$cmd unknown short option" \
		"dmakit $cmd: unknown option '-Z'" $cmd -Z
	if [ -n "${valopt[$cmd]:-}" ]; then
		usage_case "$cmd missing value" \
			"dmakit $cmd: option '${valopt[$cmd]}' needs a value" \
			$cmd "${valopt[$cmd]}"
	fi
	"$DMAKIT" $cmd --help >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd --help: exit 0" "$?" 0
	t_check "$cmd --help: usage on stdout" grep -qi "usage" "$TMPDIR/out"
done
# operands where a command takes none
for cmd in record verify play send recv xfer trace bench; do
	case $cmd in
	send) extra=(send -d sim 127.0.0.1:1 extra) ;;
	verify) extra=(verify rec.dat extra) ;;
	play) extra=(play -d /dev/null rec.dat extra) ;;
	*) extra=($cmd extra) ;;
	esac
	"$DMAKIT" "${extra[@]}" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd stray operand: exit 2" "$?" 2
	t_check "$cmd stray operand: named" grep -q "'extra'" "$TMPDIR/err"
done
# a bad value of a shared option is said once (it was also called an
# unknown option)
for cmd in record send recv play; do
	"$DMAKIT" $cmd --status-interval 0 >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd --status-interval 0: exit 2" "$?" 2
	t_eq "$cmd --status-interval 0: one message" \
		"$(grep -c "^dmakit $cmd: " "$TMPDIR/err")" 1
done
for cmd in record recv; do
	"$DMAKIT" $cmd --sample-rate x >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$cmd --sample-rate x: exit 2, one message" \
		"$?/$(grep -c "^dmakit $cmd: " "$TMPDIR/err")" 2/1
done
t_done
