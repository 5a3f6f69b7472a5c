# timeout: 1200
# Guest half of bench/vm-record.sh (runs as a VM case): the same 256 KiB x
# 64 ring, the same raw virtio disk, in turn: fio, `dmakit record` from the
# userspace sim, `dmakit record` from the driver's sim card; then a drop
# run.  One "@@BENCH key=value..." line per measurement; CPU is the whole
# guest's busy time (/proc/stat), so each producer is counted wherever it
# runs (a thread of record, or the driver's kernel worker).
. /dmakit/lib.sh

size=${DMAKIT_BENCH_SIZE:-512M}
runs=${DMAKIT_BENCH_RUNS:-3}
mkdir -p /tools
mount -t ext2 -o ro /dev/vdc /tools || { echo "not ok - bench: no tools disk"; exit 1; }
fio() { /tools/lib/ld-linux-x86-64.so.2 --library-path /tools/lib /tools/fio "$@"; }
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
secs() { awk -v t="$(($2 - $1))" 'BEGIN { printf "%.2f", t / 100 }'; }	# USER_HZ

load_dmakit || exit 1
sim=$(card_dev sim)
s=$(card_sys "$sim")
echo 64 >"$s/ring_nbufs"; echo 262144 >"$s/ring_bufsize"; echo block >"$s/policy"; echo 0 >"$s/rate"
usim="sim:bufsize=256K,nbufs=64,policy=block,rate=max"
irqs() { awk '{ print $1 }' "$s/counters/interrupts"; }

for run in $(seq "$runs"); do
	c0=$(busy)
	fio --name=w --filename=/dev/vda --rw=write --bs=256k --size="$size" \
		--ioengine=io_uring --direct=1 --iodepth=8 --end_fsync=1 \
		--output-format=json >/tmp/fio.json 2>/tmp/fio.err
	rc=$?
	c1=$(busy)
	w=$(awk '/"write" *: *\{/ { w = 1 } w && /"(bw_bytes|io_bytes)"/ { gsub(/[^0-9]/, "", $3); printf "%s ", $3 } w && /"iops"/ { exit }' /tmp/fio.json)
	echo "@@BENCH tool=fio run=$run rc=$rc bytes=$(echo $w | cut -d' ' -f1) bytes_per_s=$(echo $w | cut -d' ' -f2) cpu_s=$(secs "$c0" "$c1")"

	c0=$(busy)
	dmakit record -d "$usim" -o /dev/vda --sidecar /tmp/u --size "$size" --json --quiet >/tmp/u.json
	rc=$?
	c1=$(busy)
	echo "@@BENCH tool=user-sim run=$run rc=$rc bytes_per_s=$(json_get /tmp/u.json bytes_per_s) bytes=$(json_get /tmp/u.json bytes) cpu_s=$(secs "$c0" "$c1") lost=$(json_get /tmp/u.json lost)"

	i0=$(irqs)
	c0=$(busy)
	dmakit record -d "$sim" -o /dev/vda --sidecar /tmp/k --size "$size" --json --quiet >/tmp/k.json
	rc=$?
	c1=$(busy)
	i1=$(irqs)
	echo "@@BENCH tool=kernel-sim run=$run rc=$rc bytes_per_s=$(json_get /tmp/k.json bytes_per_s) bytes=$(json_get /tmp/k.json bytes) cpu_s=$(secs "$c0" "$c1") irqs=$((i1 - i0)) lost=$(json_get /tmp/k.json lost)"
done
dmakit verify /dev/vda --sidecar /tmp/k >/dev/null
echo "@@BENCH tool=verify rc=$?"

# the card at full speed, policy drop: what a real card would lose
echo drop >"$s/policy"
i0=$(irqs)
d0=$(cat "$s/counters/drops")
dmakit record -d "$sim" -o /dev/vda --sidecar /tmp/d --size "$size" --json --quiet >/tmp/d.json
rc=$?
i1=$(irqs)
d1=$(cat "$s/counters/drops")
echo "@@BENCH tool=kernel-sim-drop rc=$rc bytes_per_s=$(json_get /tmp/d.json bytes_per_s) bytes=$(json_get /tmp/d.json bytes) irqs=$((i1 - i0)) lost=$(json_get /tmp/d.json lost) drops=$((d1 - d0))"
dmakit verify /dev/vda --sidecar /tmp/d >/dev/null
echo "@@BENCH tool=verify-drop rc=$?"
