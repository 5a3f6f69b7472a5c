# timeout: 1500
# Guest half of bench/vm-ring-iommu.sh (runs as a VM case), the same in
# each of its boots (no IOMMU, intel-iommu lazy, intel-iommu strict):
#   map     edu's ring rebuilt from 64 x 16 KiB to 64 x 256 KiB (16 MiB to
#           allocate and map, 1 MiB unmapped) and back (16 MiB unmapped):
#           where an IOMMU costs (IOVA allocation, page-table writes,
#           IOTLB invalidation; strict flushes at each unmap)
#   edu     `dmakit record` of edu's ring (8 x 16 KiB) onto a raw virtio
#           disk: a PCI device's DMA through the mappings (edu's engine
#           takes 100 ms per DMA: the throughput is edu's; the CPU per GiB
#           is the ring's and the recorder's)
#   sim     the same from the driver's sim card (64 x 256 KiB, as fast as
#           it can): the ring core's own cost; a platform device, never
#           behind the IOMMU, so it shows what the boot itself costs
# One "@@BENCH key=value..." line per measurement; CPU is the whole guest's
# busy time (/proc/stat).
. /dmakit/lib.sh

mode=${DMAKIT_BENCH_MODE:-unknown}
simsize=${DMAKIT_BENCH_SIM:-64M}
edusize=${DMAKIT_BENCH_EDU:-256K}
reps=${DMAKIT_BENCH_REPS:-10}
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
secs() { awk -v t="$(($2 - $1))" 'BEGIN { printf "%.2f", t / 100 }'; }	# USER_HZ
# busybox's date has no %N: the uptime clock, 10 ms steps (a mean over
# --reps rebuilds averages the steps out)
now_us() { awk '{ printf "%.0f\n", $1 * 1e6 }' /proc/uptime; }

load_dmakit || exit 1
bdf=$(edu_bdf)
grp=$(readlink -f "/sys/bus/pci/devices/$bdf/iommu_group" 2>/dev/null)
domain=$(cat "$grp/type" 2>/dev/null || echo none)
strict=0
grep -q "iommu.strict=1" /proc/cmdline && strict=1
echo "@@BENCH what=boot mode=$mode domain=$domain strict=$strict"

edu=$(card_dev edu)
s=$(card_sys "$edu")
for i in $(seq "$reps"); do
	echo 64 >"$s/ring_nbufs"
	t0=$(now_us)
	echo 262144 >"$s/ring_bufsize"
	rc1=$?
	t1=$(now_us)
	echo 16384 >"$s/ring_bufsize"
	rc2=$?
	t2=$(now_us)
	echo 8 >"$s/ring_nbufs"
	echo "@@BENCH what=map mode=$mode run=$i rc=$((rc1 | rc2)) grow_us=$((t1 - t0)) shrink_us=$((t2 - t1))"
done

c0=$(busy)
dmakit record -d "$edu" -o /dev/vda --sidecar /tmp/edu --force --size "$edusize" --json -q >/tmp/edu.json
rc=$?
c1=$(busy)
echo "@@BENCH what=edu mode=$mode rc=$rc bytes=$(json_get /tmp/edu.json bytes) bytes_per_s=$(json_get /tmp/edu.json bytes_per_s) cpu_s=$(secs "$c0" "$c1") lost=$(json_get /tmp/edu.json lost)"

sim=$(card_dev sim)
s=$(card_sys "$sim")
set_ring 64 262144 block 0 || echo "@@BENCH what=sim mode=$mode rc=1 (ring geometry refused)"
for i in $(seq 3); do
	c0=$(busy)
	dmakit record -d "$sim" -o /dev/vda --sidecar /tmp/sim --force --size "$simsize" --json -q >/tmp/sim.json
	rc=$?
	c1=$(busy)
	echo "@@BENCH what=sim mode=$mode run=$i rc=$rc bytes=$(json_get /tmp/sim.json bytes) bytes_per_s=$(json_get /tmp/sim.json bytes_per_s) cpu_s=$(secs "$c0" "$c1") lost=$(json_get /tmp/sim.json lost)"
done
unload_dmakit
echo "@@BENCH what=done mode=$mode"
