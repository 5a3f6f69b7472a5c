# timeout: 150
# `dmakit trace` on the driver (issue 4 in the VM): the `dmakit` SPEC pairs
# dmakit:dma_submit with dmakit:dma_complete exactly, by id per card and
# channel (the edu card's transaction ids and both sim cards' ring positions
# overlap: only the card and channel keep them apart); and the edu card's
# own interrupt vector (`irq`) ends its transactions one by one, with the
# tracer's interrupt count equal to /proc/interrupts' delta.
. /dmakit/lib.sh
T=/sys/kernel/tracing

# 8-buffer rings: under swiotlb=force each ring holds its bounce slots
# for as long as it exists, and two 32 x 256 KiB rings fill the suite's
# 16 MiB pool, leaving edu nothing to map (EIO)
load_dmakit sim=2 ring_nbufs=8
edu=$(card_dev edu)
sim_a=$(ls -d /sys/class/dmakit/dmakit* | while read -r d; do
	[ "$(cat "$d/backend")" = sim ] && echo "/dev/${d##*/}"; done | sed -n 1p)
sim_b=$(ls -d /sys/class/dmakit/dmakit* | while read -r d; do
	[ "$(cat "$d/backend")" = sim ] && echo "/dev/${d##*/}"; done | sed -n 2p)
t_check "two sim cards and edu ($sim_a $sim_b $edu)" test -n "$sim_a" -a -n "$sim_b" -a -n "$edu"

# start a tracer in the background and wait until it says it is tracing
# (or has ended)
tracer_up() {
	grep -q 'tracing\.\.\.' /tmp/tr.err 2>/dev/null || ! kill -0 "$TRACER" 2>/dev/null
}
# --timeout 60s: an edu DMA takes 100 ms, and its end may reach the tracer
# seconds later in a guest starved by a loaded host (the default 1 s would
# call it unmatched; the timeout itself is tested on the host)
start_tracer() {
	# the redirections below truncate in the background child: until
	# then tracer_up would read the previous tracer's "tracing..."
	rm -f /tmp/tr.out /tmp/tr.err
	dmakit trace --timeout 60s "$@" >/tmp/tr.out 2>/tmp/tr.err &
	TRACER=$!
	wait_for 120 tracer_up && grep -q 'tracing\.\.\.' /tmp/tr.err && return 0
	cat /tmp/tr.err
	return 1
}

stop_tracer() {
	kill -INT "$TRACER"
	wait "$TRACER"
}

# --- 1. dmakit -> dmakit: exact pairing by id across cards and channels ---
start_tracer --start dmakit --end dmakit --interval 0 \
	--events /tmp/ev.jsonl --summary-json /tmp/sum.json
t_eq "tracer starts" $? 0
dmakit xfer -d "$edu" --from-host --size 1000 --count 5 -q >/dev/null
t_eq "5 edu transactions" $? 0
vm_consume "$sim_a" 12 >/dev/null
t_eq "12 buffers from the first sim card" $? 0
vm_consume "$sim_b" 12 >/dev/null
t_eq "12 buffers from the second sim card" $? 0
# no pause: stopping reads the buffers to the end
stop_tracer
t_eq "tracer exits 0 on SIGINT" $? 0
cat /tmp/tr.err | tail -n 3

# the default backend: BPF on Debian's kernels (they have BTF), so the
# driver's tracepoints are paired in the kernel here
case $(uname -r) in
*-amd64)
	grep '^dmakit trace: backend' /tmp/tr.err
	t_eq "auto picks the BPF backend on a Debian kernel" \
		"$(json_get /tmp/sum.json backend)" bpf ;;
esac
t_eq "pairing by id" "$(json_get /tmp/sum.json pairing)" id
t_eq "no orphan ends" "$(json_get /tmp/sum.json orphans)" 0
t_eq "no lost events" "$(json_get /tmp/sum.json lost_events)" 0
# a ring's stream may have submitted buffers beyond what was read when it
# stopped; those starts never end: no more than the ring holds
unmatched=$(json_get /tmp/sum.json unmatched_starts)
t_check "unmatched starts only from stopped rings ($unmatched)" test "$unmatched" -le 64
n=$(json_get /tmp/sum.json transactions)
t_check "every transaction traced ($n >= 5 + 12 + 12)" test "$n" -ge 29
# the edu transactions: 5 of 1000 bytes, status 0, each in its own pair
edu_ev=$(grep -c '"bytes":1000' /tmp/ev.jsonl)
t_eq "5 edu transactions of 1000 bytes in the events" "$edu_ev" 5
t_check "every event ends after it starts" awk '
	{ s = e = -1
	  if (match($0, /"start_ns":[0-9]+/)) s = substr($0, RSTART + 11, RLENGTH - 11) + 0
	  if (match($0, /"end_ns":[0-9]+/)) e = substr($0, RSTART + 9, RLENGTH - 9) + 0
	  if (s < 0 || e < s) bad = 1 }
	END { exit bad }' /tmp/ev.jsonl
# ring positions overlap between the two sim cards (both start at 0):
# pairing must not mix them, so every ring buffer pairs once
bufsize=$(cat "$(card_sys "$sim_a")/ring_bufsize")
ring_ev=$(grep -c "\"bytes\":$bufsize" /tmp/ev.jsonl)
t_check "both cards' ring buffers paired ($ring_ev >= 24)" test "$ring_ev" -ge 24

# --- 2. dmakit -> irq: the edu card's vector ends its transactions ---
bdf=$(edu_bdf)
irq_name=${edu##*/}
start_tracer --pci "$bdf" --start dmakit --end irq --interval 0 \
	--summary-json /tmp/sum2.json --events /tmp/ev2.jsonl
t_eq "irq tracer starts" $? 0
before=$(irq_count "$irq_name")
dmakit xfer -d "$edu" --to-host --size 2048 --count 6 -q >/dev/null
t_eq "6 edu transactions" $? 0
after=$(irq_count "$irq_name")
stop_tracer
t_eq "irq tracer exits 0" $? 0
t_eq "6 transactions ended by the vector" "$(json_get /tmp/sum2.json transactions)" 6
t_eq "one interrupt per transaction (no coalesced ends)" "$(json_get /tmp/sum2.json ends)" 0
t_eq "tracer's interrupt count = /proc/interrupts delta" \
	"$(json_get /tmp/sum2.json end_events)" "$((after - before))"
t_done
