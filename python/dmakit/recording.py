# SPDX-License-Identifier: MIT
"""A dmakit recording (index format 2, and format 1 for reading) as numpy
arrays.  The layout is docs/record.md's; include/dmakit/recording.h is the
C definition.

    rec = dmakit.open("/data/run1.dat")
    rec.entries["host_ts"], rec.seq, rec.lost, rec.flags, rec.gaps
    for buf in rec:                  # in order, gaps visible (buf.lost)
        ...
    rec.buffer(k)                    # valid bytes of entry k (uint8 view)
    rec.samples()                    # whole data as the sample format
    report = rec.verify()            # CRCs, sequence, trailer, metadata
"""
import builtins
import collections
import json
import os
import stat
import time

import numpy as np

from .crc32c import crc32c, crc32c_bytes, crc32c_rows

IDX_MAGIC = b"DMKIDX01"
TRAILER_MAGIC = b"DMKEND02"
HEADER_SIZE = 256
ENTRY_SIZE = 64
TRAILER_SIZE = 64

# struct dmakit_idx_header (256 bytes, little endian)
HEADER_DTYPE = np.dtype([
    ("magic", "S8"), ("version", "<u4"), ("header_size", "<u4"),
    ("entry_size", "<u4"), ("bufsize", "<u4"), ("payload", "<u4"),
    ("flags", "<u4"), ("stream_id", "<u8"), ("dev_clock_hz", "<u8"),
    ("start_realtime_ns", "<u8"), ("start_mono_ns", "<u8"),
    ("device", "S112"), ("nbufs", "<u4"), ("engine", "<u4"),
    ("reserved1", "<u8"), ("header_crc32c", "<u4"),
    ("meta_fields", "u1", (60,))])
HEADER_CRC_BYTES = 192          # header_crc32c covers the bytes before it

# struct dmakit_idx_entry (64 bytes)
ENTRY_DTYPE = np.dtype([
    ("seq", "<u8"), ("dev_ts", "<u8"), ("host_ts", "<u8"), ("lost", "<u8"),
    ("offset", "<u8"), ("len", "<u4"), ("flags", "<u4"), ("crc32c", "<u4"),
    ("reserved0", "<u4"), ("write_us", "<u4"), ("entry_crc32c", "<u4")])

# struct dmakit_idx_trailer (64 bytes)
TRAILER_DTYPE = np.dtype([
    ("magic", "S8"), ("buffers", "<u8"), ("bytes", "<u8"),
    ("first_seq", "<u8"), ("last_seq", "<u8"), ("stream_id", "<u8"),
    ("entries_crc32c", "<u4"), ("result", "<u4"), ("meta_crc32c", "<u4"),
    ("trailer_crc32c", "<u4")])
# header flag: the trailer's meta_crc32c binds the metadata file's bytes
HDR_F_META_CRC = 1 << 0

assert HEADER_DTYPE.itemsize == HEADER_SIZE
assert ENTRY_DTYPE.itemsize == ENTRY_SIZE
assert TRAILER_DTYPE.itemsize == TRAILER_SIZE

# entry flags
F_GAP = 1 << 0          # lost buffers before this one
F_DMA_ERR = 1 << 1      # the source reported a DMA error
F_TRUNC = 1 << 2        # len < bufsize
F_CRC = 1 << 3          # crc32c is valid
F_HOST_CRC = 1 << 16    # crc32c computed by the recorder

PAYLOAD_SIM = 1
ENGINES = ["uring", "pwrite", "buffered", "mmap"]
RESULTS = ["complete", "interrupted", "disk-full", "io-error",
           "device-error", "source-ended", "recovered"]

# SigMF dataset formats (as given to record --sample-format): numpy type
# of one component and the number of components per sample.
_COMPONENT = {"f32": "f4", "f64": "f8", "i32": "i4", "i16": "i2",
              "u32": "u4", "u16": "u2", "i8": "i1", "u8": "u1"}


