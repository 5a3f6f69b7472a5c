#!/usr/bin/env bash
# verify catches damage: a flipped data byte (named by buffer), a corrupt
# index entry, a truncated index, missing metadata, another recording's
# metadata copied over, data and index cut at a buffer boundary with the
# metadata's totals edited to match; and passes again once the damage is
# undone.
# timeout: 120
. "$TOP/tests/host/lib.bash"
out=$TMPDIR/c.dat
bs=65536

flip() {	# FILE OFFSET: invert one byte in place
	python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off); b = f.read(1); f.seek(off); f.write(bytes([b[0] ^ 0xff]))
PY
}

"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o "$out" --size 4M --quiet
t_check "record" test -s "$out.idx"
t_check "intact recording verifies" "$DMAKIT" verify "$out" --quiet

flip "$out" $((17 * bs + 1000))
"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json" 2>"$TMPDIR/err"
t_eq "flipped data byte: exit 1" "$?" 1
t_eq "flipped data byte: one CRC error" "$(json_get "$TMPDIR/v.json" crc_errors)" 1
t_eq "flipped data byte: one payload error" "$(json_get "$TMPDIR/v.json" payload_errors)" 1
t_eq "flipped data byte: the buffer" "$(json_get "$TMPDIR/v.json" first_bad_seq)" 17
t_grep "flipped data byte: named in the message" "buffer seq 17 \(entry 17" "$TMPDIR/err"
flip "$out" $((17 * bs + 1000))
t_check "restored data verifies" "$DMAKIT" verify "$out" --quiet

flip "$out.idx" $((256 + 64 * 9 + 3))
"$DMAKIT" verify "$out" 2>"$TMPDIR/err" >/dev/null
t_eq "corrupt index entry: exit 1" "$?" 1
t_grep "corrupt index entry: named" "index entry 9 is corrupt" "$TMPDIR/err"
flip "$out.idx" $((256 + 64 * 9 + 3))

cp "$out.idx" "$TMPDIR/idx.bak"
truncate -s $((256 + 64 * 60)) "$out.idx"
"$DMAKIT" verify "$out" --json >"$TMPDIR/v.json" 2>"$TMPDIR/err"
t_eq "truncated index: exit 1" "$?" 1
t_eq "truncated index: 4 buffers unaccounted" "$(json_get "$TMPDIR/v.json" unaccounted)" 4
t_grep "truncated index: explained" "metadata says buffers=64, the index has 60" "$TMPDIR/err"
cp "$TMPDIR/idx.bak" "$out.idx"

mv "$out.json" "$TMPDIR/meta.bak"
"$DMAKIT" verify "$out" 2>"$TMPDIR/err" >/dev/null
t_eq "missing metadata: exit 1" "$?" 1
t_grep "missing metadata: explained" "cannot read the metadata" "$TMPDIR/err"
mv "$TMPDIR/meta.bak" "$out.json"

# another recording's metadata: same device, geometry and totals
other=$TMPDIR/other.dat
"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o "$other" --size 4M --quiet
cp "$out.json" "$TMPDIR/meta.bak"
cp "$other.json" "$out.json"
"$DMAKIT" verify "$out" 2>"$TMPDIR/err" >/dev/null
t_eq "foreign metadata: exit 1" "$?" 1
t_grep "foreign metadata: explained" "belongs to another recording" "$TMPDIR/err"
cp "$TMPDIR/meta.bak" "$out.json"
t_check "own metadata back: verifies" "$DMAKIT" verify "$out" --quiet

# cut at a buffer boundary (data and index), totals edited to match
cp "$out" "$TMPDIR/data.bak"
cp "$out.idx" "$TMPDIR/idx.bak"
truncate -s $((50 * bs)) "$out"
truncate -s $((256 + 64 * 50)) "$out.idx"
python3 - "$out.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m.update(buffers=50, bytes=50 * 65536, last_seq=49,
         checkpoint_buffers=50, checkpoint_last_seq=49)
json.dump(m, open(sys.argv[1], "w"), indent=2)
PY
"$DMAKIT" verify "$out" 2>"$TMPDIR/err" >/dev/null
t_eq "cut with edited totals: exit 1" "$?" 1
t_grep "cut with edited totals: explained" "no trailer after entry 50" "$TMPDIR/err"
cp "$TMPDIR/data.bak" "$out"
cp "$TMPDIR/idx.bak" "$out.idx"
cp "$TMPDIR/meta.bak" "$out.json"
t_check "restored recording verifies" "$DMAKIT" verify "$out" --quiet

truncate -s $((40 * bs)) "$out"
"$DMAKIT" verify "$out" 2>"$TMPDIR/err" >/dev/null
t_eq "truncated data: exit 1" "$?" 1
t_grep "truncated data: explained" "buffer seq 40 .*data missing" "$TMPDIR/err"
t_done
