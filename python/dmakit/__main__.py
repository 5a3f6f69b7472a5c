# SPDX-License-Identifier: MIT
"""python3 -m dmakit: look at and verify recordings without libdmakit.

    python3 -m dmakit info DATA [--sidecar PREFIX] [--json]
    python3 -m dmakit verify DATA [--sidecar PREFIX] [--allow-dma-errors] [--json]
    python3 -m dmakit check DATA [SIDECAR]

Exit status: 0 fine, 1 the recording is damaged (or cannot be read),
2 usage.
"""
import argparse
import json
import sys

from . import recording
from .check import CheckError, check


def _info(rec):
    e = rec.entries
    d = {"data": rec.data_path, "version": rec.version,
         "bufsize": rec.bufsize, "buffers": len(rec),
         "bytes": int(e["len"].sum()), "device": rec.device,
         "gaps": len(rec.gaps),
         "lost": int(e["lost"][1:].sum()) if len(e) else 0,
         "dma_errors": len(rec.dma_errors),
         "result": rec.meta.get("result"),
         "sample_format": rec.meta.get("sample_format"),
         "sample_rate": rec.meta.get("sample_rate"),
         "center_freq": rec.meta.get("center_freq")}
    if len(e):
        d["first_seq"] = int(e["seq"][0])
        d["last_seq"] = int(e["seq"][-1])
        d["seconds"] = float(e["host_ts"][-1] - e["host_ts"][0]) / 1e9
    return d


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m dmakit",
                                 description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name, helptext in (("info", "summary of a recording"),
                           ("verify", "check index, trailer, metadata and "
                                      "every buffer's CRC")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("data")
        p.add_argument("--sidecar", help="prefix of .idx/.json "
                                         "(default: DATA)")
        p.add_argument("--json", action="store_true")
        if name == "verify":
            p.add_argument("--allow-dma-errors", action="store_true")
    p = sub.add_parser("check", help="strict consistency of index and "
                                     "metadata (the test suite's check)")
    p.add_argument("data")
    p.add_argument("sidecar", nargs="?")
    args = ap.parse_args(argv)

    try:
        rec = recording.open(args.data, args.sidecar)
    except (OSError, ValueError, recording.FormatError) as err:
        print("dmakit: %s" % err, file=sys.stderr)
        return 1
    with rec:
        if args.cmd == "check":
            try:
                print(json.dumps(check(rec)))
            except CheckError as err:
                print("dmakit check: %s" % err, file=sys.stderr)
                return 1
            return 0
        if args.cmd == "info":
            d = _info(rec)
            if args.json:
                print(json.dumps(d))
            else:
                for k, v in d.items():
                    print("%-14s %s" % (k, v))
            return 0
        r = rec.verify(allow_dma_errors=args.allow_dma_errors)
        if args.json:
            print(json.dumps(r.as_dict()))
        else:
            print("%s: %d buffers, %d bytes, %d gaps (%d lost), %d CRCs "
                  "checked: %s" % (args.data, r.buffers, r.bytes, r.gaps,
                                   r.lost, r.crcs_checked,
                                   "OK" if r.ok else "FAILED"))
            for msg in r.problems[:20]:
                print("  " + msg)
        return 0 if r.ok else 1


if __name__ == "__main__":
    sys.exit(main())
