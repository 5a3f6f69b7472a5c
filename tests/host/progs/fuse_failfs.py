#!/usr/bin/python3
# A FUSE directory whose file writes fail with a chosen errno once LIMIT
# bytes have been written in all: a disk that starts failing (EIO) or a
# user over quota (EDQUOT), through the kernel's real write() path.
#
#   fuse_failfs.py MOUNTPOINT LIMIT EIO|EDQUOT
#
# Files live in memory; direct_io: every write reaches this server as it
# was issued.  Each write taken is printed ("PATH OFFSET LENGTH") on
# stdout: what the file system holds, independently of the recorder.
import errno
import stat
import sys
import time

import fuse

fuse.fuse_python_api = (0, 2)

LIMIT, ERR = int(sys.argv[2]), getattr(errno, sys.argv[3])


class FailFS(fuse.Fuse):
    files = {}
    written = 0

    def statfs(self):
        # plenty free, as on a real disk: the failure comes at LIMIT
        st = fuse.StatVfs()
        st.f_bsize = st.f_frsize = 4096
        st.f_blocks = st.f_bfree = st.f_bavail = 1 << 24
        st.f_files = st.f_ffree = 1 << 20
        st.f_namemax = 255
        return st

    def getattr(self, path):
        st = fuse.Stat()
        now = int(time.time())
        st.st_atime = st.st_mtime = st.st_ctime = now
        if path == '/':
            st.st_mode = stat.S_IFDIR | 0o755
            st.st_nlink = 2
        elif path in FailFS.files:
            st.st_mode = stat.S_IFREG | 0o644
            st.st_nlink = 1
            st.st_size = len(FailFS.files[path])
        else:
            return -errno.ENOENT
        return st

    def readdir(self, path, offset):
        for name in ['.', '..'] + [p[1:] for p in FailFS.files]:
            yield fuse.Direntry(name)

    def create(self, path, flags, mode):
        FailFS.files.setdefault(path, bytearray())
        return 0

    def mknod(self, path, mode, dev):
        FailFS.files.setdefault(path, bytearray())
        return 0

    def open(self, path, flags):
        return 0 if path in FailFS.files else -errno.ENOENT

    def truncate(self, path, size):
        if path not in FailFS.files:
            return -errno.ENOENT
        f = FailFS.files[path]
        if size < len(f):
            del f[size:]
        else:
            f.extend(bytes(size - len(f)))
        return 0

    def ftruncate(self, path, size, fh=None):
        return self.truncate(path, size)

    def unlink(self, path):
        FailFS.files.pop(path, None)
        return 0

    def read(self, path, size, offset):
        return bytes(FailFS.files[path][offset:offset + size])

    def write(self, path, buf, offset):
        if FailFS.written + len(buf) > LIMIT:
            return -ERR
        FailFS.written += len(buf)
        print(path, offset, len(buf), flush=True)
        f = FailFS.files[path]
        if len(f) < offset:
            f.extend(bytes(offset - len(f)))
        f[offset:offset + len(buf)] = buf
        return len(buf)

    def fsync(self, path, datasync, fh=None):
        return 0

    def flush(self, path, fh=None):
        return 0

    def release(self, path, flags, fh=None):
        return 0


if __name__ == '__main__':
    fs = FailFS()
    fs.fuse_args.mountpoint = sys.argv[1]
    fs.fuse_args.add('direct_io')
    fs.fuse_args.setmod('foreground')
    fs.multithreaded = False
    fs.main()
