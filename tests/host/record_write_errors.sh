#!/usr/bin/env bash
# Write errors from the target's file system, through the kernel's real
# write() path (a FUSE file system, tests/host/progs/fuse_failfs.py, whose
# writes fail once 4 MiB have been written; the host kernel has neither
# device-mapper nor ext4 quota for dm-error or a real quota): EIO ends the
# recording io-error, EDQUOT disk-full; exit 1, text and JSON agree, and
# the buffers the file system took from offset 0 on without a hole (64 in
# order; fewer when a concurrent engine's later write took the last room)
# are what the recording holds and verify.
# timeout: 300
. "$TOP/tests/host/lib.bash"
need_root
/usr/bin/python3 -c 'import fuse' 2>/dev/null || t_skip "python3-fuse is not installed (scripts/setup.sh)"
[ -e /dev/fuse ] || t_skip "no /dev/fuse"
cd "$TMPDIR" || exit 1
limit=$((4 << 20))	# room for 64 buffers of 64 KiB

for c in EIO:io-error:"Input/output error" EDQUOT:disk-full:"Disk quota exceeded"; do
	IFS=: read -r err result words <<<"$c"
	mkdir -p mnt
	/usr/bin/python3 "$TOP/tests/host/progs/fuse_failfs.py" "$TMPDIR/mnt" "$limit" "$err" \
		>fuse.log 2>&1 &
	fpid=$!
	for _ in $(seq 300); do mountpoint -q mnt && break; sleep 0.1; done
	t_check "$err: the failing file system is mounted" mountpoint -q mnt
	for e in uring pwrite; do
		side=$TMPDIR/side-$err-$e
		"$DMAKIT" record -d sim:bufsize=64K,nbufs=16,policy=block -o mnt/$e.dat \
			--sidecar "$side" --size 16M --engine $e --json >r.json 2>r.err
		t_eq "$err/$e: exit 1" "$?" 1
		t_eq "$err/$e: result $result" "$(json_get r.json result)" "$result"
		t_eq "$err/$e: the metadata says so too" "$(json_get "$side.json" result)" "$result"
		# the file system's own account: its writes, contiguous from 0
		n=$(awk -v f="/$e.dat" '$1 == f { len[$2] = $3 }
			END { o = 0; while (o in len) { o += len[o]; n++ } print n + 0 }' fuse.log)
		echo "$err/$e: the file system took $(grep -c "^/$e.dat " fuse.log) writes, $n from offset 0 on"
		t_check "$err/$e: it took some ($n)" test "$n" -gt 0 -a "$n" -le 64
		# the pwrite engine's threads may fail a later slot first: any
		# offset at or past the buffers kept, on a slot boundary
		t_grep "$err/$e: the message names the error" "write mnt/$e.dat at offset [0-9]+: $words" r.err
		off=$(sed -n "s/.*write mnt\/$e.dat at offset \([0-9]*\):.*/\1/p" r.err | head -n 1)
		t_check "$err/$e: the failed write lies at or past the $n buffers kept" \
			test "${off:-0}" -ge $((n * 65536)) -a $(( ${off:-1} % 65536 )) -eq 0
		t_grep "$err/$e: and what was kept" "the $n buffers recorded before are consistent and durable" r.err
		t_eq "$err/$e: as many buffers as the file system took in order" "$(json_get r.json buffers)" "$n"
		t_check "$err/$e: the independent reader accepts them" \
			dmakit_py check "mnt/$e.dat" "$side"
		"$DMAKIT" verify "mnt/$e.dat" --sidecar "$side" --json >v.json
		t_eq "$err/$e: verify passes" "$?" 0
		t_eq "$err/$e: verify checked them all" "$(json_get v.json buffers)" "$n"
		rm -f "mnt/$e.dat"
		# the limit counts every write: a new file system per engine
		umount mnt; wait "$fpid"
		[ $e = uring ] || continue
		/usr/bin/python3 "$TOP/tests/host/progs/fuse_failfs.py" "$TMPDIR/mnt" "$limit" "$err" \
			>fuse.log 2>&1 &
		fpid=$!
		for _ in $(seq 300); do mountpoint -q mnt && break; sleep 0.1; done
	done
done
t_done
