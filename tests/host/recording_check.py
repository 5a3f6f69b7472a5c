#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Independent reader of a dmakit recording (include/dmakit/recording.h).

    recording_check.py DATA [SIDECAR_PREFIX]

Checks, without libdmakit, that the index header, entries and trailer
(format 2) are well formed (CRC32C of header, entries and trailer, slot
offsets, lengths, a CRC on every entry, the trailer's totals and its CRC
chained over every entry), that sequence numbers are continuous with the
lost counts, and that the metadata's totals, kinds of buffers, geometry,
engine and result agree with the index.  Data CRCs are left to 'dmakit
verify'.  Prints a JSON summary; exit 0 if consistent.
"""
import json
import os
import stat
import struct
import sys

HEADER = struct.Struct("<8s6I4Q112sIIQII7Q")
ENTRY = struct.Struct("<5Q6I")
TRAILER = struct.Struct("<8s5Q4I")
F_DMA_ERR = 1 << 1
F_CRC = 1 << 3
F_HOST_CRC = 1 << 16
RESULTS = ["complete", "interrupted", "disk-full", "io-error",
           "device-error", "source-ended", "recovered"]
ENGINES = ["uring", "pwrite", "buffered", "mmap"]


def crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


TABLE = crc32c_table()


def crc32c(data, crc=0):
    c = crc ^ 0xFFFFFFFF
    for b in data:
        c = TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def fail(msg):
    print("recording_check: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) not in (2, 3):
        fail("usage: recording_check.py DATA [SIDECAR_PREFIX]")
    data = sys.argv[1]
    prefix = sys.argv[2] if len(sys.argv) == 3 else data
    assert HEADER.size == 256 and ENTRY.size == 64 and TRAILER.size == 64
    with open(prefix + ".idx", "rb") as f:
        idx = f.read()
    with open(prefix + ".json") as f:
        meta = json.load(f)

    (magic, version, header_size, entry_size, bufsize, payload, flags,
     stream_id, clock_hz, start_rt, start_mono, device, nbufs, engine, _r1,
     hcrc, _r0, *_res) = HEADER.unpack_from(idx, 0)
    if magic != b"DMKIDX01" or version != 2:
        fail("bad magic/version %r %d" % (magic, version))
    if header_size != 256 or entry_size != 64:
        fail("header/entry size %d/%d" % (header_size, entry_size))
    if crc32c(idx[:192]) != hcrc:
        fail("header CRC mismatch")
    if bufsize % 4096 or not 4096 <= bufsize <= 64 << 20:
        fail("bad bufsize %d" % bufsize)
    if (len(idx) - 256) % 64:
        fail("index ends mid-entry")
    n = (len(idx) - 256) // 64 - 1
    if n < 0:
        fail("no trailer")
    traw = idx[256 + 64 * n:]
    (tmagic, t_buffers, t_bytes, t_first, t_last, t_stream, t_chain,
     t_result, _tr, t_crc) = TRAILER.unpack(traw)
    if tmagic != b"DMKEND02" or crc32c(traw[:60]) != t_crc:
        fail("no valid trailer at the end of the index")

    prev = first = None
    gaps = lost = nbytes = host_crcs = empty = truncated = dma_errors = 0
    chain = 0
    for k in range(n):
        raw = idx[256 + 64 * k:256 + 64 * (k + 1)]
        (seq, dev_ts, host_ts, elost, off, ln, eflags, crc, _r, write_us,
         ecrc) = ENTRY.unpack(raw)
        if crc32c(raw[:60]) != ecrc:
            fail("entry %d: CRC mismatch" % k)
        chain = crc32c(raw, chain)
        if off != k * bufsize:
            fail("entry %d: offset %d, expected %d" % (k, off, k * bufsize))
        if not 0 <= ln <= bufsize:
            fail("entry %d: length %d" % (k, ln))
        empty += ln == 0
        truncated += 0 < ln < bufsize
        dma_errors += bool(eflags & F_DMA_ERR)
        if not eflags & F_CRC:
            fail("entry %d: no CRC" % k)
        host_crcs += bool(eflags & F_HOST_CRC)
        if prev is not None:
            if seq != prev + 1 + elost:
                fail("entry %d: seq %d after %d with lost %d"
                     % (k, seq, prev, elost))
            if elost:
                gaps += 1
                lost += elost
        if first is None:
            first = seq
        prev = seq
        nbytes += ln

    if (t_buffers, t_bytes, t_stream, t_chain) != (n, nbytes, stream_id,
                                                   chain):
        fail("trailer totals/chain do not match the entries")
    if n and (t_first, t_last) != (first, prev):
        fail("trailer first/last seq do not match the entries")

    for key, want in (("format", "dmakit-recording"), ("version", 2),
                      ("bufsize", bufsize), ("nbufs", nbufs),
                      ("buffers", n),
                      ("bytes", nbytes), ("gaps", gaps), ("lost", lost),
                      ("empty", empty), ("truncated", truncated),
                      ("dma_errors", dma_errors),
                      ("stream_id", stream_id),
                      ("start_realtime_ns", start_rt),
                      ("engine", ENGINES[engine] if engine < 4 else "?"),
                      ("result", RESULTS[t_result] if t_result < 7 else "?"),
                      ("device", device.rstrip(b"\0").decode()),
                      ("finished", True)):
        if meta.get(key) != want:
            fail("metadata %s=%r, expected %r" % (key, meta.get(key), want))
    if stream_id == 0:
        fail("stream id 0: read before the source started")
    if meta.get("result") not in RESULTS:
        fail("metadata result %r" % meta.get("result"))
    if meta.get("engine") not in ENGINES:
        fail("metadata engine %r" % meta.get("engine"))
    if meta.get("dropped", -1) < 0 or meta.get("not_recorded", -1) < 0:
        fail("metadata drop counts missing")
    if n and (meta.get("first_seq") is None or
              meta["last_seq"] - meta["first_seq"] + 1 != n + lost):
        fail("metadata first/last seq do not span buffers + lost")
    st = os.stat(data)
    if stat.S_ISREG(st.st_mode) and st.st_size != n * bufsize:
        fail("data file is %d bytes, %d slots expected"
             % (st.st_size, n))
    print(json.dumps({"entries": n, "bytes": nbytes, "gaps": gaps,
                      "lost": lost, "host_crcs": host_crcs,
                      "empty": empty, "truncated": truncated,
                      "dma_errors": dma_errors,
                      "first_seq": first, "last_seq": prev,
                      "result": meta["result"]}))


if __name__ == "__main__":
    main()
