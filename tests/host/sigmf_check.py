#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check a .sigmf-meta file against the SigMF 1.2 specification (the rules
below are written from the spec's text and its JSON schema, not copied)
and read its samples the way a SigMF reader does for a Non-Conforming
Dataset: capture i's samples start at byte sample_start * size plus the
header_bytes of captures 0..i.

    sigmf_check.py META OUT.npy    writes the samples' bytes (uint8)

Exit 0 if the file is valid; prints a JSON summary.
"""
import json
import os
import re
import sys

import numpy as np

DATATYPE = re.compile(r"^(c|r)((f32|f64|i32|i16|u32|u16)_(le|be)|i8|u8)$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
DATETIME = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T"
                      r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z$")
DATASET = re.compile(r'^[^/\\:*?"<>|]+$')
CORE_GLOBAL = {"core:datatype", "core:sample_rate", "core:version",
               "core:num_channels", "core:sha512", "core:offset",
               "core:description", "core:author", "core:meta_doi",
               "core:data_doi", "core:recorder", "core:license", "core:hw",
               "core:dataset", "core:trailing_bytes", "core:metadata_only",
               "core:geolocation", "core:extensions", "core:collection"}
CORE_CAPTURE = {"core:sample_start", "core:global_index",
                "core:header_bytes", "core:frequency", "core:datetime"}
CORE_ANNOTATION = {"core:sample_start", "core:sample_count",
                   "core:generator", "core:label", "core:comment",
                   "core:freq_lower_edge", "core:freq_upper_edge", "core:uuid"}
SIZES = {"f32": 4, "f64": 8, "i32": 4, "i16": 2, "u32": 4, "u16": 2,
         "i8": 1, "u8": 1}
U64 = 2 ** 64 - 1


def fail(msg):
    print("sigmf_check: " + msg, file=sys.stderr)
    sys.exit(1)


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_keys(obj, known, where):
    for k in obj:
        ns, _, name = k.partition(":")
        if not name:
            fail("%s: key %r has no namespace" % (where, k))
        if ns == "core" and k not in known:
            fail("%s: %r is not a core field" % (where, k))
        if ns != "core":
            fail("%s: namespace %r is not declared in core:extensions"
                 % (where, ns))


def main():
    meta_path, out_path = sys.argv[1], sys.argv[2]
    raw = open(meta_path, "rb").read()
    doc = json.loads(raw.decode("utf-8", "strict"))
    if not isinstance(doc, dict) or set(doc) != {"global", "captures",
                                                 "annotations"}:
        fail("top level must be global, captures, annotations")
    g, caps, anns = doc["global"], doc["captures"], doc["annotations"]
    if not isinstance(g, dict) or not isinstance(caps, list) or \
            not isinstance(anns, list):
        fail("wrong types at the top level")
    check_keys(g, CORE_GLOBAL, "global")
    dt = g.get("core:datatype")
    if not isinstance(dt, str) or not DATATYPE.match(dt):
        fail("core:datatype %r" % dt)
    if not isinstance(g.get("core:version"), str) or \
            not VERSION.match(g["core:version"]):
        fail("core:version %r" % g.get("core:version"))
    if "core:sample_rate" in g and not (is_num(g["core:sample_rate"]) and
                                        1 <= g["core:sample_rate"] <= 1e12):
        fail("core:sample_rate %r" % g["core:sample_rate"])
    for k in ("core:recorder", "core:hw", "core:description"):
        if k in g and not isinstance(g[k], str):
            fail("%s is not a string" % k)
    trailing = g.get("core:trailing_bytes", 0)
    if not is_int(trailing) or not 0 <= trailing <= U64:
        fail("core:trailing_bytes %r" % trailing)
    ds = g.get("core:dataset")
    if ds is None:
        data_path = meta_path[:-len(".sigmf-meta")] + ".sigmf-data"
    else:
        if not isinstance(ds, str) or not DATASET.match(ds):
            fail("core:dataset %r is not a bare file name" % ds)
        # the dataset is in the metadata file's directory
        data_path = os.path.join(os.path.dirname(meta_path), ds)
    if not os.path.exists(data_path):
        fail("dataset %s does not exist" % data_path)

    prev = -1
    headers = 0
    for i, c in enumerate(caps):
        if not isinstance(c, dict):
            fail("capture %d is not an object" % i)
        check_keys(c, CORE_CAPTURE, "capture %d" % i)
        s = c.get("core:sample_start")
        if not is_int(s) or not 0 <= s <= U64:
            fail("capture %d: core:sample_start %r" % (i, s))
        if s <= prev:
            fail("captures not sorted by core:sample_start (%d)" % i)
        prev = s
        for k in ("core:global_index", "core:header_bytes"):
            if k in c and not (is_int(c[k]) and 0 <= c[k] <= U64):
                fail("capture %d: %s %r" % (i, k, c[k]))
        if "core:datetime" in c and not (isinstance(c["core:datetime"], str)
                                         and DATETIME.match(c["core:datetime"])):
            fail("capture %d: core:datetime %r" % (i, c["core:datetime"]))
        if "core:frequency" in c and not (is_num(c["core:frequency"]) and
                                          abs(c["core:frequency"]) <= 1e12):
            fail("capture %d: core:frequency %r" % (i, c["core:frequency"]))
        headers += c.get("core:header_bytes", 0)
    prev = -1
    for i, a in enumerate(anns):
        if not isinstance(a, dict):
            fail("annotation %d is not an object" % i)
        check_keys(a, CORE_ANNOTATION, "annotation %d" % i)
        s = a.get("core:sample_start")
        if not is_int(s) or s < 0:
            fail("annotation %d: core:sample_start %r" % (i, s))
        if s < prev:
            fail("annotations not sorted by core:sample_start (%d)" % i)
        prev = s
        if "core:sample_count" in a and not (is_int(a["core:sample_count"])
                                             and a["core:sample_count"] >= 0):
            fail("annotation %d: core:sample_count" % i)
        for k in ("core:label", "core:comment"):
            if k in a and not isinstance(a[k], str):
                fail("annotation %d: %s is not a string" % (i, k))

    kind, comp = dt[0], dt[1:].split("_")[0]
    size = SIZES[comp] * (2 if kind == "c" else 1)
    data = np.memmap(data_path, np.uint8, "r")
    payload = len(data) - headers - trailing
    if payload < 0 or payload % size:
        fail("dataset of %d bytes: %d header and %d trailing bytes leave "
             "%d, not whole samples of %d bytes"
             % (len(data), headers, trailing, payload, size))
    nsamples = payload // size
    # read every capture's samples as an NCD reader does
    parts = []
    skipped = 0
    for i, c in enumerate(caps):
        skipped += c.get("core:header_bytes", 0)
        end = caps[i + 1]["core:sample_start"] if i + 1 < len(caps) \
            else nsamples
        start = c["core:sample_start"] * size + skipped
        parts.append(data[start:start + (end - c["core:sample_start"]) * size])
    out = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
    if len(out) != nsamples * size:
        fail("captures cover %d bytes, the dataset holds %d samples"
             % (len(out), nsamples))
    for a in anns:
        if a["core:sample_start"] + a.get("core:sample_count", 0) > nsamples:
            fail("annotation past the last sample")
    np.save(out_path, out)
    print(json.dumps({"samples": nsamples, "captures": len(caps),
                      "annotations": len(anns), "datatype": dt}))


if __name__ == "__main__":
    main()
