#!/usr/bin/env bash
# The main job on the simulated card: record 2 GiB at full speed, then
# verify the recording.  Writes to $DMAKIT_DEMO_DIR (default: /var/tmp).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${DMAKIT_DEMO_DIR:-/var/tmp}
out="$dir/dmakit-demo.dat"
# --force: a second demo replaces the first demo's recording (record refuses
# to replace an existing recording without it)
"$top/build/bin/dmakit" record -d sim:bufsize=512K,nbufs=256,rate=max,policy=block \
	-o "$out" --size 2G --force
"$top/build/bin/dmakit" verify "$out"
echo "demo: recording in $out (+ .idx, .json)"
