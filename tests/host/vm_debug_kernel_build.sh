#!/usr/bin/env bash
# timeout: 120
# The VM suite builds the debug kernel when it is not cached (KERNEL=debug
# and all) and says so with the build's duration; never for the stock
# kernels; a failed build fails the run with a reason.  A fake build script
# (VM_DEBUG_KERNEL_BUILD) stands in for scripts/debug-kernel/build.sh,
# whose real build takes 10-25 minutes.
. "$TOP/tests/host/lib.bash"
VM=$TOP/tests/vm
. "$VM/kernels.sh"

# the fake: "--dir" prints the cache directory; otherwise it "builds"
# (or fails when FAKE_FAIL is set) and logs every call
fake=$TMPDIR/fake-build.sh
cat >"$fake" <<'FAKE'
#!/bin/sh
echo "${1:-build}" >>"$FAKE_CACHE/calls"
d=$FAKE_CACHE/debug-kernel-fake
[ "${1:-}" = --dir ] && { echo "$d"; exit 0; }
[ -n "${FAKE_FAIL:-}" ] && { echo "fake: build failed" >&2; exit 1; }
mkdir -p "$d" && echo 7 >"$d/build-seconds" && touch "$d/ready" && echo "$d"
FAKE
chmod +x "$fake"
export VM_DEBUG_KERNEL_BUILD=$fake FAKE_CACHE=$TMPDIR/cache
mkdir -p "$FAKE_CACHE"

for k in $STOCK_KERNELS; do
	kernel_build "$k" >"$TMPDIR/out" 2>&1
	t_eq "$k: nothing to build" $? 0
	t_eq "  the debug kernel's build script not even asked" "$(cat "$FAKE_CACHE/calls" 2>/dev/null)" ""
done

kernel_build debug >"$TMPDIR/out" 2>&1
t_eq "debug, not cached: built" $? 0
t_grep "  the console says the first build happens" "debug kernel is not built yet: building it now" "$TMPDIR/out"
t_grep "  and how long it took (build-seconds)" "built in 7 s" "$TMPDIR/out"
t_eq "  build script called once to build" "$(grep -c '^build$' "$FAKE_CACHE/calls")" 1

: >"$FAKE_CACHE/calls"
kernel_build debug >"$TMPDIR/out" 2>&1
t_eq "debug, cached: nothing to do" $? 0
t_eq "  silent" "$(cat "$TMPDIR/out")" ""
t_eq "  only the directory asked for" "$(cat "$FAKE_CACHE/calls")" "--dir"

# a failing build fails the run, with the reason (run.sh end to end: it
# stops before any boot)
rm -rf "$FAKE_CACHE/debug-kernel-fake"
FAKE_FAIL=1 VM_OUT=$TMPDIR/vmout "$VM/run.sh" debug >"$TMPDIR/run.out" 2>&1
t_eq "run.sh debug with a failing build exits 1" $? 1
t_grep "  building announced" "building it now" "$TMPDIR/run.out"
t_grep "  the failure named" "^not ok - debug: the debug kernel build failed" "$TMPDIR/run.out"
t_grep "  counted" "^0 passed, 1 failed$" "$TMPDIR/run.out"

# the real script: --dir names a directory in the cache, builds nothing
d=$(DMAKIT_CACHE=$TMPDIR/real "$TOP/scripts/debug-kernel/build.sh" --dir 2>&1)
t_check "build.sh --dir: a directory under DMAKIT_CACHE ($d)" \
	sh -c "case '$d' in '$TMPDIR/real/debug-kernel-'????????????????) exit 0;; esac; exit 1"
t_check "  and nothing built" test ! -e "$TMPDIR/real"
t_done
