#!/usr/bin/env python3
"""Check testdata/vectors/status-list-draft.json against its own claims.

For every vector: base64url-decode `lst` (no padding), zlib-decompress it, check that
len(decompressed) * 8 / bits == size, then check every entry: index i lives at bit
(i * bits) % 8 of byte (i * bits) // 8, least significant bits first, and must equal the
expected value ("statuses" gives the full list; "nonzero" gives (index, value) pairs and
every other index must be 0).

Prints one line per vector; exits 1 on any mismatch or when the file holds fewer vectors
than it should. Python 3 standard library only.
Usage: python3 check_status_list_draft.py [path/to/status-list-draft.json]
"""
import base64
import binascii
import json
import os
import sys
import zlib

# The file holds the draft's two JSON examples and its four 2^20-entry vectors: fewer means
# it was truncated, and the check would pass having checked less.
MIN_VECTORS = 6
B64URL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_decode(text):
    if not text or set(text) - B64URL_ALPHABET or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def inflate(data):
    d = zlib.decompressobj()  # zlib (RFC 1950) wrapper, checks the Adler-32 trailer
    out = d.decompress(data)
    if not d.eof:
        raise ValueError("zlib stream is truncated")
    if d.unused_data:
        raise ValueError("%d bytes after the end of the zlib stream" % len(d.unused_data))
    return out


def expected_values(vec, size, bits):
    """Return (dict index -> expected non-zero value, list of problems)."""
    problems = []
    has_full, has_sparse = "statuses" in vec, "nonzero" in vec
    if has_full == has_sparse:
        return {}, ["needs exactly one of 'statuses' or 'nonzero'"]
    expected = {}
    if has_full:
        statuses = vec["statuses"]
        if len(statuses) != size:
            problems.append("'statuses' has %d entries, size is %d" % (len(statuses), size))
        for i, v in enumerate(statuses):
            if v:
                expected[i] = v
    else:
        for pair in vec["nonzero"]:
            i, v = pair
            if i in expected:
                problems.append("index %d listed twice" % i)
            if not 0 <= i < size:
                problems.append("index %d out of range" % i)
            if v == 0:
                problems.append("index %d listed with value 0 in 'nonzero'" % i)
            expected[i] = v
    for i, v in expected.items():
        if not 0 <= v < (1 << bits):
            problems.append("index %d: value %d does not fit in %d bits" % (i, v, bits))
    return expected, problems


def check_vector(vec):
    """Return a list of problems (empty when the vector passes) and a short summary."""
    bits, size = vec["bits"], vec["size"]
    if bits not in (1, 2, 4, 8):
        return ["bits must be 1, 2, 4 or 8, not %r" % bits], ""
    try:
        raw = inflate(b64url_decode(vec["lst"]))
    except (ValueError, binascii.Error, zlib.error) as e:
        return ["lst does not decode: %s" % e], ""
    problems = []
    if len(raw) * 8 // bits != size or (len(raw) * 8) % bits:
        problems.append("decompressed %d bytes = %d entries, expected size %d"
                        % (len(raw), len(raw) * 8 // bits, size))
    expected, more = expected_values(vec, size, bits)
    problems += more
    mask = (1 << bits) - 1
    mismatches = 0
    nonzero = 0
    for i in range(min(size, len(raw) * 8 // bits)):
        pos = i * bits
        got = (raw[pos // 8] >> (pos % 8)) & mask
        want = expected.get(i, 0)
        if got:
            nonzero += 1
        if got != want:
            mismatches += 1
            if mismatches <= 5:
                problems.append("index %d: decoded %d, expected %d" % (i, got, want))
    if mismatches > 5:
        problems.append("... %d mismatching entries in all" % mismatches)
    summary = "%d bytes compressed -> %d bytes, %d entries, %d non-zero" % (
        len(b64url_decode(vec["lst"])), len(raw), size, nonzero)
    return problems, summary


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "status-list-draft.json")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    print("source: %s" % doc.get("source"))
    failed = 0
    for vec in doc["vectors"]:
        problems, summary = check_vector(vec)
        name = "%s (bits=%s)" % (vec.get("name"), vec.get("bits"))
        if problems:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(problems)))
        else:
            print("ok   %s: %s" % (name, summary))
    total = len(doc["vectors"])
    print("%d/%d vectors pass" % (total - failed, total))
    if total < MIN_VECTORS:
        print("FAIL only %d vectors, expected at least %d" % (total, MIN_VECTORS))
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
