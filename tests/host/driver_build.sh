#!/usr/bin/env bash
# timeout: 1200
# dmakit.ko builds against the headers of each kernel it claims (Debian
# 12's 6.1 and 6.12, tests/vm/kernels.sh) with W=1 and no warning at all,
# passes checkpatch, and describes itself (modinfo).  The test build
# (DMAKIT_FAULTS=1) is built the same way by the VM suite for each kernel.
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/vm/kernels.sh"

# scripts/setup.sh installs both kernels' headers with the VM packages;
# without any, this machine is not set up for the driver
have=0
for k in $STOCK_KERNELS; do
	kernel_setup "$k" && have=1
done
[ $have = 1 ] || t_skip "no kernel headers to build against (scripts/setup.sh installs them)"
command -v perl >/dev/null || t_skip "perl missing (checkpatch.pl)"

for k in $STOCK_KERNELS; do
	if ! kernel_setup "$k"; then
		t_check "$k: headers installed ($KERNEL_MISSING)" false
		continue
	fi
	src=$TMPDIR/$k
	mkdir -p "$src/driver" "$src/include/uapi/dmakit"
	cp "$TOP"/driver/Kbuild "$TOP"/driver/Makefile "$TOP"/driver/*.[ch] "$src/driver/"
	cp "$TOP"/include/uapi/dmakit/*.h "$src/include/uapi/dmakit/"
	cp "$TOP/Makefile" "$src/"	# driver/Makefile takes VERSION from it
	nice make -j"$(nproc)" -C "$src/driver" KDIR="$KDIR" >"$src/build.log" 2>&1
	t_eq "$k: the module builds with W=1 -Werror against $KDIR" $? 0
	t_check "$k: no warning in the build's log" sh -c "! grep -E 'warning:' $src/build.log"
	tail -n 3 "$src/build.log"
	ko=$TMPDIR/$k/driver/dmakit.ko
	modinfo "$ko" >"$TMPDIR/modinfo" 2>&1
	t_grep "$k: vermagic $KVER" "^vermagic: +$(printf '%s' "$KVER" | sed 's/[.+]/\\&/g') " "$TMPDIR/modinfo"
	t_grep "$k: version $(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile"), the Makefile's" \
		"^version: +$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile" | sed 's/[.]/\\./g')\$" "$TMPDIR/modinfo"
	t_grep "$k: licence GPL (it uses GPL-only DMA and PCI symbols)" '^license: +GPL$' "$TMPDIR/modinfo"
	t_grep "$k: matches QEMU's edu device" '^alias: +pci:v00001234d000011E8' "$TMPDIR/modinfo"
	t_check "$k: no fault switch in the production module (DMAKIT_FAULTS=1 test builds only)" \
		sh -c "! grep -Eq '^parm: +fault:' $TMPDIR/modinfo"
	for p in sim_xdma_bad_desc sim_xdma_bad_data sim_xdma_stall sim_xdma_vanished; do
		t_check "$k: no $p switch in the production module (test builds only)" \
			sh -c "! grep -Eq '^parm: +$p:' $TMPDIR/modinfo"
	done
	for p in sim sim_rate ring_nbufs ring_bufsize no_msi sim_xfer_us xfer_pin_mb \
		 sim_xdma sim_xdma_mm sim_xdma_channels sim_xdma_vectors; do
		t_grep "$k: parameter $p documented" "^parm: +$p:[a-z]" "$TMPDIR/modinfo"
	done
done

# `make driver` for a kernel without headers (the running kernel of a
# machine that has other kernels' headers) stops and says which kernels
# have headers; it never builds for one of them by guess
src=$TMPDIR/noheaders
mkdir -p "$src/driver" "$src/include/uapi/dmakit"
cp "$TOP"/driver/Kbuild "$TOP"/driver/Makefile "$TOP"/driver/*.[ch] "$src/driver/"
cp "$TOP"/include/uapi/dmakit/*.h "$src/include/uapi/dmakit/"
cp "$TOP/Makefile" "$src/"
make -C "$src/driver" KVER=0.0.0-nosuch >"$TMPDIR/noheaders.log" 2>&1
t_eq "a kernel without headers: make fails" $? 2
t_grep "it names the kernel and the package" \
	"no headers for kernel 0.0.0-nosuch .*|apt-get install linux-headers-0.0.0-nosuch" "$TMPDIR/noheaders.log"
kernel_setup "${STOCK_KERNELS%% *}" &&
	t_grep "it lists the kernels that have headers ($KVER)" \
		"headers found for: .*$(printf '%s' "$KVER" | sed 's/[.+]/\\&/g')" "$TMPDIR/noheaders.log"
t_check "and builds nothing" test ! -e "$src/driver/dmakit.ko"
sed 's/^/    /' "$TMPDIR/noheaders.log" | head -n 5

"$TOP/scripts/checkpatch.sh" >"$TMPDIR/checkpatch.log" 2>&1
t_eq "checkpatch: no error, no warning" $? 0
sed 's/^/    /' "$TMPDIR/checkpatch.log" | head -n 20
t_done
