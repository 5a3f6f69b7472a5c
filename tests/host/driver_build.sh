#!/usr/bin/env bash
# timeout: 600
# dmakit.ko builds against the installed kernel headers with W=1 and no
# warning at all, passes checkpatch, and describes itself (modinfo).
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/vm/kernels.sh"

kernel_setup stock || t_skip "no kernel headers to build against: $KERNEL_MISSING"
command -v perl >/dev/null || t_skip "perl missing (checkpatch.pl)"

src=$TMPDIR/src
mkdir -p "$src/driver" "$src/include/uapi/dmakit"
cp "$TOP"/driver/Kbuild "$TOP"/driver/Makefile "$TOP"/driver/*.[ch] "$src/driver/"
cp "$TOP"/include/uapi/dmakit/*.h "$src/include/uapi/dmakit/"
nice make -C "$src/driver" KDIR="$KDIR" >"$TMPDIR/build.log" 2>&1
t_eq "module builds with W=1 -Werror against $KDIR" $? 0
t_check "no warning in the build log" sh -c "! grep -E 'warning:' $TMPDIR/build.log"
tail -n 5 "$TMPDIR/build.log"

ko=$src/driver/dmakit.ko
modinfo "$ko" >"$TMPDIR/modinfo" 2>&1
t_grep "licence GPL (it uses GPL-only DMA and PCI symbols)" '^license: +GPL$' "$TMPDIR/modinfo"
t_grep "matches QEMU's edu device" '^alias: +pci:v00001234d000011E8' "$TMPDIR/modinfo"
t_check "no fault switch in the production module (DMAKIT_FAULTS=1 test builds only)" \
	sh -c "! grep -Eq '^parm: +fault:' $TMPDIR/modinfo"
for p in sim sim_rate ring_nbufs ring_bufsize no_msi sim_xfer_us; do
	t_grep "parameter $p documented" "^parm: +$p:[a-z]" "$TMPDIR/modinfo"
done

"$TOP/scripts/checkpatch.sh" >"$TMPDIR/checkpatch.log" 2>&1
t_eq "checkpatch: no error, no warning" $? 0
sed 's/^/    /' "$TMPDIR/checkpatch.log" | head -n 20
t_done
