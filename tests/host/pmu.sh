# dmakit pmu and the PMU part of dmakit info on this machine: the listing
# agrees with /sys/bus/event_source/devices, the clear message when no
# PCIe/IO PMU exists, and the counting path with software events.
# (Detection and BDF mapping of uncore/Arm/HiSilicon PMUs: test_trace_pmu.)
# timeout: 120
. "$TOP/tests/host/lib.bash"
need_root

out=$TMPDIR/pmu.$$
"$DMAKIT" pmu >"$out" 2>&1
t_eq "pmu lists (exit 0)" "$?" 0
present=$(ls /sys/bus/event_source/devices | grep -E '^(uncore_iio|amd_df|amd_iommu|dwc_rootport_|hisi_pcie)' || true)
if [ -z "$present" ]; then
	t_grep "no PCIe PMU: said plainly" "none for PCIe/IO traffic on this machine" "$out"
else
	for p in $present; do
		t_grep "lists $p" "^$p " "$out"
	done
fi
"$DMAKIT" pmu --json >"$out.json"
t_eq "pmu --json exits 0" "$?" 0
t_eq "json lists what sysfs has" \
	"$(python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(open(sys.argv[1]))["pmus"]))' "$out.json")" \
	"$(echo $present)"

bdf=$(basename "$(ls -d /sys/bus/pci/devices/* | head -n 1)")
"$DMAKIT" info "$bdf" >"$out" 2>&1
t_grep "info BDF has a PMU section" "PMUs" "$out"
"$DMAKIT" info "$bdf" --json >"$out.json"
t_eq "info --json has a pmus array" \
	"$(python3 -c 'import json,sys; print(type(json.load(open(sys.argv[1]))["pmus"]).__name__)' "$out.json")" list
"$DMAKIT" pmu --pci ff:1f.7 >"$out" 2>&1
t_eq "pmu --pci of no device fails" "$?" 1

# counting: context switches while a load switches a lot, every 200 ms
( for _ in $(seq 1 400); do /bin/true; done ) &
load=$!
"$DMAKIT" pmu context-switches,task-clock --interval 200ms --duration 1.5 --json >"$out.json" 2>"$out"
rc=$?
wait $load
t_eq "pmu counting exits 0" "$rc" 0
python3 - "$out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))    # one object, also while counting
rows = doc["intervals"]
ok = doc["ok"] is True and len(rows) >= 3
prev = None
for r in rows:
    cs, tc = r["events"]
    ok &= cs["name"] == "context-switches" and tc["unit"] == "ns"
    ok &= cs["per_s"] >= 0 and tc["per_s"] > 0
    if prev:
        ok &= cs["total"] >= prev[0] and tc["total"] > prev[1]
        ok &= r["time_s"] > prev[2]
    prev = (cs["total"], tc["total"], r["time_s"])
ok &= prev is not None and prev[0] > 0
print(len(rows), "rows"); sys.exit(0 if ok else 1)
PY
t_eq "intervals of growing totals and positive rates" "$?" 0
"$DMAKIT" pmu page-faults --interval 100ms --duration 0.35 >"$out" 2>&1
t_grep "text columns name the event" "page-faults" "$out"
t_eq "text has a row per interval" "$(grep -cE '^[0-9]+\.[0-9]+ ' "$out")" 4

"$DMAKIT" pmu bogus >"$out" 2>&1
t_eq "an unknown event is bad usage" "$?" 2
"$DMAKIT" pmu uncore_iio_0/event=0x83/ >"$out" 2>&1
if [ -e /sys/bus/event_source/devices/uncore_iio_0 ]; then
	t_eq "a real IIO event opens" "$?" 0
else
	t_eq "a PMU this machine lacks fails" "$?" 1
	t_grep "... naming it" "no PMU 'uncore_iio_0' on this machine" "$out"
fi
"$DMAKIT" pmu task-clock --interval 0 >"$out" 2>&1
t_eq "interval 0 is bad usage" "$?" 2
"$DMAKIT" pmu task-clock --pci "$bdf" >"$out" 2>&1
t_eq "--pci with EVENT is bad usage" "$?" 2
rm -f "$out" "$out.json"
t_done
