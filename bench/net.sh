#!/usr/bin/env bash
# Network streaming over loopback, in one invocation so every number is a
# ratio against a reference measured next to it:
#
#   reference  plain TCP copy loop moving the same bytes: socat reads the
#              card's payload (recorded once by dmakit record into
#              BENCH_DIR, so it comes from page cache) -> TCP -> socat -> file
#   record     dmakit record -> file: the same card and sink without the
#              network, the ceiling of the pipeline on this machine
#   dmakit     dmakit send -> TCP -> dmakit recv -> file, with every
#              zero-copy method (off, msg, uring, auto), the simulated card
#              paused when the ring is full (policy=block: measures the
#              pipeline, not the card)
#   no-drop    dmakit send from a card that cannot pause (policy=drop)
#              producing at 0.8x the reference throughput: must drop nothing;
#              and at 0.8x of dmakit's own (median, -z auto) throughput
#
# dmakit writes with its default engine (io_uring, O_DIRECT where the
# target allows it), socat with write().
#
# Throughput = bytes / wall time of the pair.  CPU s/GB = user+sys of both
# processes per GB moved (dmakit: minus the simulated card's own thread,
# which stands in for hardware).  Loopback delivers by copying in the
# kernel (every zero-copy completion says "copied"), so zero-copy cannot
# win here; its gain needs a NIC with scatter-gather (see docs/net.md).
#
#   bench/net.sh [SIZE]        (default 1G; BENCH_DIR, default /dev/shm;
#                               REPEAT runs of each, default 5: medians,
#                               with the range of the runs)
#
# Runs are interleaved (reference, each method, reference, ...) so load
# from other processes hits all of them alike.  Prints a markdown table
# for docs/net.md.  Exit 1 if a target is missed.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
SIZE=${1:-1G}
DIR=${BENCH_DIR:-/dev/shm}
DMAKIT=${DMAKIT:-$TOP/build/bin/dmakit}
command -v socat >/dev/null || { echo "bench/net.sh: socat is not installed (scripts/setup.sh)"; exit 1; }
[ -x "$DMAKIT" ] || { echo "bench/net.sh: build first (make)"; exit 1; }

exec python3 - "$DMAKIT" "$SIZE" "$DIR" "${REPEAT:-5}" <<'PY'
import atexit, json, os, re, shutil, socket, subprocess, sys, tempfile, time

dmakit, size_s, bdir, repeat = sys.argv[1:5]
repeat = int(repeat)
units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
m = re.fullmatch(r"(\d+)([KMG]?)", size_s)
if not m:
    sys.exit("bench/net.sh: bad size " + size_s)
size = int(m.group(1)) * units[m.group(2)]
GB = 1e9
work = tempfile.mkdtemp(prefix="dmakit-bench-net.", dir=bdir)
atexit.register(shutil.rmtree, work, True)	# also on failures


def load():
    return open("/proc/loadavg").read().split()[0]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait4(proc):
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime


def listening(port):
    """Is a TCP socket listening on @port (IPv4 or IPv6)?"""
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            for line in open(f).readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A" and int(local.split(":")[1], 16) == port:
                    return True
        except OSError:
            pass
    return False


