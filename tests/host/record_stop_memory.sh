#!/usr/bin/env bash
# A simulated card's ring must fit in the memory this process may use, not
# only under the 16 GiB cap (record_stop.sh): in a memory cgroup of 256 MiB
# a 512 MiB ring is refused with a clear error before anything is allocated
# or created (it used to be populated until the OOM killer came), and a
# 64 MiB one records.  Needs root and a writable memory cgroup (v1 or v2).
# timeout: 300
. "$TOP/tests/host/lib.bash"
need_root
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
	grep -qw memory /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null ||
		echo +memory >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
	cg=/sys/fs/cgroup/dmakit-stop-$$
	limit_file=memory.max
else
	cg=/sys/fs/cgroup/memory$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)
	cg=${cg%/}/dmakit-stop-$$
	limit_file=memory.limit_in_bytes
fi
mkdir "$cg" 2>/dev/null || t_skip "no writable memory cgroup (read-only /sys/fs/cgroup?)"
trap 'rmdir "$cg"' EXIT
echo 256M >"$cg/$limit_file" || t_skip "cannot set $cg/$limit_file"
in_cgroup() { (echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@"); }

out=$TMPDIR/cg.dat
in_cgroup "$DMAKIT" record -d sim:nbufs=64,bufsize=8M -o "$out" --size 1M 2>"$TMPDIR/err"
t_eq "512 MiB ring in 256 MiB: exits 1" "$?" 1
t_grep "512 MiB ring in 256 MiB: says why" \
	"needs more memory than is available \([0-9]+ MiB, of which the ring may take 3/4\)" "$TMPDIR/err"
t_check "512 MiB ring in 256 MiB: nothing created" test ! -e "$out"
in_cgroup "$DMAKIT" record -d sim:nbufs=8,bufsize=8M,policy=block,rate=max \
	-o "$out" --size 16M --quiet
t_eq "64 MiB ring in 256 MiB: records" "$?" 0
t_check "64 MiB ring in 256 MiB: verifies" "$DMAKIT" verify "$out" --quiet
t_done
