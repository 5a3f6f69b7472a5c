# The `dmakit` SPEC without the driver: uprobes named like the driver's
# tracepoints (dmakit:dma_submit / dmakit:dma_complete) with its fields
# (id, bytes, status, channel, and dev as a string) fetched from a test
# library's arguments.
# Transfers are completed out of order on two channels: pairing must be by
# id, every transaction must match the program's record.
# timeout: 60
. "$TOP/tests/host/lib.bash"
. "$TOP/tests/host/trace_lib.bash"
need_tracing
[ -d "$TRACEFS/events/dmakit" ] && { t_check "no dmakit events exist yet (driver loaded?)" false; t_done; }
build_progs || { t_check "test programs build" false; t_done; }
P=$TMPDIR/progs
lib=$P/libseed.so

# file offset of a function: its address through the program headers
offset_of() {
	python3 - "$lib" "$1" <<'PY'
import subprocess, sys
lib, fn = sys.argv[1:3]
addr = None
for l in subprocess.run(["readelf", "-sW", lib], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if len(f) >= 8 and f[7] == fn and f[3] == "FUNC":
        addr = int(f[1], 16)
for l in subprocess.run(["readelf", "-lW", lib], capture_output=True, text=True).stdout.splitlines():
    f = l.split()
    if f and f[0] == "LOAD":
        off, va, fsz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if va <= addr < va + fsz:
            print(hex(addr - va + off)); sys.exit(0)
sys.exit(1)
PY
}
sub=$(offset_of dma_submit_id) && com=$(offset_of dma_complete_id)
t_eq "offsets found" "$?" 0
cleanup() {
	echo "-:dmakit/dma_submit" >>"$TRACEFS/uprobe_events" 2>/dev/null
	echo "-:dmakit/dma_complete" >>"$TRACEFS/uprobe_events" 2>/dev/null
}
trap cleanup EXIT
echo "p:dmakit/dma_submit $lib:$sub id=%di:u64 bytes=%si:u64 dev=+0(%dx):string channel=%cx:u32" \
	>>"$TRACEFS/uprobe_events"
echo "p:dmakit/dma_complete $lib:$com id=%di:u64 status=%si:s32 dev=+0(%dx):string channel=%cx:u32" \
	>>"$TRACEFS/uprobe_events"
t_check "stand-in tracepoints exist" test -e "$TRACEFS/events/dmakit/dma_complete/format"

start_tracer --start dmakit --end dmakit --interval 0 --events "$TMPDIR/ev.jsonl" \
	--summary-json "$TMPDIR/sum.json" || { t_check "tracer starts" false; t_done; }
"$P/seedapp" "$TMPDIR/gt.txt" ids:60
t_eq "program ran" "$?" 0
stop_tracer
t_eq "tracer exit status" "$TRACER_RC" 0
cat "$TMPDIR/tracer.out" "$TMPDIR/tracer.err"
t_eq "pairing by id" "$(json_get "$TMPDIR/sum.json" pairing)" id
t_eq "60 transactions" "$(json_get "$TMPDIR/sum.json" transactions)" 60
t_eq "no orphans" "$(json_get "$TMPDIR/sum.json" orphans)" 0
python3 - "$TMPDIR/gt.txt" "$TMPDIR/ev.jsonl" <<'PY'
import json, sys
gt = {}
for l in open(sys.argv[1]):
    i, b, a = map(int, l.split())
    gt[i] = (b, a)
bad, chans = 0, set()
ev = [json.loads(l) for l in open(sys.argv[2])]
for e in ev:
    b, a = gt.get(e.get("id"), (None, None))
    if b is None or not (b <= e["start_ns"] < e["end_ns"] <= a):
        print("wrong:", e); bad += 1
    if e["bytes"] != 4096 or e.get("status") != 0:
        print("fields:", e); bad += 1
    chans.add(e["chan"])
# the order of completion differs from submission: not FIFO
fifo_like = all(ev[i]["id"] < ev[i + 1]["id"] for i in range(len(ev) - 1))
print("%d transactions, %d problems, %d channels, in submit order: %s" %
      (len(ev), bad, len(chans), fifo_like))
sys.exit(1 if bad or len(ev) != len(gt) or len(chans) != 2 or fifo_like else 0)
PY
t_eq "ids, times, bytes, status, channels match" "$?" 0
t_check "session's objects removed" no_leftovers "$TRACER"
t_done
