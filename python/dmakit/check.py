# SPDX-License-Identifier: MIT
"""The strict consistency check the test suite runs on every recording it
makes (python3 -m dmakit check DATA [SIDECAR]): stricter than verify() on
form (every entry carries a CRC, the data file holds exactly the indexed
slots, the metadata's counts per kind and geometry match the index, a
finished format 2 index with a trailer), without reading the data."""
import os
import stat

import numpy as np

from .recording import ENGINES, F_CRC, F_HOST_CRC, RESULTS


class CheckError(Exception):
    pass


def check(rec):
    """Raise CheckError on the first inconsistency; return a summary dict."""
    h = rec.header
    e = rec.entries
    n = len(e)
    bs = rec.bufsize
    if rec.version != 2:
        raise CheckError("index version %d, expected 2" % rec.version)
    if int(h["header_size"]) != 256 or int(h["entry_size"]) != 64:
        raise CheckError("header/entry size %d/%d"
                         % (h["header_size"], h["entry_size"]))
    if not rec.header_ok:
        raise CheckError("header CRC mismatch")
    if bs % 4096 or not 4096 <= bs <= 64 << 20:
        raise CheckError("bad bufsize %d" % bs)
    if rec.torn_bytes:
        raise CheckError("index ends mid-entry")
    if rec.trailer is None:
        raise CheckError("no valid trailer at the end of the index")
    bad = np.nonzero(~rec.entry_crcs_ok())[0]
    if len(bad):
        raise CheckError("entry %d: CRC mismatch" % bad[0])
    off = np.nonzero(e["offset"] != np.arange(n, dtype=np.uint64) * bs)[0]
    if len(off):
        k = off[0]
        raise CheckError("entry %d: offset %d, expected %d"
                         % (k, e["offset"][k], k * bs))
    if (e["len"] > bs).any():
        k = np.nonzero(e["len"] > bs)[0][0]
        raise CheckError("entry %d: length %d" % (k, e["len"][k]))
    if (e["flags"] & F_CRC == 0).any():
        k = np.nonzero(e["flags"] & F_CRC == 0)[0][0]
        raise CheckError("entry %d: no CRC" % k)
    report = rec.verify(allow_dma_errors=True, check_data=False)
    if report.unaccounted or report.index_errors:
        raise CheckError(report.problems[0] if report.problems
                         else "index inconsistent")
    ln = e["len"]
    empty = int((ln == 0).sum())
    truncated = int(((ln > 0) & (ln < bs)).sum())
    meta = rec.meta
    t = rec.trailer
    engine = int(h["engine"])
    result = int(t["result"])
    for key, want in (("format", "dmakit-recording"), ("version", 2),
                      ("bufsize", bs), ("nbufs", int(h["nbufs"])),
                      ("buffers", n), ("bytes", report.bytes),
                      ("gaps", report.gaps), ("lost", report.lost),
                      ("empty", empty), ("truncated", truncated),
                      ("dma_errors", report.dma_errors),
                      ("stream_id", int(h["stream_id"])),
                      ("start_realtime_ns", int(h["start_realtime_ns"])),
                      ("engine", ENGINES[engine] if engine < 4 else "?"),
                      ("result", RESULTS[result] if result < 7 else "?"),
                      ("device", rec.device),
                      ("finished", True)):
        if meta.get(key) != want:
            raise CheckError("metadata %s=%r, expected %r"
                             % (key, meta.get(key), want))
    if int(h["stream_id"]) == 0:
        raise CheckError("stream id 0: read before the source started")
    if meta.get("dropped", -1) < 0 or meta.get("not_recorded", -1) < 0:
        raise CheckError("metadata drop counts missing")
    if n and (meta.get("first_seq") is None or
              meta["last_seq"] - meta["first_seq"] + 1 != n + report.lost):
        raise CheckError("metadata first/last seq do not span buffers + "
                         "lost")
    st = os.stat(rec.data_path)
    if stat.S_ISREG(st.st_mode) and st.st_size != n * bs:
        raise CheckError("data file is %d bytes, %d slots expected"
                         % (st.st_size, n))
    return {"entries": n, "bytes": report.bytes, "gaps": report.gaps,
            "lost": report.lost,
            "host_crcs": int((e["flags"] & F_HOST_CRC != 0).sum()),
            "empty": empty, "truncated": truncated,
            "dma_errors": report.dma_errors, "result": meta["result"],
            "first_seq": int(e["seq"][0]) if n else None,
            "last_seq": int(e["seq"][-1]) if n else None}
