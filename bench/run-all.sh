#!/usr/bin/env bash
# Every benchmark script in bench/ (make bench).  Each writes its numbers
# into docs/ itself; run on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")"
rc=0
for b in ./*.sh; do
	[ "$b" = ./run-all.sh ] && continue
	echo "== $b"
	"$b" || rc=1
done
exit $rc
