#!/usr/bin/env bash
# A stream between two network namespaces joined by a veth pair (a real
# network path with its own addresses, routes and device): every zero-copy
# method, verified; a destination without a route fails clearly.
# Needs root and iproute2 (a skip otherwise: strict CI fails on it).
# timeout: 180
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/net_lib.bash"

need_root
command -v ip >/dev/null || t_skip "iproute2 (ip) not installed"
NA=dmk$$a NB=dmk$$b VA=dmk$$x VB=dmk$$y
cleanup() { ip netns del $NA 2>/dev/null; ip netns del $NB 2>/dev/null; }
trap cleanup EXIT
ip netns add $NA && ip netns add $NB || t_skip "cannot create network namespaces here"
ip link add $VA type veth peer name $VB || t_skip "no veth support in this kernel"
ip link set $VA netns $NA
ip link set $VB netns $NB
ip -n $NA addr add 10.77.0.1/24 dev $VA
ip -n $NB addr add 10.77.0.2/24 dev $VB
for n in $NA $NB; do ip -n $n link set lo up; done
ip -n $NA link set $VA up
ip -n $NB link set $VB up

DEV="sim:bufsize=128K,nbufs=64,rate=100M"
for zc in msg uring off; do
	n=ns-$zc
	rm -f "$TMPDIR/$n.port"
	ip netns exec $NB $DMAKIT recv -l 10.77.0.2:0 -o "$TMPDIR/$n.dat" \
		--port-file "$TMPDIR/$n.port" --json -q \
		>"$TMPDIR/$n.recv.json" 2>"$TMPDIR/$n.recv.err" &
	RECV_PID=$!
	wait_file "$TMPDIR/$n.port" || { cat "$TMPDIR/$n.recv.err"; exit 1; }
	ip netns exec $NA $DMAKIT send -d "$DEV" 10.77.0.2:$(cat "$TMPDIR/$n.port") \
		--size 32M -z $zc --json >"$TMPDIR/$n.send.json" 2>"$TMPDIR/$n.send.err"
	rc=$?
	wait_recv
	t_eq "veth $zc: send exits 0" "$rc" 0
	[ "$rc" = 0 ] || sed 's/^/    /' "$TMPDIR/$n.send.err" "$TMPDIR/$n.recv.err"
	t_eq "veth $zc: recv exits 0" "$RECV_RC" 0
	t_check "veth $zc: recording verifies" verify_ok $n
	t_eq "veth $zc: 256 buffers" "$(meta $n buffers)" 256
	t_eq "veth $zc: the sender's address is the other namespace's" \
		"$(json_get "$TMPDIR/$n.recv.json" peer | cut -d: -f1)" 10.77.0.1
	sends=$(json_get "$TMPDIR/$n.send.json" zc_sends)
	copied=$(json_get "$TMPDIR/$n.send.json" zc_copied)
	echo "# veth $zc: $sends zero-copy sends, $copied copied by the kernel"
	if [ $zc != off ]; then
		t_check "veth $zc: zero-copy used" test "$sends" -ge 256
		t_check "veth $zc: copied count accounted" test "$copied" -le "$sends"
	fi
done

# no route to that network from namespace A
ip netns exec $NA $DMAKIT send -d sim 10.99.0.1:9 --size 1M 2>"$TMPDIR/noroute.err"
t_eq "no route: exit 1" "$?" 1
t_grep "no route: says so" "10.99.0.1:9: connect: Network is unreachable" "$TMPDIR/noroute.err"
# on the link, but nobody has that address: no answer
ip netns exec $NA $DMAKIT send -d sim 10.77.0.9:9 --size 1M --timeout 1s 2>"$TMPDIR/nohost.err"
t_eq "no such host: exit 1" "$?" 1
t_grep "no such host: says so" "10.77.0.9:9: connect: (no answer|No route to host)" "$TMPDIR/nohost.err"
t_done