def sample_dtype(fmt):
    """numpy dtype of one sample of SigMF format @fmt (cf32_le, ri16_le,
    cu8, ...): complex formats are a structured (i, q) pair, except cf32
    and cf64 which are numpy complex types."""
    kind, rest = fmt[:1], fmt[1:]
    comp, _, endian = rest.partition("_")
    if kind not in ("c", "r") or comp not in _COMPONENT or \
            endian not in ("", "le", "be") or \
            (endian == "" and comp not in ("i8", "u8")) or \
            (endian != "" and comp in ("i8", "u8")):
        raise ValueError("not a SigMF sample format: %r" % fmt)
    order = ">" if endian == "be" else "<"
    base = np.dtype(order + _COMPONENT[comp])
    if kind == "r":
        return base
    if comp in ("f32", "f64"):
        return np.dtype(order + ("c8" if comp == "f32" else "c16"))
    return np.dtype([("i", base), ("q", base)])


class FormatError(Exception):
    """The files are not a readable dmakit recording."""


Buffer = collections.namedtuple(
    "Buffer", "index seq lost host_ts dev_ts flags data")
Buffer.__doc__ = """One recorded buffer: entry @index, its sequence
number, @lost buffers dropped just before it (a gap if > 0 after the
first), timestamps, flags and its valid bytes (uint8 array)."""


class Report:
    """What verify() found; ok is True only if nothing is wrong."""

    def __init__(self):
        self.buffers = self.bytes = self.gaps = self.lost = 0
        self.crc_errors = self.index_errors = self.unaccounted = 0
        self.dma_errors = self.empty = self.truncated = 0
        self.crcs_checked = 0
        self.finished = False
        self.problems = []

    def problem(self, msg):
        self.problems.append(msg)

    @property
    def ok(self):
        return (self.finished and not self.crc_errors and
                not self.index_errors and not self.unaccounted and
                not self.problems)

    def as_dict(self):
        d = {k: v for k, v in vars(self).items()}
        d["ok"] = self.ok
        return d


