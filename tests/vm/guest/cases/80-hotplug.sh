# timeout: 360
# Hot-unplug: the host removes the edu device (QEMU monitor device_del;
# ACPI hotplug on i440fx, a PCIe root port on q35) while transactions are
# queued and running.  Waiters get ENODEV, nothing hangs, the node goes,
# the rest of the driver carries on.  Runs last: the device stays gone.
. /dmakit/lib.sh

load_dmakit
edu=$(card_dev edu)
bdf=$(edu_bdf)
vm_unplug "$edu" hotplug edu1
t_eq "device_del with transactions in flight" $? 0
# the driver lets go first; the bus removes the function after ACPI's
# hot-removal, ~10 s on the debug kernel's i440fx boot on a quiet host
t_check "the PCI device is gone" wait_for 240 test ! -e "/sys/bus/pci/devices/$bdf"
vm_consume "$(card_dev sim)" 20 >/dev/null
t_eq "the simulated card still streams" $? 0
t_check "rmmod" unload_dmakit
t_done
