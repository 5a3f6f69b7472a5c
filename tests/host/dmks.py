#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent implementation of the dmakit stream wire format
(include/dmakit/stream.h) for tests: a raw-socket peer that can send
well-formed, truncated or garbage frames, and a minimal receiver.

  dmks.py send-garbage HOST PORT CASE    act as a (bad) sender
  dmks.py mock-recv PORTFILE OUT.json [--close-after N]
                                         accept one sender, check its frames

Written from the spec, not from the C code, so the two cross-check."""
import json
import socket
import struct
import sys

MAGIC = 0x534B4D44
VERSION = 1
HELLO, ACCEPT, BUF, DISCARD, STATS, END, FINAL = range(1, 8)
HDR_LEN = {HELLO: 256, ACCEPT: 128, BUF: 64, DISCARD: 32, STATS: 128,
           END: 128, FINAL: 128}
F_GAP, F_CRC = 1, 8

_T = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _T.append(_c)


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc = _T[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def payload(seq, nbytes):
    """The sim card's pattern (dmakit_payload_word)."""
    k1, k2, m = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, (1 << 64) - 1
    base = (seq * k1) & m
    return b"".join(struct.pack("<Q", base ^ (((w + 1) * k2) & m))
                    for w in range(nbytes // 8))


def frame(ftype, body, data_len=0, version=VERSION, magic=MAGIC,
          hdr_len=None, bad_crc=False):
    hl = HDR_LEN.get(ftype, 16 + len(body)) if hdr_len is None else hdr_len
    body = body.ljust(hl - 16, b"\0")[:max(hl - 16, 0)]
    common = struct.pack("<IBBHI", magic, version, ftype, hl, data_len)
    crc = crc32c(body, crc32c(common))
    if bad_crc:
        crc ^= 0x1
    return common + struct.pack("<I", crc) + body


def hello(bufsize, nbufs, flags=0, device=b"sim:mock"):
    body = struct.pack("<IIIIQQQ", bufsize, nbufs, 1, flags, 10**9, 42, 0)
    body += b"sim".ljust(16, b"\0") + device.ljust(128, b"\0")
    return frame(HELLO, body)


def buf(seq, data, lost=0, crc=True, crc_value=None):
    flags = (F_CRC if crc else 0) | (F_GAP if lost else 0)
    c = crc32c(data) if crc_value is None else crc_value
    body = struct.pack("<QQQQIII", seq, seq * 1000, seq * 1000, lost,
                       flags, c if crc else 0, 0)
    return frame(BUF, body, len(data)) + data


def end(buffers, nbytes, result=0):
    return frame(END, struct.pack("<QQQQQQQI", buffers, nbytes, 0, 0, 0,
                                  0, 0, result))


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(out), n))
        out += chunk
    return out


def read_frame(s):
    common = recv_exact(s, 16)
    magic, ver, ftype, hl, dlen, crc = struct.unpack("<IBBHII", common)
    if magic != MAGIC or ver != VERSION or HDR_LEN.get(ftype) != hl:
        raise ValueError("bad frame header %r" % common)
    body = recv_exact(s, hl - 16)
    if crc32c(body, crc32c(common[:12])) != crc:
        raise ValueError("bad header crc")
    return ftype, body, dlen


