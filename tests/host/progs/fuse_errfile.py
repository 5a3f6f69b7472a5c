#!/usr/bin/python3
# A FUSE file system with one file, /stream, that behaves like a stream
# device (a card's C2H channel): reads ignore the offset and return the next
# bytes of the stream, and fail with EIO at stream position ERR_AT (once, or
# every time): the chardev: source's device-error paths tested through a
# real kernel read() path, no test hook in dmakit.  direct_io: every read()
# reaches this server as it was issued (no page cache, no readahead).
#
#   fuse_errfile.py MOUNTPOINT SIZE ERR_AT once|always|write [-f]
#
# Mode "write" is the other direction (dmakit play's target): /stream is an
# empty writable file that takes writes up to byte ERR_AT (a write across
# it is cut short there) and fails every write at or past it with EIO;
# SIZE is not used.  Mode "short" takes at most SIZE bytes per write (a
# short write every time a write is longer), keeps them and reads them
# back at their offsets; ERR_AT is not used.
#
# The content is a fixed pseudo-random pattern: byte i is PATTERN[i % len].
import errno
import os
import random
import stat
import sys

import fuse

fuse.fuse_python_api = (0, 2)

SIZE, ERR_AT, MODE = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
PATTERN = random.Random(14).randbytes(1000003)


def content(off, n):
    out = bytearray()
    while n > 0:
        i = off % len(PATTERN)
        chunk = PATTERN[i:i + n]
        out += chunk
        off += len(chunk)
        n -= len(chunk)
    return bytes(out)


class ErrFS(fuse.Fuse):
    failed = False
    pos = 0
    stored = bytearray()

    def getattr(self, path):
        st = fuse.Stat()
        if path == '/':
            st.st_mode = stat.S_IFDIR | 0o755
            st.st_nlink = 2
        elif path == '/stream' and MODE == 'short':
            st.st_mode = stat.S_IFREG | 0o666
            st.st_nlink = 1
            st.st_size = len(ErrFS.stored)
        elif path == '/stream' and MODE == 'write':
            st.st_mode = stat.S_IFREG | 0o666
            st.st_nlink = 1
            st.st_size = ErrFS.pos
        elif path == '/stream':
            st.st_mode = stat.S_IFREG | 0o444
            st.st_nlink = 1
            st.st_size = SIZE
        else:
            return -errno.ENOENT
        return st

    def readdir(self, path, offset):
        for name in ('.', '..', 'stream'):
            yield fuse.Direntry(name)

    def open(self, path, flags):
        return 0 if path == '/stream' else -errno.ENOENT

    def truncate(self, path, size):
        if path != '/stream' or MODE not in ('write', 'short'):
            return -errno.EACCES
        ErrFS.pos = min(ErrFS.pos, size)
        del ErrFS.stored[size:]
        return 0

    def write(self, path, buf, offset):
        if MODE == 'short':
            n = min(len(buf), SIZE)
            if len(ErrFS.stored) < offset:
                ErrFS.stored += bytes(offset - len(ErrFS.stored))
            ErrFS.stored[offset:offset + n] = buf[:n]
            return n
        if offset >= ERR_AT:
            return -errno.EIO
        n = min(len(buf), ERR_AT - offset)
        ErrFS.pos = max(ErrFS.pos, offset + n)
        return n

    def read(self, path, size, offset):
        if MODE == 'short':
            return bytes(ErrFS.stored[offset:offset + size])
        offset = ErrFS.pos
        ErrFS.pos += self.serve(size, offset)
        return self.last

    def serve(self, size, offset):
        self.last = self.answer(size, offset)
        return len(self.last) if isinstance(self.last, bytes) else 0

    def answer(self, size, offset):
        if offset >= SIZE:
            return b''
        end = min(offset + size, SIZE)
        if offset <= ERR_AT < end:
            if offset < ERR_AT:
                return content(offset, ERR_AT - offset)   # up to the fault
            if MODE == 'always' or not ErrFS.failed:
                ErrFS.failed = True
                return -errno.EIO
        return content(offset, end - offset)


if __name__ == '__main__':
    mnt = sys.argv[1]
    fs = ErrFS()
    fs.fuse_args.mountpoint = mnt
    fs.fuse_args.add('direct_io')
    fs.fuse_args.setmod('foreground')
    fs.multithreaded = False
    fs.main()
