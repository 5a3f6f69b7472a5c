#!/usr/bin/env bash
# dmakit send -> dmakit recv over loopback with every zero-copy method,
# reliable and lossy: each recording verifies (CRC, payload, sequence,
# accounted gaps) and the counters of both ends agree.
# timeout: 240
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

DEV="sim:bufsize=128K,nbufs=64,rate=200M"
SIZE=32M	# 256 buffers

for zc in off msg uring auto; do
	n=rel-$zc
	start_recv $n || exit 1
	$DMAKIT send -d "$DEV" 127.0.0.1:$PORT --size $SIZE -z $zc --json \
		>"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err"
	rc=$?
	wait_recv
	t_eq "$zc: send exits 0" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/    /' "$TMPDIR/$n.send.err" "$TMPDIR/$n.recv.err"
	t_eq "$zc: recv exits 0" "$RECV_RC" 0
	t_check "$zc: recording verifies" verify_ok $n
	t_eq "$zc: 256 buffers recorded" "$(meta $n buffers)" 256
	t_eq "$zc: result complete" "$(meta $n result)" complete
	t_eq "$zc: sender saw the receiver's count" \
		"$(json_get "$TMPDIR/$n.send.json" receiver.buffers)" 256
	# every device drop the sender saw reaches the recording's metadata
	t_eq "$zc: dropped counts agree" "$(meta $n dropped)" \
		"$(json_get "$TMPDIR/$n.send.json" dropped)"
	t_eq "$zc: receiver got the sender's count" "$(meta $n dropped)" \
		"$(json_get "$TMPDIR/$n.recv.json" sender.dropped)"
	zc_sends=$(json_get "$TMPDIR/$n.send.json" zc_sends)
	copied=$(json_get "$TMPDIR/$n.send.json" zc_copied)
	case $zc in
	off)	t_eq "off: no zero-copy sends" "$zc_sends" 0 ;;
	msg|uring)
		t_check "$zc: zero-copy sends made ($zc_sends)" test "$zc_sends" -ge 256
		# loopback delivers by copying; the kernel must say so
		t_eq "$zc: loopback copies reported" "$copied" "$zc_sends" ;;
	auto)
		t_eq "auto: falls back to plain sends on loopback" \
			"$(json_get "$TMPDIR/$n.send.json" zerocopy)" off
		t_grep "auto: fallback noticed" "using plain sends" "$TMPDIR/$n.send.err" ;;
	esac
done

# The stream carries the source's identity into the recording.
t_eq "device string travels" "$(meta rel-msg device)" "$DEV"
t_eq "payload kind travels" "$(meta rel-msg payload)" "sim"

# IPv6, and a receiver listening on every address (dual-stack) reached
# over IPv4
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	RECV_ADDR="[::1]" start_recv v6 || exit 1
	$DMAKIT send -d "$DEV" "[::1]:$PORT" --size 4M >/dev/null 2>&1
	t_eq "IPv6: send exits 0" "$?" 0
	wait_recv
	t_check "IPv6: recording verifies" verify_ok v6
	t_grep "IPv6: the peer is [::1]" '"peer": "\[::1\]:' "$TMPDIR/v6.recv.json"
else
	NO_V6="no IPv6 loopback on this machine: the IPv6 case could not run"
fi
rm -f "$TMPDIR/any.port"
$DMAKIT recv -l 0 -o "$TMPDIR/any.dat" --port-file "$TMPDIR/any.port" --json -q \
	>"$TMPDIR/any.recv.json" 2>&1 &
RECV_PID=$!
wait_file "$TMPDIR/any.port"
$DMAKIT send -d "$DEV" 127.0.0.1:$(cat "$TMPDIR/any.port") --size 4M >/dev/null 2>&1
t_eq "any address: send exits 0" "$?" 0
wait_recv
t_check "any address: recording verifies" verify_ok any
t_grep "any address: an IPv4 peer reads as IPv4" '"peer": "127.0.0.1:' "$TMPDIR/any.recv.json"

# Empty, cut-short and DMA-error buffers (a driver publishes the first on a
# bus fault) cross the network as they are, reliable and lossy, every
# zero-copy method: the stream goes on, the receiver records them as
# record does (verify --allow-dma-errors passes, the counts match)
for mode in "" --lossy; do
	for zc in off msg uring auto; do
		n=odd$mode-$zc
		start_recv $n || exit 1
		$DMAKIT send -d "sim:bufsize=64K,nbufs=64,rate=200M,empty_every=3,trunc_every=5,dmaerr_every=7" \
			$mode 127.0.0.1:$PORT --size 4M -z $zc --json \
			>"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err"
		rc=$?
		wait_recv
		t_eq "odd buffers${mode:+ $mode} $zc: send exits 0" "$rc" 0
		[ "$rc" = 0 ] || sed 's/^/    /' "$TMPDIR/$n.send.err" "$TMPDIR/$n.recv.err"
		t_eq "odd buffers${mode:+ $mode} $zc: recv exits 0" "$RECV_RC" 0
		t_check "odd buffers${mode:+ $mode} $zc: verify --allow-dma-errors" \
			"$DMAKIT" verify "$TMPDIR/$n.dat" --allow-dma-errors --quiet
		t_check "odd buffers${mode:+ $mode} $zc: empty ones recorded ($(meta $n empty))" \
			test "$(meta $n empty)" -gt 0
		t_check "odd buffers${mode:+ $mode} $zc: cut-short and DMA-error ones too" \
			test "$(meta $n truncated)" -gt 0 -a "$(meta $n dma_errors)" -gt 0
	done
done

# Lossy sender at full speed: the producer overwrites slots while the kernel
# is still sending them.  Nothing corrupt may be recorded: the receiver's
# CRC check drops such buffers, the gaps are accounted, verify passes.
for zc in off msg; do
	n=lossy-$zc
	start_recv $n || exit 1
	$DMAKIT send -d "sim:bufsize=64K,nbufs=8" --lossy 127.0.0.1:$PORT \
		--size 64M -z $zc --json >"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err"
	rc=$?
	wait_recv
	t_eq "lossy $zc: send exits 0" "$rc" 0
	t_eq "lossy $zc: recv exits 0" "$RECV_RC" 0
	t_check "lossy $zc: recording verifies" verify_ok $n
	skipped=$(json_get "$TMPDIR/$n.send.json" skipped)
	sdisc=$(json_get "$TMPDIR/$n.send.json" discarded)
	rdisc=$(json_get "$TMPDIR/$n.recv.json" discarded)
	echo "# lossy $zc: skipped $skipped, sender flagged $sdisc, receiver dropped $rdisc"
	# a buffer intact when the kernel released it cannot fail its CRC
	t_check "lossy $zc: receiver drops only flagged buffers" test "$rdisc" -le "$sdisc"
	t_check "lossy $zc: the fast producer outran the sender" \
		test $((skipped + sdisc)) -gt 0
	t_eq "lossy $zc: metadata counts what was lost upstream" \
		"$(meta $n dropped)" "$((skipped + rdisc))"
done
# a case that could not run is a skip (failed by strict CI), never a pass
if [ -n "${NO_V6:-}" ] && [ "$T_FAILED" -eq 0 ]; then
	echo "$T_PASSED passed, $T_FAILED failed"
	t_skip "$NO_V6"
fi
t_done