class Recording:
    """A recording: DATA (file or block device) and SIDECAR.idx/.json."""

    def __init__(self, data, sidecar=None):
        self.data_path = data
        self.sidecar = sidecar if sidecar is not None else data
        with builtins.open(self.sidecar + ".idx", "rb") as f:
            raw = f.read()
        if len(raw) < HEADER_SIZE:
            raise FormatError("%s.idx is shorter than its header"
                              % self.sidecar)
        self.header = np.frombuffer(raw, HEADER_DTYPE, 1)[0]
        if self.header["magic"] != IDX_MAGIC:
            raise FormatError("%s.idx is not a dmakit index" % self.sidecar)
        self.version = int(self.header["version"])
        if self.version not in (1, 2):
            raise FormatError("index version %d is not known"
                              % self.version)
        self.header_ok = crc32c_bytes(raw[:HEADER_CRC_BYTES]) == \
            int(self.header["header_crc32c"])
        self.bufsize = int(self.header["bufsize"])
        body = raw[HEADER_SIZE:]
        self.torn_bytes = len(body) % ENTRY_SIZE
        body = body[:len(body) - self.torn_bytes]
        records = np.frombuffer(body, np.uint8).reshape(-1, ENTRY_SIZE)
        self.trailer = None
        self.trailer_damaged = False
        if self.version >= 2 and len(records):
            last = records[-1]
            t = np.frombuffer(last.tobytes(), TRAILER_DTYPE, 1)[0]
            if t["magic"] == TRAILER_MAGIC and \
                    crc32c_bytes(last[:60].tobytes()) == \
                    int(t["trailer_crc32c"]):
                self.trailer = t
                records = records[:-1]
            elif _damaged_trailer(last.tobytes()):
                self.trailer_damaged = True
                records = records[:-1]
        self._records = records
        self.entries = np.frombuffer(records.tobytes(), ENTRY_DTYPE)
        self.meta_bytes = None
        try:
            with builtins.open(self.sidecar + ".json", "rb") as f:
                self.meta_bytes = f.read()
            self.meta = json.loads(self.meta_bytes.decode("utf-8"),
                                   object_pairs_hook=_no_duplicates)
        except FileNotFoundError:
            self.meta = {}
        self._data = None

    # --- arrays -----------------------------------------------------------
    def __len__(self):
        return len(self.entries)

    @property
    def seq(self):
        return self.entries["seq"]

    @property
    def lost(self):
        return self.entries["lost"]

    @property
    def flags(self):
        return self.entries["flags"]

    @property
    def lengths(self):
        return self.entries["len"]

    @property
    def timestamps(self):
        """Host CLOCK_MONOTONIC ns when each buffer completed."""
        return self.entries["host_ts"]

    @property
    def realtime_ns(self):
        """The same moments on the host's wall clock (ns since 1970)."""
        h = self.header
        return (self.entries["host_ts"].astype(np.int64) -
                np.int64(h["start_mono_ns"]) +
                np.int64(h["start_realtime_ns"]))

    @property
    def gaps(self):
        """Entry numbers preceded by lost buffers (the first entry's lost
        count is what was dropped before the recording: not a gap)."""
        g = np.nonzero(self.entries["lost"])[0]
        return g[g > 0]

    @property
    def dma_errors(self):
        return np.nonzero(self.entries["flags"] & F_DMA_ERR)[0]

    @property
    def sample_format(self):
        return self.meta.get("sample_format")

    @property
    def buffers(self):
        """Every slot as an (n, bufsize) uint8 array mapped from DATA
        (bytes past an entry's len are not data)."""
        n = len(self.entries)
        if n == 0:
            return np.zeros((0, self.bufsize), np.uint8)
        if self._data is None:
            self._data = np.memmap(self.data_path, np.uint8, "r",
                                   shape=(n * self.bufsize,))
        return self._data.reshape(n, self.bufsize)

    def buffer(self, k):
        """The valid bytes of entry @k."""
        return self.buffers[k, :int(self.entries["len"][k])]

    def samples(self, k=None):
        """Entry @k's valid samples (or, with no @k, all slots as one
        array) in the recording's sample format."""
        fmt = self.sample_format
        if not fmt:
            raise ValueError("the recording has no sample format "
                             "(record --sample-format)")
        dt = sample_dtype(fmt)
        if k is None:
            return self.buffers.reshape(-1).view(dt)
        b = self.buffer(k)
        return b[:len(b) - len(b) % dt.itemsize].view(dt)

    def __iter__(self):
        e = self.entries
        for k in range(len(e)):
            yield Buffer(k, int(e["seq"][k]), int(e["lost"][k]),
                         int(e["host_ts"][k]), int(e["dev_ts"][k]),
                         int(e["flags"][k]), self.buffer(k))

    def runs(self):
        """Contiguous runs as (first entry, end entry) pairs: a gap (lost
        buffers) starts a new run."""
        starts = [0] + [int(g) for g in self.gaps]
        ends = starts[1:] + [len(self.entries)]
        return [(s, e) for s, e in zip(starts, ends) if s < e]

    # --- checks -----------------------------------------------------------
    def entry_crcs_ok(self):
        """Per entry: its entry_crc32c matches its first 60 bytes."""
        if not len(self._records):
            return np.zeros(0, bool)
        got = crc32c_rows(self._records[:, :60])
        return got == self.entries["entry_crc32c"]

    def verify(self, allow_dma_errors=False, check_data=True):
        """Check header, entries, trailer, metadata and (with
        @check_data) every buffer's CRC, as 'dmakit verify' does (the sim
        payload pattern is left to it).  Returns a Report."""
        r = Report()
        e = self.entries
        n = len(e)
        bs = self.bufsize
        if not self.header_ok:
            r.index_errors += 1
            r.problem("index header CRC mismatch")
        if self.torn_bytes:
            r.index_errors += 1
            r.problem("index ends with a partial entry")
        ent_ok = self.entry_crcs_ok()
        slot_ok = (e["offset"] == np.arange(n, dtype=np.uint64) * bs) & \
            (e["len"] <= bs)
        good = ent_ok & slot_ok
        for k in np.nonzero(~ent_ok)[0][:10]:
            r.problem("index entry %d is corrupt (entry CRC mismatch)" % k)
        for k in np.nonzero(ent_ok & ~slot_ok)[0][:10]:
            r.problem("index entry %d: offset/length do not fit its slot"
                      % k)
        r.index_errors += int(n - good.sum())
        # sequence continuity, restarted after a bad entry
        seq = e["seq"].astype(object)
        prev = None
        first = last = None
        for k in range(n):
            if not good[k]:
                prev = None
                continue
            s, lost = int(seq[k]), int(e["lost"][k])
            if prev is not None:
                if s == prev + 1 + lost:
                    if lost:
                        r.gaps += 1
                        r.lost += lost
                elif s > prev + 1 + lost:
                    r.unaccounted += s - prev - 1 - lost
                    r.problem("entry %d: sequence jumps from %d to %d with "
                              "%d marked lost" % (k, prev, s, lost))
                else:
                    r.index_errors += 1
                    r.problem("entry %d: sequence %d after %d goes backwards"
                              % (k, s, prev))
            prev = s
            if first is None:
                first = s
            last = s
        good_e = e[good]
        r.buffers = n
        r.bytes = int(good_e["len"].sum())
        r.empty = int((good_e["len"] == 0).sum())
        r.truncated = int(((good_e["len"] > 0) &
                           (good_e["len"] < bs)).sum())
        r.dma_errors = int((good_e["flags"] & F_DMA_ERR != 0).sum())
        if r.dma_errors and not allow_dma_errors:
            r.problem("%d buffers flagged as DMA errors by the source"
                      % r.dma_errors)
        if check_data:
            self._verify_data(r, good)
        chain = crc32c(self._records[good].reshape(-1)) if good.any() else 0
        self._check_meta(r, first, last, chain)
        return r

    def _verify_data(self, r, good):
        e = self.entries
        n = len(e)
        bs = self.bufsize
        try:
            st = os.stat(self.data_path)
            size = st.st_size if stat.S_ISREG(st.st_mode) else None
        except OSError as err:
            r.crc_errors += n
            r.problem("cannot read %s: %s" % (self.data_path, err))
            return
        with builtins.open(self.data_path, "rb") as f:
            if size is None:            # a block device: its size
                size = f.seek(0, os.SEEK_END)
        have = np.minimum(np.maximum(size - e["offset"].astype(np.int64),
                                     0), bs)
        missing = good & (have < e["len"])
        r.crc_errors += int(missing.sum())
        for k in np.nonzero(missing)[0][:10]:
            r.problem("buffer seq %d (entry %d): data missing (%s ends "
                      "early)" % (e["seq"][k], k, self.data_path))
        check = good & ~missing & (e["flags"] & F_CRC != 0)
        if not check.any():
            return
        data = np.memmap(self.data_path, np.uint8, "r", shape=(size,))
        rows = np.nonzero(check)[0]
        bad = []
        full = rows[e["len"][rows] == bs]
        part = rows[e["len"][rows] != bs]
        per_batch = max(1, (32 << 20) // bs)
        for i in range(0, len(full), per_batch):
            ks = full[i:i + per_batch]
            blocks = np.stack([data[int(e["offset"][k]):
                                    int(e["offset"][k]) + bs] for k in ks])
            bad += list(ks[self._data_crcs(ks, blocks) != e["crc32c"][ks]])
        for k in part:
            off, ln = int(e["offset"][k]), int(e["len"][k])
            got = self._data_crcs(np.array([k]),
                                  data[off:off + ln].reshape(1, -1))
            if got[0] != e["crc32c"][k]:
                bad.append(k)
        r.crcs_checked += len(rows)
        r.crc_errors += len(bad)
        for k in sorted(bad)[:10]:
            r.problem("buffer seq %d (entry %d, offset %d): data CRC "
                      "mismatch" % (e["seq"][k], k, e["offset"][k]))

    def _data_crcs(self, ks, blocks):
        """Format 2: CRC32C of seq and offset (8 bytes each, little
        endian) then the data; format 1: of the data."""
        if self.version < 2:
            return crc32c_rows(blocks)
        prefix = np.zeros((len(ks), 16), np.uint8)
        prefix[:, :8] = self.entries["seq"][ks].astype("<u8") \
            .view(np.uint8).reshape(-1, 8)
        prefix[:, 8:] = self.entries["offset"][ks].astype("<u8") \
            .view(np.uint8).reshape(-1, 8)
        return crc32c_rows(blocks, crc32c_rows(prefix))

    def _check_trailer(self, r, first, last, chain):
        t = self.trailer
        if self.trailer_damaged:
            r.index_errors += 1
            r.problem("the trailer is corrupt (trailer CRC mismatch)")
            return
        if t is None:
            r.index_errors += 1
            r.problem("the index has no trailer: it was cut short or the "
                      "recording was not finished")
            return
        if (int(t["buffers"]) != r.buffers or int(t["bytes"]) != r.bytes or
                (r.buffers and (int(t["first_seq"]), int(t["last_seq"])) !=
                 (first, last)) or
                int(t["entries_crc32c"]) != chain or
                int(t["stream_id"]) != int(self.header["stream_id"])):
            r.index_errors += 1
            r.problem("the trailer does not match the entries")
        res = int(t["result"])
        name = RESULTS[res] if res < len(RESULTS) else "?"
        if self.meta.get("result") != name:
            r.index_errors += 1
            r.problem("metadata says result %s, the index trailer %s"
                      % (self.meta.get("result"), name))
        # the metadata's bytes as its recorder finished them (newer
        # recorders); an older one's metadata is not bound
        if int(self.header["flags"]) & HDR_F_META_CRC and \
                crc32c_bytes(self.meta_bytes or b"") != \
                int(t["meta_crc32c"]):
            r.index_errors += 1
            r.problem("the metadata is not the one its recorder finished "
                      "(its CRC32C is not the index trailer's): it was "
                      "edited")

    def _check_meta(self, r, first, last, chain):
        """The metadata against the index, as lib/record/verify.c does:
        identity fields and totals; a total short of what the metadata
        claims for "buffers" is unaccounted loss, any other difference an
        index error."""
        m = self.meta
        if m.get("format") != "dmakit-recording" or \
                not isinstance(m.get("result"), str):
            r.index_errors += 1
            r.problem("%s.json is not a dmakit recording's metadata"
                      % self.sidecar)
            return
        if m.get("result") == "recording":
            r.problem("the recording was not finished ('dmakit recover' "
                      "finishes it)")
            return
        r.finished = True
        h = self.header
        same = [("bufsize", self.bufsize),
                ("stream_id", int(h["stream_id"])),
                ("start_realtime_ns", int(h["start_realtime_ns"]))]
        if self.version >= 2:
            engine = int(h["engine"])
            same += [("nbufs", int(h["nbufs"])),
                     ("engine", ENGINES[engine] if engine < 4 else "?")]
        for key, have in same:
            if m.get(key) != have:
                r.index_errors += 1
                r.problem("metadata and index disagree on %s" % key)
        # the metadata's device is valid UTF-8 (ill-formed bytes became
        # U+FFFD); the header's is the raw string cut at 111 bytes
        raw = bytes(h["device"]).split(b"\0")[0][:111]
        cut = len(raw) == 111
        if cut:         # a sequence the cut split is not compared
            for k in range(1, min(3, len(raw)) + 1):
                c = raw[-k]
                if c & 0xC0 == 0x80:
                    continue
                need = 4 if c >= 0xF0 else 3 if c >= 0xE0 else \
                    2 if c >= 0xC0 else 1
                if need > k:
                    raw = raw[:-k]
                break
        have = raw.decode("utf-8", "replace")
        dev = str(m.get("device", ""))
        if (dev[:len(have)] if cut else dev) != have:
            r.index_errors += 1
            r.problem("metadata and index disagree on device")
        totals = [("buffers", r.buffers, True), ("bytes", r.bytes, False),
                  ("gaps", r.gaps, False), ("lost", r.lost, False)]
        if r.buffers and first is not None:
            totals += [("first_seq", first, False),
                       ("last_seq", last, False)]
        if self.version >= 2:
            totals += [("empty", r.empty, False),
                       ("truncated", r.truncated, False),
                       ("dma_errors", r.dma_errors, False)]
        for key, have, loss in totals:
            want = m.get(key)
            if not isinstance(want, int) or isinstance(want, bool):
                r.index_errors += 1
                r.problem("metadata has no valid \"%s\"" % key)
                continue
            if want == have:
                continue
            if loss and want > have:
                r.unaccounted += want - have
            else:
                r.index_errors += 1
            r.problem("metadata says %s=%d, the index has %d"
                      % (key, want, have))
        self._check_meta_fields(r)
        if self.version >= 2:
            self._check_trailer(r, first, last, chain)
        if self.trailer is not None:
            self._check_data_end(r)

    def _check_data_end(self, r):
        """A finished recording's data file holds its slots and nothing
        after them (the recorder and recover trim it)."""
        try:
            st = os.stat(self.data_path)
        except OSError:
            return
        end = len(self.entries) * self.bufsize
        if stat.S_ISREG(st.st_mode) and st.st_size > end:
            r.index_errors += 1
            r.problem("%s holds %d bytes after the recording's last slot"
                      % (self.data_path, st.st_size - end))

    def _check_meta_fields(self, r):
        """What the metadata says that the index header and entries check
        directly, as lib/record/verify.c's check_meta_fields() does; the
        rest is bound by the trailer's CRC of the metadata's bytes."""
        m, h = self.meta, self.header

        def bad(msg):
            r.index_errors += 1
            r.problem(msg)

        if m.get("version") != self.version:
            bad("metadata's version is not the index's (%d)" % self.version)
        if m.get("finished") is not True:
            bad("metadata says result %s but not finished true"
                % m.get("result"))
        for key, have in (("dev_clock_hz", int(h["dev_clock_hz"])),
                          ("start_mono_ns", int(h["start_mono_ns"])),
                          ("payload", "sim" if int(h["payload"]) == 1
                           else "none")):
            if m.get(key) != have:
                bad("metadata and index disagree on %s" % key)
        # format 1 recorders wrote no checkpoint and no end_realtime_ns
        v2 = self.version >= 2
        for key in ("dropped", "not_recorded") + \
                (("checkpoint_buffers",) if v2 else ()):
            if not _is_count(m.get(key)):
                bad("metadata has no valid \"%s\"" % key)
        ckpt = m.get("checkpoint_buffers")
        if _is_count(ckpt) and ckpt > r.buffers:
            bad("metadata says checkpoint_buffers=%d, more than the %d "
                "buffers of the index" % (ckpt, r.buffers))
        start, end = m.get("start_realtime_ns"), m.get("end_realtime_ns")
        if _is_count(start) and m.get("start_time") != _iso_time(start):
            bad("metadata's start_time is not the time it records")
        if not v2:
            pass
        elif not _is_count(end) or (_is_count(start) and end < start):
            bad("metadata has no valid \"end_realtime_ns\"")
        elif m.get("end_time") != _iso_time(end):
            bad("metadata's end_time is not the time it records")
        if "sample_format" in m:
            try:
                sample_dtype(str(m["sample_format"]))
            except ValueError:
                bad("metadata's sample_format is not a SigMF format")

    @property
    def device(self):
        """The device string as the metadata has it (cut at 111 bytes)."""
        return bytes(self.header["device"]).split(b"\0")[0].decode(
            "utf-8", "replace")

    def close(self):
        self._data = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _damaged_trailer(rec):
    """64 bytes that are a trailer with a flipped byte: not a valid entry,
    and the trailer's magic but for one byte at most (lib/record/verify.c)."""
    e = np.frombuffer(rec, ENTRY_DTYPE, 1)[0]
    if crc32c_bytes(rec[:60]) == int(e["entry_crc32c"]):
        return False
    return sum(a != b for a, b in zip(rec[:8], TRAILER_MAGIC)) <= 1


def _is_count(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _iso_time(ns):
    """The metadata's start_time / end_time for @ns (lib/record/meta.c)."""
    t = time.gmtime(ns // 10**9)
    return "%s.%03dZ" % (time.strftime("%Y-%m-%dT%H:%M:%S", t),
                         ns % 10**9 // 10**6)


def _no_duplicates(pairs):
    """json.loads hook: a key given twice is an error (lib/json.c)."""
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("metadata has \"%s\" more than once" % k)
        d[k] = v
    return d


def open(data, sidecar=None):     # noqa: A001 (the package's entry point)
    """Open the recording whose data is @data (sidecar prefix @sidecar,
    default @data)."""
    return Recording(data, sidecar)
