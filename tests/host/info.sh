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

# every PCI function of the machine, against lspci, sysfs and /proc
command -v lspci >/dev/null || t_skip "lspci is not installed (scripts/setup.sh)"
[ -s /usr/share/misc/pci.ids ] || t_skip "pci.ids is not installed (scripts/setup.sh)"
ndev=0
for dev in /sys/bus/pci/devices/*; do
	b=$(basename "$dev")
	ndev=$((ndev + 1))
	"$DMAKIT" info "$b" --json >"$TMPDIR/$b.json" &&
		"$DMAKIT" info "$b" >"$TMPDIR/$b.txt"
	t_eq "$b: info exits 0" "$?" 0
	python3 "$TOP/tests/host/info_lspci.py" "$b" "$TMPDIR/$b.json" "$TMPDIR/$b.txt"
	t_eq "$b: info agrees with lspci, sysfs and /proc/interrupts" "$?" 0
done
t_check "checked every PCI function ($ndev)" test "$ndev" -gt 0
t_grep "the disk's function names its block device and dev number" \
	"block device +[a-z0-9]+ \([0-9]+:[0-9]+; block tracepoints: dev == [0-9]+\)" \
	"$TMPDIR/$bdf.txt"

# without root the capability list is unreadable: unknown, not "none"
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$DMAKIT" info "$bdf" --json >"$TMPDIR/user.json" 2>"$TMPDIR/user.err"
	t_eq "info as an unprivileged user exits 0" "$?" 0
	t_eq "its MSI-X is unknown (null)" "$(json_get "$TMPDIR/user.json" msix)" None
	t_eq "its PCIe capability is unknown (null)" "$(json_get "$TMPDIR/user.json" pcie)" None
	t_eq "its BARs are still listed" "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bars"]))' "$TMPDIR/user.json")" \
		"$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["bars"]))' "$TMPDIR/info.json")"
fi

"$DMAKIT" info 0000:ff:1f.7 2>"$TMPDIR/err"
t_eq "unknown device exits 1" "$?" 1
t_grep "unknown device is explained" "no PCI device 0000:ff:1f.7" "$TMPDIR/err"
"$DMAKIT" info --bogus 2>"$TMPDIR/err"
t_eq "bad option exits 2" "$?" 2
# a malformed address is bad usage (2, no JSON); a well-formed absent one fails (1)
for bad in zz:zz.z 00:04.0x 0000:00:20.0 0000:00:04.8 17-00-0 00:04; do
	"$DMAKIT" info "$bad" --json >"$TMPDIR/out" 2>"$TMPDIR/err"
	t_eq "malformed address '$bad' exits 2" "$?" 2
	t_check "... no JSON for '$bad'" test ! -s "$TMPDIR/out"
	t_grep "... saying it is a bad address" "bad PCI address" "$TMPDIR/err"
done
"$DMAKIT" info "$(echo "$bdf" | tr a-f A-F)" -q
t_eq "an upper-case address is the same device" "$?" 0
t_done
