#!/usr/bin/env bash
# verify catches forged metadata: every field the metadata states is bound
# to the index (checked against its header, entries or trailer, or by the
# CRC32C of the metadata's bytes the recorder writes into the trailer).
# Each forgery, one at a time, fails verify with a message naming the
# field (for what only the metadata knows: the broken checksum, and the
# member the header's fingerprints say changed); lenient
# numbers and duplicate keys are refused; data appended past the last slot
# and a flipped trailer byte are named; a finished recording whose metadata
# was edited back to "recording" is not "recovered" over its trailer;
# export refuses metadata verify refuses; an untouched recording, a
# recovered one and an older recorder's (said to be unbound) still pass.
# timeout: 180
. "$TOP/tests/host/lib.bash"
out=$TMPDIR/f.dat
orig=$TMPDIR/orig.json

# setkey FILE KEY VALUE: replace KEY's value text (the writer puts one
# top-level member per line), everything else byte for byte as it was
setkey() {
	python3 - "$@" <<'PY'
import re, sys
path, key, val = sys.argv[1:4]
text = open(path).read()
pat = re.compile(r'^(  "%s": )(.*?)(,?)$' % re.escape(key), re.M)
new, n = pat.subn(lambda m: m.group(1) + val + m.group(3), text, count=1)
assert n == 1, key
open(path, "w").write(new)
PY
}

flip() {	# FILE OFFSET: invert one byte in place
	python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
}

# forged WHAT KEY VALUE PATTERN: KEY set to VALUE fails verify, naming it
forged() {
	cp "$orig" "$out.json"
	setkey "$out.json" "$2" "$3"
	"$DMAKIT" verify "$out" >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "$1: verify exits 1" "$?" 1
	t_grep "$1: named" "$4" "$TMPDIR/err"
	cp "$orig" "$out.json"
}

"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o "$out" \
	--size 2M --sample-format ci16_le --sample-rate 1e6 --quiet
t_check "record" test -s "$out.idx"
cp "$out.json" "$orig"
"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
t_eq "untouched: verify exits 0" "$?" 0
t_eq "untouched: the metadata is bound" "$(json_get "$TMPDIR/v.json" meta_bound)" true

edited="not the one its recorder finished"
# what only the metadata says: bound by the trailer's checksum, named by
# the header's fingerprints of its members
bound() {	# WHAT KEY VALUE
	forged "$1" "$2" "$3" "$edited: its \"$2\" was edited"
}
bound "hidden drops after the last buffer" dropped 5
bound "hidden buffers not recorded" not_recorded 8
bound "checkpoint_last_seq" checkpoint_last_seq 7
bound "the error text" error '"disk on fire"'
bound "policy" policy '"drop"'
bound "source_rate" source_rate 1000
bound "sample_format" sample_format '"cf64_be"'
bound "sample_rate" sample_rate 7
bound "the data path" data '"elsewhere.dat"'
bound "the index path" index '"elsewhere.dat.idx"'
# what the index header, entries and trailer say
forged "checkpoint_buffers past the index" checkpoint_buffers 999 "checkpoint_buffers=999"
forged "finished false" finished false "not finished true"
forged "start_time" start_time '"2001-01-01T00:00:00.000Z"' "start_time"
forged "end_time" end_time '"2001-01-01T00:00:00.000Z"' "end_time"
forged "start_mono_ns" start_mono_ns 12345 "start_mono_ns"
forged "payload" payload '"none"' "payload"
forged "dev_clock_hz" dev_clock_hz 1 "dev_clock_hz"
forged "format" format '"foo"' "not a dmakit recording"
forged "version" version 1 "version"
forged "a non-SigMF sample_format" sample_format '"cf65_le"' "sample_format"
# numbers that are not integers, not read as their leading digits
forged "buffers 3.2e1" buffers 3.2e1 'no valid "buffers"'
forged "bytes 2097152.9" bytes 2097152.9 'no valid "bytes"'
forged "bufsize 65536.0" bufsize 65536.0 "buffer size"

cp "$orig" "$out.json"
python3 - "$out.json" <<'PY'
import sys
p = sys.argv[1]
t = open(p).read()
open(p, "w").write(t.replace('  "dropped": 0,', '  "dropped": 0,\n  "dropped": 5,', 1))
PY
"$DMAKIT" verify "$out" >/dev/null 2>"$TMPDIR/err"
t_eq "a duplicate key: verify exits 1" "$?" 1
t_grep "a duplicate key: named" '"dropped" more than once' "$TMPDIR/err"
cp "$orig" "$out.json"

# bytes appended past the last slot
cp "$out" "$TMPDIR/data.bak"
printf 'tail' >>"$out"
"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json" 2>"$TMPDIR/err"
t_eq "data past the last slot: verify exits 1" "$?" 1
t_eq "data past the last slot: counted" "$(json_get "$TMPDIR/v.json" data_beyond)" 4
t_grep "data past the last slot: named" "4 bytes after the recording's last slot" "$TMPDIR/err"
cp "$TMPDIR/data.bak" "$out"

