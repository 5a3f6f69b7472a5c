#!/usr/bin/env bash
# dmakit record --sample-format/--sample-rate/--center-freq and dmakit
# export --sigmf: the .sigmf-meta is valid SigMF 1.2 (tests/host/
# sigmf_check.py, written from the spec), its captures follow the gaps and
# short buffers, DMA-error buffers are annotations, and the samples a
# SigMF reader takes from the data file (header_bytes skipped) are exactly
# the recorded buffers' valid bytes (read by the Python package); the
# datetimes lie within the recording.  Without a sample format export
# fails with exit 2 and writes nothing; an existing .sigmf-meta is kept
# unless --force.
# timeout: 300
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

"$PYTHON3" -c 'import numpy' ||
	{ echo "not ok - $PYTHON3 has no numpy (scripts/setup.sh installs python3-numpy)"; exit 1; }
check=$TOP/tests/host/sigmf_check.py

# gaps (a tiny ring at full speed), DMA errors, short and empty buffers
mix=$TMPDIR/mix.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=4,policy=drop,rate=max,dmaerr_every=13,trunc_every=11,empty_every=17 \
	-o "$mix" --size 8M --sample-format ci16_le --sample-rate 61.44M --center-freq 2412345678
t_eq "record with a sample format" "$?" 0
t_eq "the metadata keeps the format" "$(json_get "$mix.json" sample_format)" ci16_le
t_eq "the metadata keeps the rate" "$(json_get "$mix.json" sample_rate)" 61440000
t_eq "the metadata keeps the frequency to the Hz" "$(json_get "$mix.json" center_freq)" 2412345678
t_check "the recording has gaps" test "$(json_get "$mix.json" gaps)" -gt 0
t_check "verify accepts it (DMA errors allowed)" "$DMAKIT" verify -q --allow-dma-errors "$mix"

"$DMAKIT" export --sigmf "$mix" --json >"$TMPDIR/e.json"
t_eq "export exits 0" "$?" 0
t_eq "export --json says ok" "$(json_get "$TMPDIR/e.json" ok)" true
t_eq "written beside the data" "$(json_get "$TMPDIR/e.json" output)" "$mix.sigmf-meta"
"$PYTHON3" "$check" "$mix.sigmf-meta" "$TMPDIR/sigmf.npy" >"$TMPDIR/s.json"
t_eq "the .sigmf-meta is valid SigMF" "$?" 0
cat "$TMPDIR/s.json"

