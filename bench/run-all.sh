#!/usr/bin/env bash
# Every benchmark under bench/ ('make bench'), one after the other, with
# their default options.  Exit 1 if any misses its targets.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/*.sh; do
	[ "$(basename "$b")" = run-all.sh ] && continue
	echo "== $(basename "$b")"
	"$b" || rc=1
done
exit $rc
