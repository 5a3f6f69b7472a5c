#!/usr/bin/env bash
# The Python package (python/dmakit, numpy) against 'dmakit verify': both
# accept good recordings (gaps, empty and short buffers) and both reject
# the same damage (a flipped data byte, data cut short, a corrupt index
# entry, edited metadata (a total, a drop count only the trailer's
# metadata CRC binds, a checkpoint past the index), data past the last
# slot, a flipped trailer byte, a DMA-error buffer unless allowed); the arrays
# hold the index's values and buffer() the right bytes (the sim payload
# recomputed in numpy); a file name with byte 0xff still gives valid UTF-8
# metadata.
# timeout: 300
. "$TOP/tests/host/lib.bash"

"$PYTHON3" -c 'import numpy' ||
	{ echo "not ok - $PYTHON3 has no numpy (scripts/setup.sh installs python3-numpy)"; exit 1; }

# both_say NAME DATA WANT [ARGS]: dmakit verify and python -m dmakit
# verify exit WANT (0 or 1) on DATA; their counts of CRC, index and
# unaccounted errors agree
both_say() {
	local name=$1 data=$2 want=$3; shift 3
	"$DMAKIT" verify "$data" --json "$@" >"$TMPDIR/c.json" 2>/dev/null
	t_eq "$name: dmakit verify exits $want" "$?" "$want"
	dmakit_py verify "$data" --json "$@" >"$TMPDIR/p.json"
	t_eq "$name: python verify exits $want" "$?" "$want"
	local k
	for k in crc_errors index_errors unaccounted dma_errors gaps lost; do
		t_eq "$name: both count $k" "$(json_get "$TMPDIR/p.json" "$k")" \
			"$(json_get "$TMPDIR/c.json" "$k")"
	done
}

# gaps: a tiny ring at full speed drops buffers
gap=$TMPDIR/gap.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max \
	-o "$gap" --size 16M
t_eq "record with drops" "$?" 0
t_check "the recording has gaps" test "$(json_get "$gap.json" gaps)" -gt 0
both_say "gaps" "$gap" 0

# the arrays and buffers as numpy sees them
"$PYTHON3" - "$gap" <<'PY' >"$TMPDIR/api.out" 2>&1
import json, sys
import numpy as np
import dmakit
rec = dmakit.open(sys.argv[1])
meta = json.load(open(sys.argv[1] + ".json"))
assert len(rec) == meta["buffers"], (len(rec), meta["buffers"])
assert len(rec.gaps) == meta["gaps"], (len(rec.gaps), meta["gaps"])
assert int(rec.lost[rec.gaps].sum()) == meta["lost"]
assert (np.diff(rec.seq.astype(np.int64)) == 1 + rec.lost[1:]).all()
assert (np.diff(rec.timestamps.astype(np.int64)) >= 0).all()
assert rec.buffers.shape == (len(rec), meta["bufsize"])
# iteration shows every gap where the index has it
seen = [b.index for b in rec if b.lost and b.index > 0]
assert seen == list(rec.gaps), (seen, list(rec.gaps))
runs = rec.runs()
assert len(runs) == meta["gaps"] + 1 and runs[-1][1] == len(rec)
# the sim payload: word i of buffer seq is seq*K1 ^ (i+1)*K2 (mod 2**64)
K1, K2 = np.uint64(0x9e3779b97f4a7c15), np.uint64(0xc2b2ae3d27d4eb4f)
for k in (0, int(rec.gaps[0]), len(rec) - 1):
    words = rec.buffer(k).view("<u8")
    i = np.arange(len(words), dtype=np.uint64)
    with np.errstate(over="ignore"):
        want = (np.uint64(rec.seq[k]) * K1) ^ ((i + np.uint64(1)) * K2)
    assert (words == want).all(), k
# realtime: the first buffer within a second of the metadata's start
assert abs(int(rec.realtime_ns[0]) - meta["start_realtime_ns"]) < 10**9
print("api ok")
PY
t_eq "numpy arrays, iteration, runs and buffer bytes match the index" "$?" 0
cat "$TMPDIR/api.out"

# empty, short and DMA-error buffers
short=$TMPDIR/short.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block,empty_every=7,trunc_every=11 \
	-o "$short" --size 4M
