# timeout: 720
# Hot-unplug: the host removes the edu device (QEMU monitor device_del;
# ACPI hotplug on i440fx, a PCIe root port on q35) while transactions are
# queued and running.  Waiters get ENODEV, nothing hangs, the node goes,
# the rest of the driver carries on.  Then the host plugs a new edu in
# (device_add) and removes it again under a running recording from its
# ring, mid-buffer: the recording ends device-error with what it had, right.
# Runs last: the device stays gone.
. /dmakit/lib.sh

load_dmakit
edu=$(card_dev edu)
bdf=$(edu_bdf)
vm_unplug "$edu" hotplug edu1
t_eq "device_del with transactions in flight" $? 0
# the driver lets go first; the bus removes the function after ACPI's
# hot-removal, ~10 s on the debug kernel's i440fx boot on a quiet host
t_check "the PCI device is gone" wait_for 240 test ! -e "/sys/bus/pci/devices/$bdf"

# plug_edu ARGS: device_add ARGS until the new function has a card.  QEMU
# frees the old function's slot only when the guest has powered it off
# (pciehp) or ejected it (acpiphp), after the function left the bus; an
# add before that went to another device number of the root port's bus,
# where Linux never looks (a PCIe link has device 0 only), and nothing
# appeared in 240 s (debug kernel, iommu boot).  So on q35 the add names
# slot 0 (addr=0) and QEMU refuses it while the slot is taken (its answer
# is in the boot's console.log.monitor); a repeated add of one that did
# go in is refused as a duplicate id.
plug_edu() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		host_cmd device_add "$@"
		wait_for 30 card_dev edu >/dev/null && return 0
		echo "  no card $((i * 30)) s after device_add $i"
	done
	return 1
}
case $DMAKIT_VM_CONFIG in
plain)	bus= ;;
*)	bus=,bus=rp1,addr=0 ;;
esac
# unplug_under_recording: the new card removed while a recording runs
unplug_under_recording() {
	local edu s done0 rec n
	edu=$(card_dev edu)
	s=$(card_sys "$edu")
	done0=$(cat "$s/counters/completed")
	dmakit record -d "$edu" -o /mnt/hp.dat --size 1M --json >/tmp/hp.json 2>/tmp/hp.err &
	rec=$!
	t_check "  recording from its ring" \
		wait_for 120 sh -c "test \$(cat $s/counters/completed) -ge $((done0 + 2))"
	host_cmd device_del edu2
	t_check "device_del under the recording: the recorder ends (240 s bound)" \
		wait_for 240 sh -c "! kill -0 $rec 2>/dev/null"
	wait $rec
	t_eq "  exit 1" $? 1
	t_eq "  result device-error" "$(json_get /tmp/hp.json result)" device-error
	n=$(json_get /tmp/hp.json buffers)
	dmakit verify /mnt/hp.dat >/dev/null
	t_eq "  the part recorded ($n buffers) verifies" $? 0
	vm_edu_data /mnt/hp.dat 1
	t_eq "  and its data is right" $? 0
	rm -f /mnt/hp.*
	t_check "  the card is gone" wait_for 240 sh -c "! test -e $edu"
}
if plug_edu "edu,id=edu2$bus"; then
	echo "ok - a new edu plugged in (device_add) gets a card"
	unplug_under_recording
else
	# one failure, not the recording's checks failing after it
	t_check "a new edu plugged in (device_add) gets a card" false
fi
vm_consume "$(card_dev sim)" 20 >/dev/null
t_eq "the simulated card still streams" $? 0
t_check "rmmod" unload_dmakit
t_done
