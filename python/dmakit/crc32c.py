# SPDX-License-Identifier: MIT
"""CRC32C (Castagnoli), as lib/crc32c.c computes it: a table for bytes
and numpy to run many blocks side by side.

The CRC register without its pre- and post-inversion is linear over
GF(2), so a long buffer is cut into blocks whose raw CRCs are computed
together (one numpy step per byte position, over every block at once) and
then folded: state' = shift(state, block length) ^ raw(block), where shift
is a 32x32 bit matrix applied through four 256-entry tables.
"""
import numpy as np

POLY = 0x82F63B78
BLOCK = 1024          # bytes per block: the steps are BLOCK + len/BLOCK


def _byte_table():
    table = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ POLY if c & 1 else c >> 1
        table[i] = c
    return table


TABLE = _byte_table()
_TABLE_LIST = [int(x) for x in TABLE]


def crc32c_bytes(data, crc=0):
    """CRC32C of @data continuing @crc, one byte at a time (short data)."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE_LIST
    for b in bytes(data):
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def _raw_columns(blocks, state):
    """Raw CRC register after each row of @blocks (n, L) uint8, from @state
    (n,) uint32: one vectorised step per byte position."""
    s = state.astype(np.uint32, copy=True)
    for j in range(blocks.shape[1]):
        s = TABLE[(s ^ blocks[:, j]) & 0xFF] ^ (s >> np.uint32(8))
    return s


def _shift_tables(nbytes):
    """Four tables T[b][v] such that the raw register x, followed by
    @nbytes zero bytes, becomes xor of T[b][byte b of x]."""
    basis = np.array([1 << i for i in range(32)], dtype=np.uint32)
    zeros = np.zeros((32, nbytes), dtype=np.uint8)
    images = _raw_columns(zeros, basis)     # image of each bit
    tables = np.zeros((4, 256), dtype=np.uint32)
    for b in range(4):
        for v in range(256):
            acc = 0
            for bit in range(8):
                if v >> bit & 1:
                    acc ^= int(images[b * 8 + bit])
            tables[b, v] = acc
    return tables


_SHIFT = {}


def _shift(state, nbytes):
    t = _SHIFT.get(nbytes)
    if t is None:
        t = _SHIFT[nbytes] = _shift_tables(nbytes)
    s = state.astype(np.uint32)
    return (t[0][s & 0xFF] ^ t[1][(s >> 8) & 0xFF] ^
            t[2][(s >> 16) & 0xFF] ^ t[3][s >> 24])


def crc32c_rows(rows, crcs=None):
    """CRC32C of every row of @rows ((n, L) uint8 array, any L), each
    continuing crcs[i] (default 0).  Returns an (n,) uint32 array."""
    rows = np.asarray(rows, dtype=np.uint8)
    n, length = rows.shape
    init = np.zeros(n, dtype=np.uint32) if crcs is None else \
        np.asarray(crcs, dtype=np.uint32)
    state = init ^ np.uint32(0xFFFFFFFF)
    nblocks, tail = divmod(length, BLOCK)
    if nblocks:
        blocks = rows[:, :nblocks * BLOCK].reshape(n * nblocks, BLOCK)
        raw = _raw_columns(blocks, np.zeros(n * nblocks, dtype=np.uint32))
        raw = raw.reshape(n, nblocks)
        for k in range(nblocks):
            state = _shift(state, BLOCK) ^ raw[:, k]
    if tail:
        state = _raw_columns(rows[:, nblocks * BLOCK:], state)
    return state ^ np.uint32(0xFFFFFFFF)


def crc32c(data, crc=0):
    """CRC32C of @data (bytes-like or uint8 array) continuing @crc."""
    arr = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8) \
        if not isinstance(data, np.ndarray) else data.reshape(-1)
    if len(arr) < 4 * BLOCK:
        return crc32c_bytes(arr.tobytes(), crc)
    return int(crc32c_rows(arr.reshape(1, -1), [crc])[0])