"$PYTHON3" - "$mix" "$TMPDIR/sigmf.npy" <<'PY' >"$TMPDIR/cmp.out" 2>&1
import json, sys
import numpy as np
import dmakit
rec = dmakit.open(sys.argv[1])
sig = json.load(open(sys.argv[1] + ".sigmf-meta"))
meta = rec.meta
g, caps, anns = sig["global"], sig["captures"], sig["annotations"]
assert g["core:datatype"] == "ci16_le" and g["core:sample_rate"] == 61.44e6
assert g["core:dataset"] == "mix.dat"
assert all(c["core:frequency"] == 2412345678 for c in caps)
# the samples a SigMF reader sees: every buffer's valid bytes, in order
want = np.concatenate([b.data[:len(b.data) // 4 * 4] for b in rec])
got = np.load(sys.argv[2])
assert len(got) == len(want) and (got == want).all(), (len(got), len(want))
# a capture at the start, after every gap and after every short slot
e = rec.entries
per_buf = rec.bufsize // 4
expect = []
need, pos, pad = True, 0, 0
for k in range(len(e)):
    n = int(e["len"][k]) // 4
    need = need or (k > 0 and e["lost"][k] > 0) or pad > 0
    if n and need:
        expect.append((pos, (int(e["seq"][k]) - int(e["seq"][0])) * per_buf, pad))
        need, pad = False, 0
    pos += n
    pad += rec.bufsize - n * 4
got_caps = [(c["core:sample_start"], c["core:global_index"],
             c.get("core:header_bytes", 0)) for c in caps]
assert got_caps == expect, (got_caps[:5], expect[:5])
cap_starts = {c["core:sample_start"] for c in caps}
starts = np.cumsum([0] + [int(x) // 4 for x in e["len"]])
for k in rec.gaps:          # every gap entry with samples starts a capture
    assert e["len"][k] < 4 or starts[k] in cap_starts, k
# the lost buffers' samples are missing from the dataset, not from
# global_index: the last capture's index exceeds its start by them
lost = sum(int(e["lost"][k]) for k in rec.gaps)
assert int(e["seq"][-1]) - int(e["seq"][0]) + 1 == len(e) + lost
assert caps[-1]["core:global_index"] - caps[-1]["core:sample_start"] >= lost * per_buf
# one annotation per DMA-error buffer, at its samples
assert len(anns) == meta["dma_errors"] == len(rec.dma_errors)
for a, k in zip(anns, rec.dma_errors):
    assert a["core:sample_start"] == starts[k], (a, k)
    assert a["core:sample_count"] == int(e["len"][k]) // 4
    assert a["core:label"] == "DMA error" and ("seq %d" % e["seq"][k]) in a["core:comment"]
# datetimes: the host clock when the capture's first buffer completed,
# less that buffer's samples at the sample rate
import datetime
def ns(s):
    base, frac = s[:-1].split(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 10**9 + int(frac.ljust(9, "0"))
first_entry = {int(starts[k]): k for k in range(len(e)) if e["len"][k] >= 4}
for c in caps:
    k = first_entry[c["core:sample_start"]]
    want = int(rec.realtime_ns[k]) - int(e["len"][k]) // 4 / 61.44e6 * 1e9
    assert abs(ns(c["core:datetime"]) - want) < 1000, (c, want)
    assert meta["start_realtime_ns"] - 10**9 <= want <= meta["end_realtime_ns"]
print("sigmf matches the recording:", len(caps), "captures,", len(anns), "annotations")
PY
t_eq "captures, annotations, samples and times match the recording" "$?" 0
cat "$TMPDIR/cmp.out"

# an existing .sigmf-meta is not replaced without --force
echo '{"mine": 1}' >"$mix.sigmf-meta"
"$DMAKIT" export --sigmf "$mix" 2>"$TMPDIR/err"
t_eq "an existing output: exit 1" "$?" 1
t_grep "says why" "exists .*--force" "$TMPDIR/err"
t_eq "and it is untouched" "$(cat "$mix.sigmf-meta")" '{"mine": 1}'
t_check "--force replaces it" "$DMAKIT" export -q --sigmf --force "$mix"
t_check "with valid SigMF" "$PYTHON3" "$check" "$mix.sigmf-meta" "$TMPDIR/x.npy"

# NAME.sigmf-data gets NAME.sigmf-meta; -o elsewhere in the same directory
conf=$TMPDIR/conf.sigmf-data
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block -o "$conf" --size 1M \
	--sample-format cf32_le --sample-rate 1M
t_check "export of NAME.sigmf-data" "$DMAKIT" export -q --sigmf "$conf"
t_check "writes NAME.sigmf-meta" test -f "$TMPDIR/conf.sigmf-meta"
t_check "valid, one capture" "$PYTHON3" "$check" "$TMPDIR/conf.sigmf-meta" "$TMPDIR/c.npy"
t_eq "cf32 samples read by numpy" "$("$PYTHON3" -c '
import sys, dmakit
rec = dmakit.open(sys.argv[1])
s = rec.samples()
print(s.dtype, len(s))' "$conf")" "complex64 131072"

# no sample format: refused with exit 2, nothing written, no guess
plain=$TMPDIR/plain.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,policy=block -o "$plain" --size 1M
"$DMAKIT" export --sigmf "$plain" 2>"$TMPDIR/err"
t_eq "no sample format: exit 2" "$?" 2
t_grep "a clear message" "no sample format.*--sample-format" "$TMPDIR/err"
t_check "nothing written" test ! -e "$plain.sigmf-meta"
"$DMAKIT" export --sigmf "$plain" --json >"$TMPDIR/e.json" 2>"$TMPDIR/err"
t_eq "--json, no sample format: still exit 2" "$?" 2
t_check "a usage error prints no JSON (no result)" test ! -s "$TMPDIR/e.json"
t_grep "the message on stderr" "no sample format" "$TMPDIR/err"
# a failure (exit 1) with --json: one object, ok false, a non-empty error
"$DMAKIT" export --sigmf "$TMPDIR/absent.dat" --json >"$TMPDIR/e.json" 2>/dev/null
t_eq "--json, a missing recording: exit 1" "$?" 1
t_eq "--json on failure: ok false" "$(json_get "$TMPDIR/e.json" ok)" false
t_check "--json on failure: an error" test -n "$(json_get "$TMPDIR/e.json" error)"

# SIGKILL mid-run: recover keeps the sample description, export works
killed=$TMPDIR/killed.dat
"$DMAKIT" record -q -d sim:bufsize=64K,nbufs=16,rate=20M,policy=block -o "$killed" \
	--duration 600 --checkpoint 0.2 --sample-format ri8 --sample-rate 20M &
pid=$!
for ((i = 0; i < 1200; i++)); do	# up to 120 s: a checkpoint with buffers
	[ -s "$killed.json" ] &&
		[ "$(json_get "$killed.json" checkpoint_buffers 2>/dev/null || echo 0)" -gt 0 ] && break
	sleep 0.1
done
t_check "killed run: a checkpoint holds buffers" \
	test "$(json_get "$killed.json" checkpoint_buffers)" -gt 0
kill -KILL "$pid"; wait "$pid" 2>/dev/null
"$DMAKIT" export --sigmf "$killed" 2>"$TMPDIR/err"
t_eq "export of an unfinished recording: exit 1" "$?" 1
t_grep "says to recover it" "not finished.*recover" "$TMPDIR/err"
t_check "nothing written" test ! -e "$killed.sigmf-meta"
t_check "recover" "$DMAKIT" recover -q "$killed"
t_eq "recover keeps the sample format" "$(json_get "$killed.json" sample_format)" ri8
t_eq "and the rate" "$(json_get "$killed.json" sample_rate)" 20000000
t_check "export after recover" "$DMAKIT" export -q --sigmf "$killed"
t_check "valid SigMF" "$PYTHON3" "$check" "$killed.sigmf-meta" "$TMPDIR/k.npy"

# over the network: recv records the sample description the same way
start_recv net --sample-format cf32_le --sample-rate 2M --center-freq 433.92M ||
	t_check "recv starts" false
"$DMAKIT" send -q -d sim:bufsize=64K,nbufs=16,policy=block "127.0.0.1:$PORT" --size 2M
t_eq "send exits 0" "$?" 0
wait_recv
t_eq "recv exits 0" "$RECV_RC" 0
t_eq "recv keeps the sample format" "$(json_get "$TMPDIR/net.dat.json" sample_format)" cf32_le
t_eq "and the centre frequency" "$(json_get "$TMPDIR/net.dat.json" center_freq)" 433920000
t_check "export of the received recording" "$DMAKIT" export -q --sigmf "$TMPDIR/net.dat"
t_check "valid SigMF" "$PYTHON3" "$check" "$TMPDIR/net.dat.sigmf-meta" "$TMPDIR/n.npy"
"$DMAKIT" recv -l 127.0.0.1:0 -o "$TMPDIR/nr.dat" --center-freq 1G 2>/dev/null
t_eq "recv: a frequency without a format: exit 2" "$?" 2

# a corrupt index entry: refused, pointing at verify
cp "$mix" "$TMPDIR/bad.dat"; cp "$mix.json" "$TMPDIR/bad.dat.json"
cp "$mix.idx" "$TMPDIR/bad.dat.idx"
printf '\x01' | dd of="$TMPDIR/bad.dat.idx" bs=1 seek=$((256 + 64 * 3 + 16)) conv=notrunc status=none
"$DMAKIT" export --sigmf "$TMPDIR/bad.dat" 2>"$TMPDIR/err"
t_eq "a corrupt index: exit 1" "$?" 1
t_grep "names the entry and verify" "entry 3 is corrupt.*dmakit verify" "$TMPDIR/err"
t_check "nothing written" test ! -e "$TMPDIR/bad.dat.sigmf-meta"
rm -f "$TMPDIR"/bad.dat*

# bad usage
"$DMAKIT" export "$mix" 2>/dev/null
t_eq "no --sigmf: exit 2" "$?" 2
"$DMAKIT" record -q -d sim -o "$TMPDIR/bad.dat" --size 1M --sample-format cf33_le 2>/dev/null
t_eq "an unknown sample format: exit 2" "$?" 2
"$DMAKIT" record -q -d sim -o "$TMPDIR/bad.dat" --size 1M --sample-rate 1M 2>/dev/null
t_eq "a rate without a format: exit 2" "$?" 2
"$DMAKIT" record -q -d sim -o "$TMPDIR/bad.dat" --size 1M --sample-format cu8 --sample-rate 1e13 2>/dev/null
t_eq "an absurd rate: exit 2" "$?" 2
t_check "none of them created anything" test ! -e "$TMPDIR/bad.dat"
t_done
