#!/usr/bin/env bash
# DKMS install as docs/driver.md gives it: `make -C driver dkms-install
# KVER=` for Debian 12's 6.1 headers (not the running kernel) registers,
# builds and installs dmakit.ko for that kernel (dkms status, the module's
# vermagic and the production build: no fault parameter); `dkms-uninstall`
# removes it all.
# timeout: 2400
. "$TOP/tests/host/lib.bash"
need_root
command -v dkms >/dev/null || t_skip "dkms is not installed (scripts/setup.sh)"
hdr=$(ls -d /usr/src/linux-headers-6.1.*-amd64 2>/dev/null | sort -V | tail -n1)
[ -n "$hdr" ] || t_skip "no Debian 6.1 kernel headers (scripts/setup.sh installs linux-headers-amd64)"
kver=${hdr#/usr/src/linux-headers-}
# the version is the top Makefile's (tests/host/version.sh: nowhere else)
ver=$(sed -n 's/^VERSION *:= *//p' "$TOP/Makefile")
hold_system_install_lock ||
	{ t_check "another suite's install test ended within 25 min" false; t_done; }
# a user's own dmakit DKMS install is never touched
[ -z "$(dkms status -m dmakit 2>/dev/null)" ] && [ ! -e /usr/src/dmakit-$ver ] ||
	t_skip "a dmakit DKMS install exists on this machine already: left as it is"
trap 'make -s -C "$TOP/driver" dkms-uninstall >/dev/null 2>&1' EXIT

make -C "$TOP/driver" dkms-install KVER="$kver" >"$TMPDIR/install.log" 2>&1
rc=$?
t_eq "dkms-install KVER=$kver exits 0" "$rc" 0
[ "$rc" = 0 ] || tail -n 30 "$TMPDIR/install.log"
status=$(dkms status -m dmakit -v "$ver" -k "$kver")
echo "dkms status: $status"
t_check "dkms status: installed for $kver" grep -q "^dmakit/$ver, $kver, x86_64: installed" <<<"$status"
ko=$(ls /lib/modules/"$kver"/updates/dkms/dmakit.ko* 2>/dev/null | head -n1)
t_check "the module is in /lib/modules/$kver/updates/dkms ($ko)" test -n "$ko"
t_eq "  built for that kernel (vermagic)" "$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" "$kver"
t_eq "  the production build (no fault parameter)" "$(modinfo -F parm "$ko" | grep -c '^fault:')" 0
t_check "  modprobe finds it for $kver" sh -c "modprobe -n -S '$kver' dmakit"

make -C "$TOP/driver" dkms-uninstall >"$TMPDIR/uninstall.log" 2>&1
t_eq "dkms-uninstall exits 0" "$?" 0
t_eq "dkms knows no dmakit any more" "$(dkms status -m dmakit)" ""
t_check "the module is gone" test ! -e "$ko"
t_check "the sources in /usr/src are gone" test ! -e /usr/src/dmakit-$ver
trap - EXIT
t_done