def run_pair(listener, wait_ready, sender):
    """Start the listener; time the sender from its start until both end."""
    lp = subprocess.Popen(listener, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    wait_ready()
    t0 = time.monotonic()
    sp = subprocess.Popen(sender(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    scpu = wait4(sp)
    lcpu = wait4(lp)
    wall = time.monotonic() - t0
    out = sp.stdout.read().decode()
    errs = sp.stderr.read().decode() + lp.stderr.read().decode()
    if sp.returncode or lp.returncode:
        sys.exit("bench/net.sh: run failed:\n%s\n%s\n%s" %
                 (" ".join(sender), out, errs))
    return wall, scpu + lcpu, out


def socat_run():
    port = free_port()
    out = os.path.join(work, "socat.dat")

    def ready():
        for _ in range(500):
            if listening(port):
                return
            time.sleep(0.01)
        sys.exit("bench/net.sh: socat did not listen")
    wall, cpu, _ = run_pair(
        ["socat", "-u", "-b", "524288",
         "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr" % port, "CREATE:" + out],
        ready,
        lambda: ["socat", "-u", "-b", "524288",
                 "OPEN:" + source,
                 "TCP:127.0.0.1:%d" % port])
    got = os.path.getsize(out)
    os.unlink(out)
    if got != size:
        sys.exit("bench/net.sh: socat moved %d of %d bytes" % (got, size))
    return {"name": "plain TCP (socat)", "wall": wall, "cpu": cpu,
            "bytes": size, "dropped": 0, "verify": "-"}


def dmakit_run(name, device, zc):
    out = os.path.join(work, "net.dat")
    portf = os.path.join(work, "port")
    if os.path.exists(portf):
        os.unlink(portf)

    def ready():
        for _ in range(200):
            if os.path.exists(portf):
                return
            time.sleep(0.01)
        sys.exit("bench/net.sh: dmakit recv did not start")
    def sender():
        return [dmakit, "send", "-d", device, "127.0.0.1:" +
                open(portf).read().strip(), "--size", str(size), "-z", zc,
                "--json", "-q"]
    lp_cmd = [dmakit, "recv", "-l", "127.0.0.1:0", "-o", out,
              "--port-file", portf, "-q"]
    wall, cpu, res = run_pair(lp_cmd, ready, sender)
    os.unlink(portf)
    st = json.loads(res)
    v = subprocess.run([dmakit, "verify", out, "--json", "--quiet"],
                       capture_output=True, text=True)
    ok = v.returncode == 0
    for suffix in ("", ".idx", ".json"):
        os.unlink(out + suffix)
    return {"name": name, "wall": wall,
            "cpu": cpu - st["producer_cpu_s"],
            "bytes": st["bytes"], "dropped": st["dropped"],
            "verify": "ok" if ok else "FAILED",
            "zc": "%d/%d" % (st["zc_copied"], st["zc_sends"])}


print("bench/net.sh: %s over loopback, median of %d, load average before: %s, %d CPUs"
      % (size_s, repeat, load(), os.cpu_count()))
print()
def record_run(keep=None):
    out = keep or os.path.join(work, "rec.dat")
    t0 = time.monotonic()
    p = subprocess.Popen([dmakit, "record", "-d", "sim:policy=block", "-o",
                          out, "--size", str(size),
                          "--json", "--quiet"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    cpu = wait4(p)
    wall = time.monotonic() - t0
    res = p.stdout.read().decode()
    if p.returncode:
        sys.exit("bench/net.sh: record failed: " + p.stderr.read().decode())
    st = json.loads(res)
    for suffix in ("", ".idx", ".json") if not keep else (".idx", ".json"):
        os.unlink(out + suffix)
    return {"name": "dmakit record (no network)", "wall": wall,
            "cpu": cpu - st.get("producer_cpu_s", 0), "bytes": size,
            "dropped": st.get("dropped", 0), "verify": "-"}


# the reference sends the very bytes the card produces
source = os.path.join(work, "payload.dat")
record_run(keep=source)
methods = ("off", "msg", "uring", "auto")
runs = {"ref": [], "record": []}
for zc in methods:
    runs[zc] = []
for i in range(repeat):
    runs["ref"].append(socat_run())
    runs["record"].append(record_run())
    for zc in methods:
        runs[zc].append(dmakit_run("dmakit -z %s" % zc, "sim:policy=block",
                                   zc))


def median_run(rs):
    """The run with the median throughput (its CPU figure comes along),
    with the range of all runs of its kind."""
    rs = sorted(rs, key=lambda r: r["bytes"] / r["wall"])
    m = dict(rs[len(rs) // 2])
    m["range"] = "%.2f-%.2f" % (rs[0]["bytes"] / rs[0]["wall"] / GB,
                                rs[-1]["bytes"] / rs[-1]["wall"] / GB)
    return m


ref = median_run(runs["ref"])
ref_rate = ref["bytes"] / ref["wall"]
rows = [ref, median_run(runs["record"])] + \
       [median_run(runs[zc]) for zc in methods]
rate08 = int(ref_rate * 0.8)
nodrop = dmakit_run("dmakit at 0.8x, policy=drop",
                    "sim:policy=drop,rate=%d" % rate08, "auto")
rows.append(nodrop)
# the same at 0.8x of what the default method itself reached (median):
# is it drop-free wherever it keeps up?
best = max(r["bytes"] / r["wall"] for r in rows[2:6])
auto = median_run(runs["auto"])
own = dmakit_run("dmakit at 0.8x its own rate, policy=drop",
                 "sim:policy=drop,rate=%d" %
                 int(auto["bytes"] / auto["wall"] * 0.8), "auto")
rows.append(own)
allr = [r for zc in runs for r in runs[zc]]

print("| run | GB/s | range | x plain TCP | CPU s/GB | dropped | copied/zc sends | verify |")
print("|---|---|---|---|---|---|---|---|")
for r in rows:
    rate = r["bytes"] / r["wall"]
    print("| %s | %.2f | %s | %.2f | %.2f | %d | %s | %s |" % (
        r["name"], rate / GB, r.get("range", "-"), rate / ref_rate,
        r["cpu"] * GB / r["bytes"], r["dropped"], r.get("zc", "-"),
        r["verify"]))
print()
print("load average after: %s" % load())
fail = False
if best < 0.9 * ref_rate:
    print("TARGET MISSED: best dmakit throughput %.2fx plain TCP (< 0.9x)"
          % (best / ref_rate))
    fail = True
if nodrop["dropped"] or nodrop["verify"] != "ok":
    print("TARGET MISSED: %d drops at 0.8x plain TCP" % nodrop["dropped"])
    fail = True
if own["dropped"]:
    print("%d drops at 0.8x of dmakit's own best rate" % own["dropped"])
    fail = True
if any(r["verify"] == "FAILED" for r in allr + [nodrop, own]):
    print("A RECORDING FAILED VERIFICATION")
    fail = True
sys.exit(1 if fail else 0)
PY
