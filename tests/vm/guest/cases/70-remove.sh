# timeout: 150
# Removal with work in flight: rmmod is refused while the card is open;
# the PCI driver unbound with transactions queued and running fails them
# with ENODEV and the card comes back on bind; a device that reads
# all-ones (vanished) is detected and its waiters released.
. /dmakit/lib.sh

load_dmakit
edu=$(card_dev edu)
bdf=$(edu_bdf)
exec 3<>"$edu"
t_check "rmmod refused while a file is open" sh -c '! rmmod dmakit 2>/dev/null'
exec 3>&-

vm_unplug "$edu" unbind "$bdf"
t_eq "unbind with transactions in flight" $? 0
t_check "bind again" sh -c "echo $bdf > /sys/bus/pci/drivers/dmakit/bind"
edu=$(card_dev edu)
t_check "edu card back ($edu)" test -c "$edu"
dmakit xfer -d "$edu" --from-host --size 500 --check -q
t_eq "and it works" $? 0

# the switch that makes registers read all-ones is in the test build only
t_check "the production module has no fake_vanished switch" \
	test ! -e "/sys/kernel/debug/dmakit/$bdf/fake_vanished"
DMAKIT_KO=$TEST_MOD load_dmakit
edu=$(card_dev edu)
vm_unplug "$edu" vanish "$bdf"
t_eq "all-ones reads detected, waiters released" $? 0
echo "$bdf" >/sys/bus/pci/drivers/dmakit/unbind
echo "$bdf" >/sys/bus/pci/drivers/dmakit/bind
edu=$(card_dev edu)
dmakit xfer -d "$edu" --to-host --size 500 --check -q
t_eq "rebinding recovers the card" $? 0
t_check "rmmod" unload_dmakit
t_done
