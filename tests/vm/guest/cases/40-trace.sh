# timeout: 90
# Tracepoints: dmakit:dma_submit and dmakit:dma_complete fire for every
# transaction (channel 1) and every ring buffer (channel 0), with the
# same ids, in order, with bytes and status.
. /dmakit/lib.sh
T=/sys/kernel/tracing

load_dmakit
edu=$(card_dev edu)
sim=$(card_dev sim)
t_check "events exist" test -d $T/events/dmakit/dma_submit -a -d $T/events/dmakit/dma_complete
echo 0 >$T/tracing_on
echo >$T/trace
echo mono >$T/trace_clock
echo 1 >$T/events/dmakit/enable
echo 1 >$T/tracing_on
dmakit xfer -d "$edu" --from-host --size 1000 --count 3 -q >/dev/null
t_eq "three transactions" $? 0
pos=$(vm_consume "$sim" 20)
t_eq "twenty ring buffers" $? 0
echo 0 >$T/tracing_on
echo 0 >$T/events/dmakit/enable
cat $T/trace >/tmp/trace

# "EVENT DEV CHANNEL ID DIR BYTES STATUS TIMESTAMP" per event
awk '/ dma_(submit|complete): / {
	ts = ""; ev = ""
	for (i = 1; i <= NF; i++) {
		if ($i ~ /^[0-9]+\.[0-9]+:$/) ts = substr($i, 1, length($i) - 1)
		if ($i ~ /^dma_(submit|complete):$/) ev = substr($i, 1, length($i) - 1)
		if ($i ~ /=/) { split($i, kv, "="); f[kv[1]] = kv[2] }
	}
	print ev, f["dev"], f["channel"], f["id"], f["dir"], f["bytes"], f["status"], ts
}' /tmp/trace >/tmp/events

ev() { awk -v e="$1" -v d="$2" -v c="$3" '$1 == e && $2 == d && $3 == c' /tmp/events; }
edu_name=${edu##*/}
sim_name=${sim##*/}
t_eq "edu: 3 submits" "$(ev dma_submit "$edu_name" 1 | wc -l)" 3
t_eq "edu: 3 completes" "$(ev dma_complete "$edu_name" 1 | wc -l)" 3
t_eq "edu: same ids" "$(ev dma_submit "$edu_name" 1 | awk '{print $4}' | tr '\n' ' ')" \
	"$(ev dma_complete "$edu_name" 1 | awk '{print $4}' | tr '\n' ' ')"
t_eq "edu: completions carry 1000 bytes, from_host, status 0" \
	"$(ev dma_complete "$edu_name" 1 | awk '{print $5, $6, $7}' | sort -u)" "from_host 1000 0"
# each transaction ends after it starts, and they run one after another
t_check "edu: submit < complete < next submit" sh -c "
	ev() { awk -v e=\$1 -v d=$edu_name '\$1 == e && \$2 == d && \$3 == 1 {print \$8}' /tmp/events; }
	paste -d' ' /tmp/s /tmp/c >/dev/null 2>&1
	ev dma_submit >/tmp/s; ev dma_complete >/tmp/c
	paste -d' ' /tmp/s /tmp/c | awk 'NR > 1 && \$1 < prev { bad = 1 } \$2 <= \$1 { bad = 1 } { prev = \$2 } END { exit bad }'"

first=$(echo "$pos" | awk '{print $2}')
last=$(echo "$pos" | awk '{print $3}')
t_check "ring positions read ($first..$last)" test -n "$first" -a -n "$last"
bufsize=$(cat "$(card_sys "$sim")/ring_bufsize")
missing=0
for p in $(seq "$first" "$last"); do
	s=$(awk -v d="$sim_name" -v p="$p" '$1 == "dma_submit" && $2 == d && $3 == 0 && $4 == p' /tmp/events | wc -l)
	c=$(awk -v d="$sim_name" -v p="$p" -v b="$bufsize" '$1 == "dma_complete" && $2 == d && $3 == 0 && $4 == p && $6 == b && $7 == 0' /tmp/events | wc -l)
	[ "$s" = 1 ] && [ "$c" = 1 ] || missing=$((missing + 1))
done
t_eq "ring: one submit and one full-buffer complete per position read" "$missing" 0
t_done
