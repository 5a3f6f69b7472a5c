# timeout: 600
# edu's streaming ring: a real PCI device's bus-mastering DMA fills the
# ring's buffers through their DMA mappings -- IOVAs behind intel-iommu,
# bounce buffers under swiotlb=force, the pages themselves on plain.
# `dmakit record` + `verify`, and every word of the data checked against
# edu's documented pattern by vm_edu_data (its own reading of the files):
# a stale or misplaced mapping shows as wrong data.  The counters agree
# with the recording; a stop mid-buffer and the driver unbound under a
# running recording end cleanly (no DMA left running: DMA-API debugging
# and KASAN on the debug kernel).
. /dmakit/lib.sh

load_dmakit
edu=$(card_dev edu)
s=$(card_sys "$edu")
bdf=$(edu_bdf)
bufsize=16384
# idle, or stopped by an earlier case (20-ioctl starts and stops it)
t_check "edu ring not running ($(cat "$s/state"))" grep -qxE 'idle|stopped' "$s/state"
t_eq "edu's default ring: 8 x 16 KiB" "$(cat "$s/ring_nbufs") $(cat "$s/ring_bufsize")" "8 $bufsize"

if [ "$DMAKIT_VM_CONFIG" = iommu ]; then
	# the ring's mappings are IOVAs: edu's IOMMU group translates DMA
	grp=$(readlink -f "/sys/bus/pci/devices/$bdf/iommu_group")
	t_check "edu in an IOMMU group ($grp)" test -d "$grp/devices/$bdf"
	t_check "  its domain translates DMA (type '$(cat "$grp/type" 2>/dev/null)')" \
		grep -qE '^DMA(-FQ)?$' "$grp/type"
	t_check "  strict invalidation (iommu.strict=1)" grep -q "iommu.strict=1" /proc/cmdline
