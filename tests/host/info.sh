# dmakit info: the virtio disk's PCI function, its vectors as sysfs and
# /proc/interrupts have them; listing; JSON; errors.
# timeout: 60
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"

bdf=$(root_disk_bdf) || t_skip "root filesystem is not on a PCI block device"

"$DMAKIT" info >"$TMPDIR/list" 2>&1
t_eq "info lists devices" "$?" 0
t_grep "list has the disk's function" "^$bdf " "$TMPDIR/list"
driver=$(basename "$(readlink "/sys/bus/pci/devices/$bdf/driver")")
t_grep "list shows its driver" "^$bdf .*$driver" "$TMPDIR/list"

"$DMAKIT" info "$bdf" --json >"$TMPDIR/info.json"
t_eq "info BDF --json exits 0" "$?" 0
t_eq "json bdf" "$(json_get "$TMPDIR/info.json" bdf)" "$bdf"
t_eq "json driver" "$(json_get "$TMPDIR/info.json" driver)" "$driver"
t_eq "json vendor" "$(json_get "$TMPDIR/info.json" vendor)" \
	"$(sed 's/^0x//' "/sys/bus/pci/devices/$bdf/vendor")"
t_eq "json dma mask" "$(json_get "$TMPDIR/info.json" dma_mask_bits)" \
	"$(cat "/sys/bus/pci/devices/$bdf/dma_mask_bits")"

# every msi_irqs entry is a vector, with its /proc/interrupts name and count
want=$(ls "/sys/bus/pci/devices/$bdf/msi_irqs" | sort -n | tr '\n' ' ')
got=$(python3 -c 'import json,sys
print(" ".join(str(v["irq"]) for v in json.load(open(sys.argv[1]))["vectors"]) + " ")' \
	"$TMPDIR/info.json")
t_eq "vectors are the msi_irqs" "$got" "$want"
python3 - "$TMPDIR/info.json" <<'PY'
import json, sys
info = json.load(open(sys.argv[1]))
proc = {}
for line in open("/proc/interrupts"):
    f = line.split(":", 1)
    if f[0].strip().isdigit():
        proc[int(f[0])] = line
bad = 0
for v in info["vectors"]:
    line = proc[v["irq"]]
    if v["name"] not in line:
        print("name %s not in %r" % (v["name"], line)); bad = 1
    ncpu = len(open("/proc/interrupts").readline().split())
    count = sum(int(x) for x in line.split(":", 1)[1].split()[:ncpu])
    # read after us: only ever larger
    if count < v["count"]:
        print("count %d > /proc %d" % (v["count"], count)); bad = 1
    if v["kind"] not in ("MSI-X", "MSI", "INTx"):
        bad = 1
sys.exit(bad)
PY
t_eq "names and counts match /proc/interrupts" "$?" 0

"$DMAKIT" info "$bdf" >"$TMPDIR/text"
t_grep "text shows vectors" "MSI" "$TMPDIR/text"
t_grep "text shows the driver" "driver +$driver" "$TMPDIR/text"

"$DMAKIT" info 0000:ff:1f.7 2>"$TMPDIR/err"
t_eq "unknown device exits 1" "$?" 1
t_grep "unknown device is explained" "no PCI device 0000:ff:1f.7" "$TMPDIR/err"
"$DMAKIT" info --bogus 2>"$TMPDIR/err"
t_eq "bad option exits 2" "$?" 2
t_done
