#!/usr/bin/env bash
# The streaming ring with and without an IOMMU translating the card's DMA,
# in one invocation: three QEMU guests (Debian's kernel, TCG, q35, 2 vCPUs,
# 256 MiB, edu behind a PCIe root port), the same guest script in each
# (bench/vm/ring-iommu-guest.sh; results: docs/driver.md):
#   none     no IOMMU (edu's pages are below its 28-bit mask: no bouncing)
#   lazy     intel-iommu, DMA domain, deferred IOTLB flushes (DMA-FQ)
#   strict   intel-iommu with iommu.strict=1 (flush at every unmap)
#
#   bench/vm-ring-iommu.sh [--sim 64M] [--edu 256K] [--reps 10] [--rounds 3]
#                          [--kernel stock-6.12]
#
# The three boots are made --rounds times, interleaved (none, lazy, strict,
# none, ...): a boot's speed under TCG varies more from one boot to the
# next than the IOMMU costs, and the host's load drifts.  Reported per
# configuration over all its boots, and as ratios to "none": the time to
# build and map a 16 MiB ring on edu and to unmap it (mean of every
# rebuild), edu's ring recorded onto a raw virtio disk (MB/s, guest CPU s
# per GiB; median), the sim card's ring the same (median of every run).  A ring maps its buffers once, when it is built, so
# an IOMMU should cost at build time and not per buffer: that is what the
# numbers check.  Exit 1 if a guest does not finish, a run fails, or a
# boot is not what it claims (edu's domain type).  TCG numbers are for
# ratios only.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
VM=$TOP/tests/vm
OUT=$VM/out/bench-ring-iommu
. "$TOP/bench/lib.sh"
. "$TOP/bench/vm/lib.sh"
simsize=64M
edusize=256K
reps=10
rounds=3
kernel=stock-6.12
while [ $# -gt 0 ]; do
	case $1 in
	--sim) simsize=$2; shift 2 ;;
	--edu) edusize=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--rounds) rounds=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	-h | --help) bench_help; exit 0 ;;
	*) echo "bench/vm-ring-iommu.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
bench_vm_setup bench/vm-ring-iommu.sh "$kernel" "$TOP/bench/vm/ring-iommu-guest.sh"
: >"$OUT/results.txt"
for round in $(seq "$rounds"); do for mode in none lazy strict; do
	args=(-M q35 -m 256M -smp 2 -cpu max,la57=off -accel tcg,thread=multi)
	append="$BENCH_VM_APPEND DMAKIT_BENCH_MODE=$mode DMAKIT_BENCH_SIM=$simsize DMAKIT_BENCH_EDU=$edusize DMAKIT_BENCH_REPS=$reps"
	case $mode in
	none) ;;
	lazy) args+=(-device intel-iommu,intremap=on); append+=" intel_iommu=on iommu.strict=0" ;;
	strict) args+=(-device intel-iommu,intremap=on); append+=" intel_iommu=on iommu.strict=1" ;;
	esac
	args+=(-device pcie-root-port,id=rp1,slot=1,chassis=1 -device edu,id=edu1,bus=rp1)
	# vda: the raw target (the sim's recording), vdb: the guest's /mnt
	truncate -s 16M "$OUT/d2.img" "$OUT/d3.img"
	truncate -s $(( $(numfmt --from=iec "$simsize") + (16 << 20) )) "$OUT/d1.img"
	log=$OUT/console-$mode-$round.log
	VM_APPEND=$append
	t0=$(date +%s)
	vm_boot "$OUT/initramfs.gz" "$log" 1800 "$OUT/d1.img" "$OUT/d2.img" "$OUT/d3.img" -- \
		"${args[@]}" || true
	echo "host: round $round, $mode: the guest ran $(($(date +%s) - t0)) s, load $(cut -d' ' -f1-3 /proc/loadavg)"
	rm -f "$OUT/d1.img" "$OUT/d2.img" "$OUT/d3.img"
	bench_vm_finished bench/vm-ring-iommu.sh "$log" "^@@BENCH what=done mode=$mode" "$mode" || exit 1
	grep '^@@BENCH what=' "$log" | sed 's/^@@BENCH //' >>"$OUT/results.txt"
done; done
python3 - "$OUT/results.txt" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
GiB = 1 << 30
modes = ["none", "lazy", "strict"]
bad = [r for r in rows if r.get("rc", "0") != "0"]
want = {"none": ("none", "0"), "lazy": ("DMA-FQ", "0"), "strict": ("DMA", "1")}
for r in rows:
    if r["what"] == "boot" and (r["domain"], r["strict"]) != want[r["mode"]]:
        bad.append(dict(r, problem="edu's domain is not what the boot claims"))
def med(what, mode, f):
    v = [f(r) for r in rows if r["what"] == what and r["mode"] == mode and r.get("rc", "0") == "0"]
    return statistics.median(v) if v else float("nan")
def mean(what, mode, f):
    v = [f(r) for r in rows if r["what"] == what and r["mode"] == mode and r.get("rc", "0") == "0"]
    return statistics.mean(v) if v else float("nan")
res = {}
for m in modes:
    res[m] = dict(
        grow=mean("map", m, lambda r: int(r["grow_us"]) / 1000),
        shrink=mean("map", m, lambda r: int(r["shrink_us"]) / 1000),
        edu_mbs=med("edu", m, lambda r: float(r["bytes_per_s"]) / 1e6),
        edu_cpu=med("edu", m, lambda r: float(r["cpu_s"]) / int(r["bytes"]) * GiB),
        sim_mbs=med("sim", m, lambda r: float(r["bytes_per_s"]) / 1e6),
        sim_cpu=med("sim", m, lambda r: float(r["cpu_s"]) / int(r["bytes"]) * GiB))
print("| boot | edu: build + map 16 MiB ring, ms | edu: unmap + free, ms | edu ring MB/s | edu guest CPU s/GiB | sim ring MB/s | sim guest CPU s/GiB |")
print("|---|---:|---:|---:|---:|---:|---:|")
for m in modes:
    v = res[m]
    print(f"| {m} | {v['grow']:.1f} | {v['shrink']:.1f} | {v['edu_mbs']:.4f} | {v['edu_cpu']:.0f} | {v['sim_mbs']:.0f} | {v['sim_cpu']:.2f} |")
print()
print("| boot / none | map | unmap | edu MB/s | edu CPU/GiB | sim MB/s | sim CPU/GiB |")
print("|---|---:|---:|---:|---:|---:|---:|")
base = res["none"]
for m in modes[1:]:
    v = res[m]
    print("| " + m + " | " + " | ".join(f"{v[k] / base[k]:.2f}" if base[k] else "-" for k in
                                      ("grow", "shrink", "edu_mbs", "edu_cpu", "sim_mbs", "sim_cpu")) + " |")
for r in bad:
    print("failed:", " ".join(f"{k}={v}" for k, v in r.items()))
sys.exit(1 if bad else 0)
PY
