# timeout: 150
# Removal with work in flight: rmmod is refused while the card is open;
# the PCI driver unbound with transactions queued and running fails them
# with ENODEV and the card comes back on bind; a device that reads
# all-ones (vanished) is detected and its waiters released; the simulated
# card unbound under a recording ends it device-error.
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

# the simulated card removed (platform unbind) under a recording: the
# recording ends device-error (exit 1, saying so), the part recorded
# verifies, and the card comes back on bind
sim=$(card_dev sim)
s=$(card_sys "$sim")
sub0=$(cat "$s/counters/submitted")
echo 65536 >"$s/ring_bufsize" && echo 2097152 >"$s/rate"	# 32 buffers/s
dmakit record -d "$sim" -o /mnt/gone.dat --size 64M --json >/tmp/gone.json 2>/tmp/gone.err &
rec=$!
t_check "recording from the sim card under way" \
	wait_for 60 sh -c "test \$(cat $s/counters/submitted) -gt $((sub0 + 8))"
echo dmakit-sim.0 >/sys/bus/platform/drivers/dmakit-sim/unbind
t_check "sim card unbound under the recording" test ! -e "$sim"
t_check "the recorder ends (60 s bound)" wait_for 60 sh -c "! kill -0 $rec 2>/dev/null"
wait $rec
t_eq "  exit 1" $? 1
t_eq "  result device-error" "$(json_get /tmp/gone.json result)" device-error
sed 's/^/  | /' /tmp/gone.err
t_check "  says which device failed and why" grep -qE "device [^ ]+: [A-Za-z]" /tmp/gone.err
t_check "  the part recorded has buffers" test "$(json_get /tmp/gone.json buffers)" -gt 0
dmakit verify /mnt/gone.dat >/dev/null
t_eq "  the part recorded verifies" $? 0
rm -f /mnt/gone.*
echo dmakit-sim.0 >/sys/bus/platform/drivers/dmakit-sim/bind
sim=$(card_dev sim)
t_check "sim card back on bind ($sim)" test -c "$sim"
t_check "rmmod" unload_dmakit
t_done
