#!/usr/bin/env bash
# Recording through the kernel driver against the userspace simulator and
# fio, inside one QEMU guest (Debian's kernel, TCG), in one invocation
# (results: docs/driver.md).
#
#   bench/vm-record.sh [--size 512M] [--runs 3] [--keep] [--kernel stock-6.1|stock-6.12]
#
# The guest (q35, 2 vCPUs, 1 GiB, no edu device) gets a raw 2 GiB virtio
# disk and a disk with fio and its libraries.  Each run, in turn, writes
# SIZE sequentially to the raw disk with:
#   fio         io_uring, O_DIRECT, 256 KiB blocks, iodepth 8 (the reference)
#   user-sim    dmakit record -d sim:bufsize=256K,nbufs=64,policy=block,rate=max
#   kernel-sim  dmakit record -d /dev/dmakit0 (the driver's sim card, same
#               ring, policy block, as fast as it can)
# then one kernel-sim run with policy drop (what a card at that speed would
# lose).  Reported: the median throughput of each and its ratio to fio's and
# to user-sim's; guest CPU seconds per GiB (whole guest: producers count
# wherever they run); the driver's interrupts per GiB; drops.
#
# Target (issue 3): kernel-sim throughput >= user-sim's (ratio >= 0.95 to
# allow for noise).  Exit 1 if it is missed or a recording fails to verify.
# TCG numbers are for ratios only: the emulator, not the disk, is the limit.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
VM=$TOP/tests/vm
OUT=$VM/out/bench
. "$TOP/bench/lib.sh"
. "$TOP/bench/vm/lib.sh"
size=512M
runs=3
keep=0
kernel=stock-6.1
while [ $# -gt 0 ]; do
	case $1 in
	--size) size=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	-h | --help) bench_help; exit 0 ;;
	*) echo "bench/vm-record.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
bench_vm_setup bench/vm-record.sh "$kernel" "$TOP/bench/vm/record-guest.sh" fio mke2fs

# fio and the libraries it links, on an ext2 image (too big for the initramfs)
tools=$OUT/tools
rm -rf "$tools"
mkdir -p "$tools/lib"
cp "$(command -v fio)" "$tools/fio"
ldd "$(command -v fio)" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }' |
	while read -r lib; do cp -L "$lib" "$tools/lib/"; done
mke2fs -q -F -t ext2 -d "$tools" "$OUT/tools.img" 160M

truncate -s 2G "$OUT/target.img"
truncate -s 64M "$OUT/scratch.img"
VM_APPEND="$BENCH_VM_APPEND DMAKIT_BENCH_SIZE=$size DMAKIT_BENCH_RUNS=$runs"
log=$OUT/console.log
t0=$(date +%s)
vm_boot "$OUT/initramfs.gz" "$log" 1800 "$OUT/target.img" "$OUT/scratch.img" "$OUT/tools.img" -- \
	-M q35 -m 1G -smp 2 -cpu max,la57=off -accel tcg,thread=multi || true
t1=$(date +%s)
echo "host: load after: $(cut -d' ' -f1-3 /proc/loadavg); the guest ran $((t1 - t0)) s"
[ "$keep" = 1 ] || rm -f "$OUT/target.img" "$OUT/scratch.img" "$OUT/tools.img"

bench_vm_finished bench/vm-record.sh "$log" '^@@BENCH tool=verify-drop' || exit 1
grep '^@@BENCH' "$log" | sed 's/^@@BENCH //' >"$OUT/results.txt"
python3 - "$OUT/results.txt" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
GiB = 1 << 30
def runs(tool):
    return [r for r in rows if r["tool"] == tool]
def med(values):
    values = list(values)
    return statistics.median(values) if values else 0.0
def per_gib(r, key):
    return float(r[key]) / float(r["bytes"]) * GiB
bw = {t: med(float(r["bytes_per_s"]) for r in runs(t)) for t in ("fio", "user-sim", "kernel-sim")}
print(f"{'tool':<12} {'MB/s':>8} {'vs fio':>7} {'vs user-sim':>12} {'guest CPU s/GiB':>16} {'irq/GiB':>8}")
for t in ("fio", "user-sim", "kernel-sim"):
    cpu = med(per_gib(r, "cpu_s") for r in runs(t))
    irq = med(per_gib(r, "irqs") for r in runs(t) if "irqs" in r)
    print(f"{t:<12} {bw[t] / 1e6:>8.1f} {bw[t] / bw['fio']:>7.2f} {bw[t] / bw['user-sim']:>12.2f} "
          f"{cpu:>16.2f} {(f'{irq:.0f}' if irq else '-'):>8}")
print("each run (MB/s):", ", ".join(f"{r['tool']} {float(r['bytes_per_s']) / 1e6:.0f}"
                                    for r in rows if r["tool"] in bw))
d = runs("kernel-sim-drop")[0]
print(f"kernel-sim, policy drop, full speed: {float(d['bytes_per_s']) / 1e6:.1f} MB/s recorded, "
      f"{d['drops']} buffers dropped by the card, {d['lost']} lost inside the recording "
      f"(all accounted: verify {'ok' if runs('verify-drop')[0]['rc'] == '0' else 'FAILED'}), "
      f"{per_gib(d, 'irqs'):.0f} interrupts/GiB")
bad = [r for r in rows if r.get("rc", "0") != "0"]
for r in bad:
    print("failed:", " ".join(f"{k}={v}" for k, v in r.items()))
met = bw["kernel-sim"] >= 0.95 * bw["user-sim"]
print("target kernel-sim >= 0.95 x user-sim:", "met" if met else "MISSED")
sys.exit(0 if met and not bad else 1)
PY
