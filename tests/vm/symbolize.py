#!/usr/bin/env python3
"""Name the instruction pointers in QEMU's `info registers -a` output.

    symbolize.py FROZEN CONSOLE-LOG SYSTEM-MAP [MODULE-DIR]

FROZEN holds the monitor's dumps (vm_watch_silence in vmlib.sh).  The
guest printed where KASLR put its kernel ("@@KSYM _stext ADDR") and where
each load of dmakit put the module's .text ("@@KMOD NAME.ko ADDR");
SYSTEM-MAP is the kernel's System.map and MODULE-DIR holds the .ko files.
Prints one line per vCPU of the last dump: "CPU#N RIP=ADDR symbol+0xOFF".
"""
import bisect
import re
import subprocess
import sys


def kernel_symbols(path):
    syms = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tTwW":
                syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def module_symbols(ko):
    """(offset in .text, name) of the module's .text functions."""
    try:
        out = subprocess.run(["objdump", "-t", ko], capture_output=True,
                             text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    syms = []
    for line in out.splitlines():
        m = re.match(r"^([0-9a-f]+) .{7} (\S+)\s+[0-9a-f]+ (\S+)$", line)
        if m and m.group(2) == ".text":
            syms.append((int(m.group(1), 16), m.group(3)))
    syms.sort()
    return syms


def lookup(syms, addr):
    i = bisect.bisect_right([a for a, _ in syms], addr) - 1
    if i < 0:
        return None
    base, name = syms[i]
    return "%s+0x%x" % (name, addr - base)


def main():
    if len(sys.argv) < 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    frozen, console, smap = sys.argv[1:4]
    moddir = sys.argv[4] if len(sys.argv) > 4 else None
    text = open(console, errors="replace").read()
    m = re.findall(r"^@@KSYM _stext ([0-9a-f]+)", text, re.M)
    ksyms = kernel_symbols(smap)
    stext = [a for a, n in ksyms if n == "_stext"]
    offset = int(m[-1], 16) - stext[0] if m and stext else None
    mods = re.findall(r"^@@KMOD (\S+) (0x[0-9a-f]+)", text, re.M)
    mod = None
    if mods and moddir:
        name, base = mods[-1]
        mod = (int(base, 16), name, module_symbols("%s/%s" % (moddir, name)))
    cpu = None
    out = []
    for line in open(frozen, errors="replace"):
        if line.startswith("=== "):
            out = []
        c = re.match(r"^CPU#(\d+)", line)
        if c:
            cpu = c.group(1)
        r = re.search(r"\bRIP=([0-9a-f]{16})", line)
        if not r:
            continue
        rip = int(r.group(1), 16)
        where = None
        if offset is not None:
            where = lookup(ksyms, rip - offset)
        if mod and rip >= mod[0] and mod[2]:
            mw = lookup(mod[2], rip - mod[0])
            if mw and rip - mod[0] < 0x100000:
                where = "[%s] %s" % (mod[1], mw)
        if offset is None:
            where = "(the guest printed no @@KSYM line)"
        out.append("CPU#%s RIP=%016x %s" % (cpu, rip, where or "?"))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
