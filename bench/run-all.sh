#!/usr/bin/env bash
# Every benchmark under bench/ ('make bench'), one after the other, with
# their default options.  Exit 1 if any misses its targets.
set -u
here=$(cd "$(dirname "$0")" && pwd)
rc=0
for b in "$here"/*.sh; do
	case $(basename "$b") in run-all.sh|lib.sh) continue ;; esac
	echo "== $(basename "$b")"
	"$b" || rc=1
done
exit $rc
