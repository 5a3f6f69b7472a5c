# timeout: 240
# dmakit send | dmakit recv from the kernel ring of a simulated card: TCP
# with MSG_ZEROCOPY and io_uring SENDMSG_ZC straight from the driver's
# pages (struct-page backed: no EFAULT), while dmakit record reads the same
# /dev/dmakitN in another process.  Every recording verifies.  Data goes to
# /mnt (the guest's ext2 disk): the debug kernel has no RAM to spare.
. /dmakit/lib.sh

load_dmakit
sim=$(card_dev sim)

# wait_port FILE: until the receiver wrote its port
wait_port() {
	wait_for 120 test -s "$1"
}

# stream NAME ZC: 8 MiB over loopback, received, verified
stream() {
	local n=$1 zc=$2 pid
	dmakit recv -l 127.0.0.1:0 -o /mnt/$n.dat --port-file /tmp/$n.port \
		-q >/tmp/$n.recv.out 2>&1 &
	pid=$!
	t_check "recv $n listens" wait_port /tmp/$n.port
	dmakit send -d "$sim" 127.0.0.1:$(cat /tmp/$n.port) --size 8M -z $zc \
		--json >/tmp/$n.send.json 2>/tmp/$n.send.err
	t_eq "send -z $zc from $sim" $? 0
	cat /tmp/$n.send.err
	wait $pid
	t_eq "recv $n" $? 0
	dmakit verify /mnt/$n.dat --quiet
	t_eq "$n: the received recording verifies" $? 0
}

stream zc-msg msg
t_check "msg: zero-copy sends from the kernel ring (no EFAULT)" \
	grep -Eq '"zc_sends": [1-9]' /tmp/zc-msg.send.json
stream zc-uring uring
t_check "uring: zero-copy sends from the kernel ring" \
	grep -Eq '"zc_sends": [1-9]' /tmp/zc-uring.send.json
rm -f /tmp/zc-* /mnt/zc-*

# two consumers in two processes: record owns the stream (a card at
# 2 MB/s), send attaches meanwhile; record runs until send has ended, then
# is stopped (SIGINT: an ending as asked).  Its --size is only a guard for
# the disk (80 s of stream: send needs 4).  A fixed size once ended the
# recording before send on the loaded debug kernel.
rate=$(card_sys "$sim")/rate
echo 2000000 >"$rate"
dmakit record -d "$sim" -o /mnt/rec.dat --size 160M --quiet >/tmp/rec.out 2>&1 &
rec=$!
t_check "record started the stream" wait_for 120 grep -qx running "$(card_sys "$sim")/state"
stream both auto
t_check "record still running when send has ended" kill -0 "$rec"
kill -INT "$rec"
wait $rec
t_eq "record alongside send exits 0" $? 0
cat /tmp/rec.out
dmakit verify /mnt/rec.dat --quiet
t_eq "the local recording verifies" $? 0
# the same stream: the sender's buffers lie inside the recorder's (the
# stream ids would say so too, but record stores the id from before its
# start; reported)
num() { sed -n "s/^  \"$2\": \([0-9]*\),*$/\1/p" "$1"; }
t_check "both saw the same buffers" test "$(num /mnt/both.dat.json first_seq)" -ge \
	"$(num /mnt/rec.dat.json first_seq)" -a "$(num /mnt/both.dat.json last_seq)" -le \
	"$(num /mnt/rec.dat.json last_seq)" -a "$(num /mnt/both.dat.json buffers)" -gt 0
rm -f /tmp/rec.* /tmp/both.* /mnt/rec.* /mnt/both.*
echo 0 >"$rate"
t_done
