#!/usr/bin/env python3
# Check `dmakit info BDF --json` and its text header for one PCI function
# against lspci (-vv, -vmm -nn, -nn), sysfs and /proc/interrupts read
# AFTER dmakit (so counts there can only be larger).  Prints ok/not ok
# lines; exit status 1 if anything differs.
#   info_lspci.py BDF INFO.json INFO.txt
import json, os, re, subprocess, sys

bdf, jpath, tpath = sys.argv[1:4]
info = json.load(open(jpath))
text = open(tpath).read().splitlines()
ok = True


def check(what, cond, detail=""):
    global ok
    print(("ok - " if cond else "not ok - ") + "%s: %s%s" % (bdf, what, "" if cond else " (%s)" % detail))
    ok &= bool(cond)


def lspci(*args):
    return subprocess.run(["lspci", "-s", bdf] + list(args), check=True,
                          capture_output=True, text=True).stdout

# --- names, as lspci -vmm -nn gives them ("Name [id]"; unknown: "Device 1042")
mm = {}
for line in lspci("-vmm", "-nn").splitlines():
    if ":\t" in line:
        k, v = line.split(":\t", 1)
        mm[k] = re.sub(r" \[[0-9a-f]{2,4}\]$", "", v)


def same_name(what, ours, theirs, word, ident):
    """pci.ids name, or lspci's wording of an unknown one ("Device [0d57]")"""
    good = ours == theirs if ours else theirs in (word, word + " " + ident)
    check(what, good, "%r vs %r" % (ours, theirs))


same_name("vendor name", info["vendor_name"], mm["Vendor"], "Vendor", info["vendor"])
same_name("device name", info["device_name"], mm["Device"], "Device", info["device"])
same_name("class name", info["class_name"], mm["Class"], "Class", info["class"][:4])
if "SVendor" in mm:
    same_name("subsystem vendor name", info["subsystem_vendor_name"], mm["SVendor"], "Vendor",
              info["subsystem_vendor"])
if "SDevice" in mm:
    same_name("subsystem name", info["subsystem_device_name"], mm["SDevice"], "Device",
              info["subsystem_device"])

# --- the one-line description of lspci -nn, without its (rev NN)
want = re.sub(r" \(rev [0-9a-f]+\)$", "", lspci("-nn").strip().split(" ", 1)[1])
got = text[0].split("  ", 1)[1]
check("text header as lspci -nn", got == want, "%r vs %r" % (got, want))

# --- BARs, MSI-X, PCIe link from lspci -vv
vv = lspci("-vv")
size_mul = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
bars = []
for m in re.finditer(r"Region (\d): (Memory at|I/O ports at) ([0-9a-f]+)(?: \(([^)]*)\))?"
                     r"(?: \[[a-z]+\])* \[size=(\d+)([KMGT]?)\]", vv):
    idx, kind, addr, attrs, size, unit = m.groups()
    attrs = attrs or ""
    bars.append({"index": int(idx), "type": "memory" if kind == "Memory at" else "io",
                 "address": int(addr, 16), "size": int(size) * size_mul[unit],
                 "64bit": "64-bit" in attrs,
                 "prefetchable": kind == "Memory at" and "non-prefetchable" not in attrs})
check("BARs as lspci -vv", bars == info["bars"], "%r vs %r" % (bars, info["bars"]))
m = re.search(r"MSI-X: Enable([+-]) Count=(\d+)", vv)
if m:
    check("MSI-X table size and state", info["msix"] and
          info["msix"]["table_size"] == int(m.group(2)) and
          info["msix"]["enabled"] == (m.group(1) == "+"), "%r vs %r" % (info["msix"], m.groups()))
else:
    check("no MSI-X", info["msix"] is False, repr(info["msix"]))
msix_irqs = []
d = "/sys/bus/pci/devices/%s/msi_irqs" % bdf
if os.path.isdir(d):
    msix_irqs = [i for i in os.listdir(d) if open(os.path.join(d, i)).read().strip() == "msix"]
