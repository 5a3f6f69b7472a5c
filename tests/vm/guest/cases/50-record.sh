# timeout: 240
# (16 MiB at most per recording: verify reads in 16 MiB chunks, and the
# debug kernel leaves ~100 MiB of the guest's 256 MiB)
# `dmakit record` from the driver's simulated card through /dev/dmakitN,
# checked by `dmakit verify` word for word: into a file (ext2 on /dev/vdb),
# onto the raw virtio disk (/dev/vda), with buffers dropped (accounted gaps), with both engines.
. /dmakit/lib.sh

load_dmakit
sim=$(card_dev sim)
s=$(card_sys "$sim")

t_check "ring: 32 x 256 KiB, block, max rate" set_ring 32 262144 block 0
dmakit record -d "$sim" -o /mnt/r1.dat --size 16M --json --quiet >/tmp/r1.json
t_eq "record 16 MiB into a file" $? 0
t_eq "  result" "$(json_get /tmp/r1.json result)" complete
t_eq "  buffers" "$(json_get /tmp/r1.json buffers)" 64
t_eq "  io_uring, O_DIRECT from the ring pages" \
	"$(json_get /tmp/r1.json engine) $(json_get /tmp/r1.json direct)" "uring true"
dmakit verify /mnt/r1.dat --json >/tmp/v1.json
t_eq "verify" $? 0
t_eq "  payload checked word by word" "$(json_get /tmp/v1.json payload_checked)" true
t_eq "  no gaps" "$(json_get /tmp/v1.json gaps)" 0
rm -f /mnt/r1.*

# 30-ring wrote ring buffers (the sim's payload) onto the disk: a device
# that holds data is refused without --force, and nothing is written
head -c 1048576 /dev/vda | md5sum >/tmp/vda.before
dmakit record -d "$sim" -o /dev/vda --sidecar /tmp/vda --size 16M --quiet 2>/tmp/r2.err
t_eq "a raw disk holding data is refused without --force" $? 1
t_check "  it says why" grep -q "without --force" /tmp/r2.err
t_eq "  and the disk is untouched" "$(head -c 1048576 /dev/vda | md5sum)" "$(cat /tmp/vda.before)"
dmakit record -d "$sim" -o /dev/vda --sidecar /tmp/vda --size 16M --json --quiet --force >/tmp/r2.json
t_eq "record 16 MiB onto the raw virtio disk (--force)" $? 0
t_eq "  buffers" "$(json_get /tmp/r2.json buffers)" 64
t_eq "  O_DIRECT straight from the ring pages" "$(json_get /tmp/r2.json direct)" true
dmakit verify /dev/vda --sidecar /tmp/vda --json >/tmp/v2.json
t_eq "verify the disk" $? 0
t_eq "  payload checked" "$(json_get /tmp/v2.json payload_checked)" true

dmakit record -d "$sim" -o /mnt/r3.dat --size 8M --engine pwrite --quiet
t_eq "record with the pwrite engine" $? 0
dmakit verify /mnt/r3.dat >/dev/null
t_eq "verify it" $? 0
rm -f /mnt/r3.*

# a small ring, the recorder stopped (SIGSTOP) for a while: drops for
# sure, then every gap must be accounted for.  2 MiB/s: the
# recording (8 MiB) lasts ~4 s, the ring (256 KiB) fills in ~0.1 s.
t_check "ring: 4 x 64 KiB, drop, 2 MiB/s" set_ring 4 65536 drop 2097152
drops0=$(cat "$s/counters/drops")
sub0=$(cat "$s/counters/submitted")
dmakit record -d "$sim" -o /mnt/r4.dat --size 8M --engine buffered --json --quiet >/tmp/r4.json &
rec=$!
t_check "the card produces for the recorder" \
	wait_for 60 sh -c "test \$(cat $s/counters/submitted) -gt $sub0"
# the card counts its drops when the consumer next reads (nothing to wait
# for while it is stopped): 2 s of production for a ring that fills in
# 0.125 s, then the drops must show
kill -STOP $rec
sleep 2
kill -CONT $rec
t_check "  the recorder stopped: the card dropped" \
	wait_for 60 sh -c "test \$(cat $s/counters/drops) -gt $drops0"
wait $rec
t_eq "record while the card drops" $? 0
dmakit verify /mnt/r4.dat --json >/tmp/v4.json
t_eq "verify: every gap accounted for" $? 0
t_eq "  unaccounted" "$(json_get /tmp/v4.json unaccounted)" 0
drops1=$(cat "$s/counters/drops")
echo "  gaps $(json_get /tmp/v4.json gaps), lost $(json_get /tmp/v4.json lost), dropped $(json_get /tmp/r4.json dropped), card drops $((drops1 - drops0))"
t_check "  the recording has gaps" test "$(json_get /tmp/v4.json gaps)" -gt 0
t_check "  its metadata counts the dropped buffers" test "$(json_get /tmp/r4.json dropped)" -gt 0
t_check "  the card's drop counter covers the recording's" \
	test $((drops1 - drops0)) -ge "$(json_get /tmp/r4.json lost)"
rm -f /mnt/r4.* /tmp/vda.*
t_check "ring back to 32 x 256 KiB, drop" set_ring 32 262144 drop 0
t_done
