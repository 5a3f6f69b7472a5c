#!/usr/bin/env python3
"""Check dmakit trace's transactions against vendorapp's own record.

    trace_threads_check.py GT EVENTS MODE

GT: vendorapp's lines "tid func chan bytes phase before after"; EVENTS:
dmakit trace --events.  A transaction is right when its start and end are
in one thread, inside one call that thread made (the entry of the start
function after "before", the return of dma_wait before "after"), from
the start site of that call's function, with its bytes; no call is
claimed twice.  MODE "all": every call is a transaction.  MODE "loss": no
wrong transaction, and the calls of the slow phases (odd-numbered, after
each burst) are paired again: at least half of them (a channel that
waited for a quiet moment to resynchronise would pair none: its thread
never pauses).
"""
import bisect
import collections
import json
import sys

gt_path, ev_path, mode = sys.argv[1:4]
calls = collections.defaultdict(list)   # tid -> [(before, after, func, bytes, phase)]
per_phase = collections.Counter()
for line in open(gt_path):
    tid, func, chan, nbytes, phase, before, after = map(int, line.split())
    calls[tid].append((before, after, func, nbytes, phase))
    per_phase[phase] += 1
for v in calls.values():
    v.sort()
starts = {tid: [c[0] for c in v] for tid, v in calls.items()}

wrong = 0
claimed = set()
paired = collections.Counter()
n = 0
for line in open(ev_path):
    e = json.loads(line)
    n += 1
    why = None
    tid = e["tid"]
    if e["end_tid"] != tid:
        why = "start and end in different threads"
    elif tid not in calls:
        why = "a thread that made no call"
    else:
        i = bisect.bisect_right(starts[tid], e["start_ns"]) - 1
        if i < 0:
            why = "starts before the thread's first call"
        else:
            before, after, func, nbytes, phase = calls[tid][i]
            if not (before <= e["start_ns"] < e["end_ns"] <= after):
                why = "not inside the call (%d..%d)" % (before, after)
            elif e["start_site"] != func:
                why = "start site %d, the call was function %d" % (e["start_site"], func)
            elif e["bytes"] != nbytes:
                why = "bytes %s, the call moved %d" % (e["bytes"], nbytes)
            elif e.get("status") != 0:
                why = "status %s, dma_wait returned 0" % e.get("status")
            elif (tid, i) in claimed:
                why = "a second transaction for one call"
            else:
                claimed.add((tid, i))
                paired[phase] += 1
    if why:
        wrong += 1
        if wrong <= 5:
            print("wrong transaction (%s): %s" % (why, line.strip()))

total = sum(per_phase.values())
print("%d transactions, %d calls, %d wrong; paired per phase: %s of %s" %
      (n, total, wrong, dict(sorted(paired.items())), dict(sorted(per_phase.items()))))
ok = wrong == 0
if mode == "all":
    ok = ok and n == total
else:
    for phase in per_phase:
        if phase % 2 == 1 and paired[phase] < 0.5 * per_phase[phase]:
            print("phase %d: only %d of %d calls paired" % (phase, paired[phase], per_phase[phase]))
            ok = False
sys.exit(0 if ok else 1)