def send_garbage(host, port, case):
    """Connect as a sender and misbehave in one of several ways."""
    s = socket.create_connection((host, int(port)), timeout=10)
    bufsize, nbufs = 4096, 8
    good = [buf(i, payload(i, bufsize)) for i in range(3)]
    if case == "not-dmakit":
        s.sendall(b"GET / HTTP/1.0\r\n\r\n" + b"x" * 200)
    elif case == "bad-version":
        s.sendall(frame(HELLO, b"", version=9))
        # a receiver answers a bad HELLO with a rejecting ACCEPT
        ftype, body, _ = read_frame(s)
        status = struct.unpack("<i", body[:4])[0]
        print("ACCEPT status %d: %s" % (
            status, body[8:].rstrip(b"\0").decode()))
    else:
        s.sendall(hello(bufsize, nbufs))
        ftype, body, _ = read_frame(s)
        status = struct.unpack("<i", body[:4])[0]
        if ftype != ACCEPT or status != 0:
            print("rejected at HELLO: status %d" % status)
            return 1
        s.sendall(b"".join(good))
        if case == "garbage-after-3":
            s.sendall(bytes(range(256)) * 4)
        elif case == "truncated-header":
            s.sendall(buf(3, payload(3, bufsize))[:40])
        elif case == "truncated-data":
            s.sendall(buf(3, payload(3, bufsize))[:64 + 1000])
        elif case == "bad-data-crc":
            s.sendall(buf(3, payload(3, bufsize), crc_value=0x1234))
        elif case == "bad-header-crc":
            f = bytearray(buf(3, payload(3, bufsize)))
            f[20] ^= 0x40
            s.sendall(bytes(f))
        elif case == "seq-backwards":
            s.sendall(buf(1, payload(1, bufsize)))
        elif case == "lost-wraps":    # 2 + 1 + (2^64 - 3) == 0 (mod 2^64)
            s.sendall(buf(0, payload(0, bufsize), lost=(1 << 64) - 3))
        elif case == "seq-jump":
            s.sendall(buf(7, payload(7, bufsize)))   # lost=0 but 3..6 missing
        elif case == "oversized":
            s.sendall(buf(3, payload(3, 2 * bufsize)))
        elif case == "second-hello":
            s.sendall(hello(bufsize, nbufs))
        elif case == "clean-end":
            s.sendall(end(3, 3 * bufsize))
        elif case == "silent":
            # say nothing more; the receiver's idle timeout must end it
            s.settimeout(60)
            try:
                while s.recv(4096):
                    pass
            except OSError:
                pass
            return 0
        else:
            raise SystemExit("unknown case " + case)
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    return 0


def mock_recv(portfile, out, close_after=None):
    """Accept one sender; check every frame; answer like a receiver."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    with open(portfile, "w") as f:
        f.write(str(ls.getsockname()[1]))
    ls.settimeout(30)
    s, _ = ls.accept()
    s.settimeout(30)
    rep = {"frames": {}, "buffers": 0, "bytes": 0, "crc_errors": 0,
           "seq_errors": 0, "payload_errors": 0, "lost": 0}
    ftype, body, _ = read_frame(s)
    assert ftype == HELLO, ftype
    bufsize, nbufs, pl, flags = struct.unpack("<IIII", body[:16])
    rep["hello"] = {"bufsize": bufsize, "nbufs": nbufs, "flags": flags,
                    "device": body[56:184].rstrip(b"\0").decode()}
    s.sendall(frame(ACCEPT, b""))
    prev = None
    while True:
        ftype, body, dlen = read_frame(s)
        name = {BUF: "BUF", DISCARD: "DISCARD", STATS: "STATS",
                END: "END"}.get(ftype, str(ftype))
        rep["frames"][name] = rep["frames"].get(name, 0) + 1
        if ftype == BUF:
            seq, _, _, lost, fl, c, _ = struct.unpack("<QQQQIII", body[:44])
            data = recv_exact(s, dlen)
            if fl & F_CRC and crc32c(data) != c:
                rep["crc_errors"] += 1
            if prev is not None and seq != prev + 1 + lost:
                rep["seq_errors"] += 1
            if pl == 1 and data != payload(seq, dlen):
                rep["payload_errors"] += 1
            rep["lost"] += lost if prev is not None else 0
            prev = seq
            rep["buffers"] += 1
            rep["bytes"] += dlen
            if close_after and rep["buffers"] >= close_after:
                s.close()
                break
        elif ftype == END:
            vals = struct.unpack("<QQQQQQQI", body[:60])
            rep["end"] = dict(zip(["buffers", "bytes", "dropped", "skipped",
                                   "discarded", "zc_sends", "zc_copied",
                                   "result"], vals))
            fin = struct.pack("<iIQQQ", 0, 0, rep["buffers"], rep["bytes"],
                              0)
            s.sendall(frame(FINAL, fin))
            s.close()
            break
    with open(out, "w") as f:
        json.dump(rep, f, indent=1)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[0] == "send-garbage":
        return send_garbage(argv[1], argv[2], argv[3])
    if len(argv) >= 3 and argv[0] == "mock-recv":
        close_after = int(argv[3]) if len(argv) > 3 else None
        return mock_recv(argv[1], argv[2], close_after)
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
