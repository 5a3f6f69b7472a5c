#!/usr/bin/env bash
# The XDMA model's C2H ring with one channel against four channels
# streaming at once, inside one QEMU guest (Debian's kernel, TCG), in one
# invocation (results: docs/driver.md, "The XDMA engine").
#
#   bench/vm-xdma-chan.sh [--total 256M] [--kernel stock-6.12]
#
# The guest (q35, 2 vCPUs, 512 MiB, no IOMMU) loads the model with four
# channels (sim_xdma_channels=4), rings of 16 x 256 KiB, rate 0 (as fast
# as it goes), policy block (nothing may be dropped), and records TOTAL
# bytes per channel to stdout into /dev/null: channel 0 alone, then
# channels 0..3 at once (bench/vm/xdma-chan-guest.sh).  Reported per run:
# MB/s and buffers/s (all channels together), the whole guest's CPU
# seconds per GiB, drops; and the ratios 4 channels / 1 channel.
#
# Exit 1 if a run fails, drops a buffer, or the guest does not finish.
# TCG numbers are for ratios only: the model's engines are the guest's
# CPUs, two of them.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
VM=$TOP/tests/vm
OUT=$VM/out/bench-xdma-chan
. "$TOP/bench/lib.sh"
. "$TOP/bench/vm/lib.sh"
total=256M
kernel=stock-6.12
while [ $# -gt 0 ]; do
	case $1 in
	--total) total=$2; shift 2 ;;
	--kernel) kernel=$2; shift 2 ;;
	-h | --help) bench_help; exit 0 ;;
	*) echo "bench/vm-xdma-chan.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
bench_vm_setup bench/vm-xdma-chan.sh "$kernel" "$TOP/bench/vm/xdma-chan-guest.sh"
VM_APPEND="$BENCH_VM_APPEND DMAKIT_BENCH_TOTAL=$total"
log=$OUT/console.log
bench_vm_boot "$log" 3000 -M q35 -m 512M -smp 2 -cpu max,la57=off -accel tcg,thread=multi
bench_vm_finished bench/vm-xdma-chan.sh "$log" '^@@BENCH channels=done' || exit 1
grep '^@@BENCH channels=[0-9]' "$log" | sed 's/^@@BENCH //' >"$OUT/results.txt"
python3 - "$OUT/results.txt" <<'PY'
import sys
rows = [dict(kv.split("=", 1) for kv in line.split()) for line in open(sys.argv[1])]
GiB = 1 << 30
print("| channels | bytes | MB/s | buffers/s | guest CPU s per GiB | drops |")
print("|---:|---:|---:|---:|---:|---:|")
by, bad = {}, []
for r in rows:
    b, k, secs, cpu = int(r["bytes"]), int(r["buffers"]), float(r["seconds"]), float(r["cpu_s"])
    if r["rc"] != "0" or not b or not secs or r["drops"] != "0":
        bad.append(r)
    v = dict(mbs=b / secs / 1e6 if secs else 0.0, bufs=k / secs if secs else 0.0,
             cpu_gib=cpu / b * GiB if b else 0.0)
    by[r["channels"]] = v
    print(f"| {r['channels']} | {b} | {v['mbs']:.0f} | {v['bufs']:.0f} | {v['cpu_gib']:.2f} | {r['drops']} |")
one, four = by.get("1"), by.get("4")
if one and four and one["mbs"] and one["cpu_gib"]:
    print()
    print("| ratio 4 channels / 1 channel | MB/s | buffers/s | guest CPU per GiB |")
    print("|---|---:|---:|---:|")
    print(f"| | {four['mbs'] / one['mbs']:.2f} | {four['bufs'] / one['bufs']:.2f} | "
          f"{four['cpu_gib'] / one['cpu_gib']:.2f} |")
for r in bad:
    print("failed:", " ".join(f"{k}={v}" for k, v in r.items()))
sys.exit(1 if bad or not (one and four) else 0)
PY