fi
counter() { cat "$s/counters/$1"; }
c0=$(counter completed) b0=$(counter bytes) e0=$(counter errors) d0=$(counter drops)
uptime_cs() {	# the guest's uptime in 1/100 s
	local up frac
	read -r up _ </proc/uptime
	frac=${up#*.}
	echo $((${up%.*} * 100 + ${frac#0}))
}
t0=$(uptime_cs)
dmakit record -d "$edu" -o /mnt/edu1.dat --size 128K --json --quiet >/tmp/edu1.json
t_eq "record 8 buffers from edu's ring" $? 0
cs=$(($(uptime_cs) - t0))
echo "  128 KiB in $((cs * 10)) ms: $((128 * 100 / (cs + 1))) KiB/s (9 DMAs of 100 ms per 16 KiB buffer: ~18 KiB/s at best)"
t_eq "  result" "$(json_get /tmp/edu1.json result)" complete
t_eq "  buffers" "$(json_get /tmp/edu1.json buffers)" 8
dmakit verify /mnt/edu1.dat --json >/tmp/edu1v.json
t_eq "verify" $? 0
t_eq "  no gaps, nothing lost" "$(json_get /tmp/edu1v.json gaps) $(json_get /tmp/edu1v.json lost)" "0 0"
vm_edu_data /mnt/edu1.dat 8
t_eq "every word of the data is edu's pattern for its buffer" $? 0
done=$(($(counter completed) - c0))
t_check "the card completed the 8 recorded buffers ($done; at most the 2 in flight more)" \
	test "$done" -ge 8 -a "$done" -le 10
t_eq "  bytes: whole buffers" $(($(counter bytes) - b0)) $((done * bufsize))
t_eq "  no DMA error, nothing dropped" "$(($(counter errors) - e0)) $(($(counter drops) - d0))" "0 0"
t_eq "  ring stopped with the recording" "$(cat "$s/state")" stopped

# the checker is not fooled: two chunks of a buffer swapped, a buffer's
# chunk from the next buffer, a zeroed chunk
cp /mnt/edu1.dat /tmp/bad.dat && cp /mnt/edu1.dat.idx /tmp/bad.dat.idx
dd if=/mnt/edu1.dat of=/tmp/bad.dat bs=2048 skip=1 seek=0 count=1 conv=notrunc 2>/dev/null
t_check "vm_edu_data catches two chunks swapped" sh -c '! vm_edu_data /tmp/bad.dat 8 >/dev/null 2>&1'
cp /mnt/edu1.dat /tmp/bad.dat
dd if=/mnt/edu1.dat of=/tmp/bad.dat bs=2048 skip=8 seek=0 count=1 conv=notrunc 2>/dev/null
t_check "  a chunk of the next buffer" sh -c '! vm_edu_data /tmp/bad.dat 8 >/dev/null 2>&1'
cp /mnt/edu1.dat /tmp/bad.dat
dd if=/dev/zero of=/tmp/bad.dat bs=2048 seek=20 count=1 conv=notrunc 2>/dev/null
t_check "  a chunk never written" sh -c '! vm_edu_data /tmp/bad.dat 8 >/dev/null 2>&1'
rm -f /tmp/bad.dat /tmp/bad.dat.idx /mnt/edu1.*

# stopped by --duration mid-buffer (a buffer takes ~1 s): what was
# recorded is whole and right, and the engine is idle afterwards (the
# next recording starts from sequence 0 with the right data)
dmakit record -d "$edu" -o /mnt/edu2.dat --duration 3500ms --json --quiet >/tmp/edu2.json
t_eq "record stopped by --duration" $? 0
n2=$(json_get /tmp/edu2.json buffers)
t_check "  buffers recorded ($n2)" test "$n2" -ge 1
dmakit verify /mnt/edu2.dat >/dev/null
t_eq "  verify" $? 0
vm_edu_data /mnt/edu2.dat "$n2"
t_eq "  data checked" $? 0
t_check "  engine idle after the stop" sh -c "test \$(cat $s/state) = stopped"
dmakit xfer -d "$edu" --to-host --size 4095 --check -q
t_eq "a transaction after the stream stopped" $? 0
dmakit record -d "$edu" -o /mnt/edu3.dat --size 32K --quiet
t_eq "record again after the stop" $? 0
vm_edu_data /mnt/edu3.dat 2
t_eq "  data checked" $? 0
rm -f /mnt/edu2.* /mnt/edu3.*

# the driver unbound under a running recording (PCI remove, as a
# hot-unplug does, mid-buffer): the recording ends device-error, the part
# recorded is right, the card comes back on bind
sub0=$(counter submitted)
dmakit record -d "$edu" -o /mnt/gone.dat --size 1M --json >/tmp/gone.json 2>/tmp/gone.err &
rec=$!
t_check "recording from edu under way" \
	wait_for 120 sh -c "test \$(cat $s/counters/completed) -ge $(($(counter completed) + 2))"
echo "$bdf" >/sys/bus/pci/drivers/dmakit/unbind
t_check "edu unbound under the recording" test ! -e "$edu"
t_check "the recorder ends (60 s bound)" wait_for 60 sh -c "! kill -0 $rec 2>/dev/null"
wait $rec
t_eq "  exit 1" $? 1
t_eq "  result device-error" "$(json_get /tmp/gone.json result)" device-error
ng=$(json_get /tmp/gone.json buffers)
t_check "  buffers recorded before ($ng)" test "$ng" -ge 1
dmakit verify /mnt/gone.dat >/dev/null
t_eq "  the part recorded verifies" $? 0
vm_edu_data /mnt/gone.dat "$ng"
t_eq "  and its data is right" $? 0
rm -f /mnt/gone.*
echo "$bdf" >/sys/bus/pci/drivers/dmakit/bind
edu=$(card_dev edu)
t_check "edu card back on bind ($edu)" test -c "$edu"
dmakit record -d "$edu" -o /mnt/edu4.dat --size 32K --quiet
t_eq "  and its ring records" $? 0
vm_edu_data /mnt/edu4.dat 2
t_eq "  data checked" $? 0
rm -f /mnt/edu4.*
t_check "rmmod" unload_dmakit

# the device stops answering mid-buffer (the test build's fake_vanished:
# registers read all-ones, as after a surprise removal): the stream's
# watchdog notices, the buffer being filled is published flagged as a
# DMA error, nothing hangs; once it answers again the ring works again
DMAKIT_KO=$TEST_MOD load_dmakit
edu=$(card_dev edu)
s=$(card_sys "$edu")
c0=$(counter completed) e0=$(counter errors)
dmakit record -d "$edu" -o /mnt/v.dat --duration 10s --json --quiet >/tmp/v.json &
rec=$!
t_check "recording from edu's ring (test build)" \
	wait_for 120 sh -c "test \$(cat $s/counters/completed) -ge $((c0 + 1))"
echo Y >"/sys/kernel/debug/dmakit/$bdf/fake_vanished"
t_check "  registers read all-ones: the buffer being filled ends as a DMA error" \
	wait_for 60 sh -c "test \$(cat $s/counters/errors) -gt $e0"
t_check "  the recorder ends (--duration, 60 s bound)" wait_for 60 sh -c "! kill -0 $rec 2>/dev/null"
wait $rec
echo N >"/sys/kernel/debug/dmakit/$bdf/fake_vanished"
t_check "  it recorded the DMA error ($(json_get /tmp/v.json dma_errors))" \
	test "$(json_get /tmp/v.json dma_errors)" -ge 1
dmakit verify /mnt/v.dat --allow-dma-errors >/dev/null
t_eq "  verify --allow-dma-errors" $? 0
dmakit record -d "$edu" -o /mnt/v2.dat --size 32K --quiet
t_eq "the device answering again, the ring records" $? 0
vm_edu_data /mnt/v2.dat 2
t_eq "  data checked" $? 0
rm -f /mnt/v.* /mnt/v2.*
t_check "rmmod" unload_dmakit

# The checks above must catch a ring that gets the DMA API wrong where the
# platform makes it matter (the test build's faults, fault.h): buffers
# mapped DMA_TO_DEVICE -- the IOMMU maps them read-only and blocks edu's
# writes, swiotlb never copies the bounce buffer back; no sync for the
# CPU -- swiotlb leaves the data in the bounce buffer.  On plain (and
# no_sync behind the IOMMU, x86 being coherent) nothing shows: that is
# why this case runs in all three configurations.
fault_run() {	# fault_run FAULT: 0 if vm_edu_data accepted the recording
	local rc
	DMAKIT_KO=$TEST_MOD load_dmakit "fault=$1" || return 2
	dmakit record -d "$(card_dev edu)" -o /mnt/f.dat --size 32K --quiet || return 2
	vm_edu_data /mnt/f.dat 2 >/dev/null 2>&1
	rc=$?
	rm -f /mnt/f.*
	unload_dmakit
	return $rc
}
case $DMAKIT_VM_CONFIG in
plain)	want_dir=0 want_sync=0 ;;
iommu)	want_dir=1 want_sync=0 ;;
*)	want_dir=1 want_sync=1 ;;
esac
n0=$(dmesg | wc -l)
fault_run ring_wrong_dir
t_eq "fault=ring_wrong_dir: data check fails ($want_dir: 1 = caught)" $? $want_dir
if [ "$DMAKIT_VM_CONFIG" = iommu ]; then
	t_check "  the IOMMU blocked edu's writes (DMAR fault logged)" \
		sh -c "dmesg | tail -n +$((n0 + 1)) | grep -qE 'DMAR: \[DMA Write'"
fi
fault_run ring_no_sync
t_eq "fault=ring_no_sync: data check fails ($want_sync: 1 = caught)" $? $want_sync
t_done
