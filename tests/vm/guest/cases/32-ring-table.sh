# timeout: 240
# The streaming ring on an engine shaped like real IP: the simulated card
# with sim_stream_table=1 keeps its own descriptor table, written by the
# driver from each buffer's mapped scatter-gather list, and reports filled
# buffers through dmakit_stream_complete() without a sequence counter of
# its own (the core numbers them, counting what the engine lost).  The
# ring must be exactly what 30-ring checks on the record-writing engine:
# every byte and CRC (the payload is a function of the engine's own
# count, so a numbering off by one fails), gaps under policy drop,
# consumers, restart, zero-copy I/O; and a recording verifies.
. /dmakit/lib.sh

load_dmakit sim_stream_table=1
t_eq "table mode on" "$(cat /sys/module/dmakit/parameters/sim_stream_table)" Y
sim=$(card_dev sim)
vm_ring "$sim" /dev/vda
t_eq "vm_ring on the table engine" $? 0
sim=$(card_dev sim)
s=$(card_sys "$sim")
t_check "sim card back after rebind" test -e "$s"

# pausable, so that a gap would be the driver's fault, not the recorder's
echo block >"$s/policy"
t_eq "policy block" "$(cat "$s/policy")" block
dmakit record -d "$sim" -o /mnt/t1.dat --size 16M --json --quiet >/tmp/t1.json
t_eq "record 16 MiB" $? 0
t_eq "  result" "$(json_get /tmp/t1.json result)" complete
dmakit verify /mnt/t1.dat --json >/tmp/tv1.json
t_eq "verify" $? 0
t_eq "  payload checked word by word" "$(json_get /tmp/tv1.json payload_checked)" true
t_eq "  no gaps" "$(json_get /tmp/tv1.json gaps)" 0
rm -f /mnt/t1.*
t_eq "no DMA errors counted" "$(cat "$s/counters/errors" 2>/dev/null)" 0
t_check "rmmod" unload_dmakit
t_done