both_say "empty and short buffers" "$short" 0
dmaerr=$TMPDIR/dmaerr.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block,dmaerr_every=13 \
	-o "$dmaerr" --size 4M
both_say "DMA errors" "$dmaerr" 1
both_say "DMA errors allowed" "$dmaerr" 0 --allow-dma-errors

# damage, one kind per copy of a good recording
good=$TMPDIR/good.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block -o "$good" --size 4M
both_say "good" "$good" 0
copy() {
	cp "$good" "$TMPDIR/$1.dat"; cp "$good.idx" "$TMPDIR/$1.dat.idx"
	cp "$good.json" "$TMPDIR/$1.dat.json"
}
copy flip
printf '\x5a' | dd of="$TMPDIR/flip.dat" bs=1 seek=$((20 * 65536 + 777)) conv=notrunc status=none
both_say "a flipped data byte" "$TMPDIR/flip.dat" 1
t_eq "python names the buffer" "$(dmakit_py verify "$TMPDIR/flip.dat" | grep -c 'entry 20,')" 1
copy cut
truncate -s $((60 * 65536)) "$TMPDIR/cut.dat"
both_say "data cut short" "$TMPDIR/cut.dat" 1
copy idx
printf '\x01' | dd of="$TMPDIR/idx.dat.idx" bs=1 seek=$((256 + 64 * 5 + 8)) conv=notrunc status=none
both_say "a corrupt index entry" "$TMPDIR/idx.dat" 1
copy meta
sed -i 's/"bytes": 4194304/"bytes": 4194305/' "$TMPDIR/meta.dat.json"
both_say "edited metadata" "$TMPDIR/meta.dat" 1
copy cutidx
truncate -s $((256 + 64 * 50)) "$TMPDIR/cutidx.dat.idx"
both_say "index cut at an entry boundary" "$TMPDIR/cutidx.dat" 1
copy dropped
sed -i 's/"dropped": 0/"dropped": 5/' "$TMPDIR/dropped.dat.json"
both_say "a forged drop count (bound by the trailer's metadata CRC)" "$TMPDIR/dropped.dat" 1
copy ckpt
sed -i 's/"checkpoint_buffers": 64/"checkpoint_buffers": 999/' "$TMPDIR/ckpt.dat.json"
both_say "checkpoint_buffers past the index" "$TMPDIR/ckpt.dat" 1
copy beyond
printf 'tail' >>"$TMPDIR/beyond.dat"
both_say "data past the last slot" "$TMPDIR/beyond.dat" 1
copy trailer
printf '\x01' | dd of="$TMPDIR/trailer.dat.idx" bs=1 seek=$((256 + 64 * 64 + 20)) conv=notrunc status=none
both_say "a flipped trailer byte" "$TMPDIR/trailer.dat" 1

# a file name that is not UTF-8: the metadata is still valid UTF-8 JSON
odd=$TMPDIR/$'run\xff.dat'
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block -o "$odd" --size 1M
t_eq "record to a name with byte 0xff" "$?" 0
t_check "its metadata is valid UTF-8 JSON" "$PYTHON3" -c '
import json, sys
json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))' "$odd.json"
t_check "and verifies" "$DMAKIT" verify -q "$odd"
t_check "python reads it" dmakit_py verify "$odd"
# a device name that is not UTF-8: the metadata says U+FFFD, the index
# keeps the bytes, and both verifiers still see one recording
src=$TMPDIR/$'src\xff.bin'
head -c 1048576 /dev/urandom >"$src"
"$DMAKIT" record -q -d "chardev:$src,bufsize=64K" -o "$TMPDIR/dev.dat" --size 4M
t_eq "record from a device named with byte 0xff" "$?" 0
t_check "its metadata is valid UTF-8 JSON" "$PYTHON3" -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read().decode("utf-8", "strict"))
assert "\ufffd" in d["device"], d["device"]' "$TMPDIR/dev.dat.json"
both_say "device named with 0xff" "$TMPDIR/dev.dat" 0
t_check "the strict check accepts it" dmakit_py check "$TMPDIR/dev.dat"
t_done