if info["msix"]:
    check("MSI-X vectors in use = msi_irqs", info["msix"]["vectors_in_use"] == len(msix_irqs),
          "%r vs %d" % (info["msix"], len(msix_irqs)))
express = re.search(r"Capabilities: \[[0-9a-f]+\] Express", vv) is not None
check("PCIe capability", info["pcie"] == express, "%r vs %r" % (info["pcie"], express))
for key, gts, width in (("LnkCap", "max_link_gts", "max_link_width"),
                        ("LnkSta", "link_gts", "link_width")):
    m = re.search(key + r":.*?Speed ([0-9.]+)GT/s.*?Width x(\d+)", vv)
    if m:
        check(key, abs(info[gts] - float(m.group(1))) < 0.01 and info[width] == int(m.group(2)),
              "%r x%r vs %r" % (info[gts], info[width], m.groups()))
    else:
        check("no " + key, info[gts] == 0 and info[width] == 0)

# --- vectors: msi_irqs (or the INTx line), per-CPU counts vs /proc/interrupts
want_irqs = sorted(int(i) for i in os.listdir(d)) if os.path.isdir(d) else []
if not want_irqs:
    irq = int(open("/sys/bus/pci/devices/%s/irq" % bdf).read())
    want_irqs = [irq] if irq > 0 and info["driver"] else []
got_irqs = [v["irq"] for v in info["vectors"]]
if not os.path.isdir(d) or os.listdir(d):
    check("vectors", got_irqs == want_irqs, "%r vs %r" % (got_irqs, want_irqs))
lines = open("/proc/interrupts").read().splitlines()
ncpu = len(lines[0].split())
proc = {}
for line in lines[1:]:
    f = line.split(":", 1)
    if f[0].strip().isdigit():
        proc[int(f[0])] = ([int(x) for x in f[1].split()[:ncpu]], line)
for v in info["vectors"]:
    if v["irq"] not in proc:
        check("irq %d in /proc/interrupts" % v["irq"], False)
        continue
    counts, line = proc[v["irq"]]
    check("irq %d: one count per CPU" % v["irq"], len(v["per_cpu"]) == ncpu)
    check("irq %d: per-CPU counts sum to its count" % v["irq"], sum(v["per_cpu"]) == v["count"])
    check("irq %d: per-CPU counts <= /proc/interrupts read later" % v["irq"],
          all(a <= b for a, b in zip(v["per_cpu"], counts)), "%r vs %r" % (v["per_cpu"], counts))
    check("irq %d: handler name in /proc/interrupts" % v["irq"], not v["name"] or v["name"] in line)

# --- children: the disks and interfaces sysfs places below the function
def below(path):
    real = os.path.realpath(path)
    dev = os.path.realpath("/sys/bus/pci/devices/" + bdf)
    if not real.startswith(dev + "/"):
        return False
    return not any(re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]", c)
                   for c in real[len(dev) + 1:].split("/"))
want = sorted(("block", b, open("/sys/block/%s/dev" % b).read().strip())
              for b in os.listdir("/sys/block") if below("/sys/block/" + b))
want += sorted(("net", n, None) for n in os.listdir("/sys/class/net") if below("/sys/class/net/" + n))
got = [(c["kind"], c["name"], c.get("dev")) for c in info["children"]]
check("children", got == want, "%r vs %r" % (got, want))
for c in info["children"]:
    if c["kind"] == "block":
        ma, mi = map(int, c["dev"].split(":"))
        check("%s: tracepoint dev = MKDEV" % c["name"], c["tracepoint_dev"] == (ma << 20 | mi))
    else:
        check("%s: ifindex" % c["name"],
              c["ifindex"] == int(open("/sys/class/net/%s/ifindex" % c["name"]).read()))
sys.exit(0 if ok else 1)
