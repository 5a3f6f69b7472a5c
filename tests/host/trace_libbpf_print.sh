# An application using libbpf itself keeps its own print callback across
# libdmakit's BPF sessions (libbpf's callback is process-wide: the library
# sets its own only while it loads, attaches or destroys its program).
# timeout: 120
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
[ -r /sys/kernel/btf/vmlinux ] || t_skip "kernel without BTF: no BPF backend"
cc -O2 -g -I"$TOP/include" -I"$TOP/include/uapi" -o "$TMPDIR/bpf_print" \
	"$TOP/tests/host/progs/bpf_print.c" -L"$TOP/build/lib" -ldmakit -lbpf \
	-Wl,-rpath,"$TOP/build/lib"
t_eq "the test program builds" "$?" 0
"$TMPDIR/bpf_print" >"$TMPDIR/out" 2>"$TMPDIR/err"
t_eq "it runs: exit 0" "$?" 0
t_grep "the sessions ran on the BPF backend" "^backend bpf$" "$TMPDIR/out"
t_grep "the application's callback is still installed and called" \
	"^callback kept$" "$TMPDIR/out"
t_done