# a flipped trailer byte (not its magic, then its magic): the trailer
for off in 20 2; do
	flip "$out.idx" $((256 + 64 * 32 + off))
	"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json" 2>"$TMPDIR/err"
	t_eq "trailer byte $off flipped: verify exits 1" "$?" 1
	t_grep "trailer byte $off flipped: the trailer is named" "the trailer of .* is corrupt" "$TMPDIR/err"
	t_eq "trailer byte $off flipped: still 32 buffers" "$(json_get "$TMPDIR/v.json" buffers)" 32
	flip "$out.idx" $((256 + 64 * 32 + off))
done
t_check "restored: verifies" "$DMAKIT" verify "$out" --quiet

# a finished recording whose metadata was edited back to "recording"
cp "$out.idx" "$TMPDIR/idx.bak"
setkey "$out.json" result '"recording"'
setkey "$out.json" finished false
cp "$out.json" "$TMPDIR/edited.json"
"$DMAKIT" verify "$out" >/dev/null 2>"$TMPDIR/err"
t_eq "edited to recording: verify exits 1" "$?" 1
t_grep "edited to recording: the trailer wins" "contradicts the index" "$TMPDIR/err"
"$DMAKIT" recover "$out" >/dev/null 2>"$TMPDIR/err"
t_eq "edited to recording: recover refuses" "$?" 1
t_grep "edited to recording: recover says why" "trailer its recorder wrote" "$TMPDIR/err"
t_check "edited to recording: metadata untouched" cmp -s "$out.json" "$TMPDIR/edited.json"
t_check "edited to recording: index untouched" cmp -s "$out.idx" "$TMPDIR/idx.bak"
cp "$orig" "$out.json"

# export trusts the metadata only as far as verify does
other=$TMPDIR/other.dat
"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o "$other" \
	--size 2M --sample-format cf64_be --sample-rate 7 --quiet
t_check "export of the untouched recording" "$DMAKIT" export --sigmf "$out" --quiet
cp "$other.json" "$out.json"
"$DMAKIT" export --sigmf "$out" --force >/dev/null 2>"$TMPDIR/err"
t_eq "export with a foreign metadata: refused" "$?" 1
t_grep "export with a foreign metadata: explained" "another recording" "$TMPDIR/err"
cp "$orig" "$out.json"
setkey "$out.json" sample_format '"cf64_be"'
"$DMAKIT" export --sigmf "$out" --force >/dev/null 2>"$TMPDIR/err"
t_eq "export with an edited sample format: refused" "$?" 1
t_grep "export with an edited sample format: explained" "$edited: its \"sample_format\" was edited" "$TMPDIR/err"
cp "$orig" "$out.json"

# recovered (its trailer cut, as if the recorder had died): verifies, and
# the new metadata is bound in turn
cp "$out" "$TMPDIR/data.bak"
truncate -s $((256 + 64 * 32)) "$out.idx"
setkey "$out.json" result '"recording"'
setkey "$out.json" finished false
t_check "cut: recover" "$DMAKIT" recover "$out" --quiet
t_check "recovered: verifies" "$DMAKIT" verify "$out" --quiet
t_eq "recovered: result" "$(json_get "$out.json" result)" recovered
cp "$out.json" "$TMPDIR/recovered.json"
setkey "$out.json" dropped 3
"$DMAKIT" verify "$out" >/dev/null 2>"$TMPDIR/err"
t_eq "recovered, then edited: verify exits 1" "$?" 1
t_grep "recovered, then edited: named" "$edited: its \"dropped\" was edited" "$TMPDIR/err"
cp "$TMPDIR/recovered.json" "$out.json"

# an older recorder's recording: no flag, no metadata CRC in the trailer
"$PYTHON3" - "$out.idx" <<'PY'
import struct, sys
from dmakit.crc32c import crc32c_bytes
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
struct.pack_into("<I", b, 28, 0)                       # header flags
struct.pack_into("<I", b, 192, crc32c_bytes(bytes(b[:192])))
t = len(b) - 64
struct.pack_into("<I", b, t + 56, 0)                   # meta_crc32c
struct.pack_into("<I", b, t + 60, crc32c_bytes(bytes(b[t:t + 60])))
open(p, "wb").write(b)
PY
t_eq "older recorder: index rewritten" "$?" 0
"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json"
t_eq "older recorder: verify exits 0" "$?" 0
t_eq "older recorder: not bound" "$(json_get "$TMPDIR/v.json" meta_bound)" false
"$DMAKIT" verify "$out" >"$TMPDIR/out"
t_grep "older recorder: said so" "metadata not bound \(older recorder\)" "$TMPDIR/out"
t_grep "older recorder: its counts are the metadata's word" "not recorded 0 \(dropped, not recorded: the metadata's word, unchecked\)" "$TMPDIR/out"
t_done
