#!/usr/bin/env python3
"""Recheck the TrustMark golden vectors without any TrustMark code.

The vectors are written by the code they test, so a shared mistake would pass every Rust
test. This script recomputes what the vectors claim from the written specs (docs/spec/,
SPEC.md) with `cryptography` (Ed25519), `zlib`, `hashlib` and `base64` only, driven by
each case's `kind` and `expect` in cases.json, so new cases are checked without edits:

  keys        every JWKS key's kid is its RFC 7638 thumbprint
  signatures  each token's Ed25519 signature, against the key its header's kid names, for
              every case whose expected result says the signature was (or was not) good
  lists       every statuslists/*.jwt is named by a badge case, and each badge case that
              reaches the status step gets its expected reason from the lists it names
              (signature, key use and window, issuer, inflation cap, time, then the 2-bit
              entry at its idx: 0 valid, 1 revoked, 2 suspended, 3 status_invalid)
  digest      each well-formed badge's audit.digest is base64url(SHA-256) of an audit
              statement the vectors carry, signed by the auditor the badge names
  score       each well-formed badge's audit.score from audit.ind and the catalogue weights
  ind         each well-formed badge's audit.ind from its statement's raw values with the
              normalisation of docs/spec/indicators.md
  shape       a badge whose score or indicators are inconsistent is expected malformed
  form        a badge living longer than 400 days (+ skew), or a badge, audit statement or
              status change whose shown text carries control, format (bidi, zero-width) or
              separator characters, is expected malformed; an audit dated after its own iat
              is malformed, one dated after the verification time is audited_in_future

The normalisation is first checked against the worked example of docs/spec/indicators.md.

Every check counts what it went through and fails below a minimum, so an empty or truncated
vector file cannot pass. Prints one line per problem and a summary; exits 1 on any failure.
Usage: python3 check_independent.py [path/to/cases.json]
"""
import base64
import binascii
import glob
import hashlib
import json
import math
import os
import sys
import unicodedata
import zlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CATALOGUE = os.path.join(ROOT, "schemas", "indicators", "rcep-b2b-web-1.json")

# Floors at the size of the vector set when this was written: a set that shrinks below them
# has lost cases, and a check that went through fewer items proves less than it says.
MIN = {
    "keys": 4,
    "signatures": 41,
    "lists": 9,
    "status": 21,
    "status_values": 11,
    "digest": 34,
    "score": 34,
    "ind": 34,
    "shape": 61,
    "shape_bad_score": 1,
    "shape_failing_ind": 1,
    "form": 10,
}

B64URL = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
ALGS = ("EdDSA", "Ed25519")  # RFC 8037 and its fully-specified RFC 9864 name
MAX_INFLATED = 16 * 1024 * 1024
MAX_FUTURE_SKEW = 60
MAX_STATEMENT_AGE = 600
MAX_BADGE_LIFETIME = 400 * 86400
# Characters that make shown text read differently from what it says (Unicode categories).
DECEPTIVE = {"Cc", "Cf", "Zl", "Zp"}
TYP = {
    "badge": "trustmark+jwt",
    "status_list": "statuslist+jwt",
    "audit_statement": "trustmark-audit+jwt",
    "status_change": "trustmark-status+jwt",
}
USE = {"badge": "badge", "status_list": "status", "audit_statement": "audit",
       "status_change": "audit"}

# SPEC 5 checks in order and reports the first failure, so a badge expected to fail at one
# of these steps, or at the status step, has passed the signature step.
AFTER_SIGNATURE = {"untrusted_issuer", "expired", "not_yet_valid", "origin_mismatch"}
STATUS_REASONS = {"valid", "revoked", "suspended", "status_unavailable", "status_invalid",
                  "status_out_of_range"}
# Reasons decided before the claims are known to fit the badge format.
UNSHAPED = {"malformed", "wrong_type"}

counts = {k: 0 for k in MIN}
problems = []


def fail(where, what):
    problems.append("%s: %s" % (where, what))


def deceptive(text):
    return isinstance(text, str) and any(unicodedata.category(c) in DECEPTIVE for c in text)


def bad_text(claims, kind):
    """Whether any text a person is shown from these claims is deceptive."""
    org = claims.get("org") if isinstance(claims.get("org"), dict) else {}
    texts = [org.get("name"), org.get("reg")]
    if kind == "status_change":
        texts.append(claims.get("reason"))
    return any(deceptive(t) for t in texts)


def b64url_decode(text):
    if set(text) - B64URL or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def split(token):
    """(header, payload bytes, signature, signing input), or None if not a compact JWS."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    return header, payload, signature, (parts[0] + "." + parts[1]).encode("ascii")


def claims_of(payload):
    try:
        claims = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def ed25519_ok(jwk, signature, message):
    try:
        Ed25519PublicKey.from_public_bytes(b64url_decode(jwk["x"])).verify(signature, message)
        return True
    except (InvalidSignature, ValueError):
        return False


def thumbprint(jwk):
    canonical = '{"crv":"%s","kty":"%s","x":"%s"}' % (jwk["crv"], jwk["kty"], jwk["x"])
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def vouches(jwk, kind, iat):
    """docs/spec/keys.md: use absent or matching, iat inside [valid_from, valid_until]."""
    use = jwk.get("trustmark_use")
    return ((use is None or use == USE[kind])
            and ("valid_from" not in jwk or iat >= jwk["valid_from"])
            and ("valid_until" not in jwk or iat <= jwk["valid_until"]))


def signature_verdict(token, kind, keys):
    """'good', 'bad_signature', 'unknown_key' or 'unparsed' for a token signed by `keys`."""
    parts = split(token)
    if parts is None:
        return "unparsed"
    header, payload, signature, signing_input = parts
    claims = claims_of(payload)
    if header.get("alg") not in ALGS or claims is None or not isinstance(claims.get("iat"), int):
        return "unparsed"
    jwk = keys.get(header.get("kid"))
    if jwk is None or not vouches(jwk, kind, claims["iat"]):
        return "unknown_key"
    return "good" if ed25519_ok(jwk, signature, signing_input) else "bad_signature"


def inflate(data):
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_INFLATED + 1)
    if len(out) > MAX_INFLATED:
        raise ValueError("inflates past 16 MiB")
    if not d.eof or d.unused_data or not out:
        raise ValueError("not one complete, non-empty zlib stream")
    return out


def entry(raw, bits, i):
    pos = i * bits
    return (raw[pos // 8] >> (pos % 8)) & ((1 << bits) - 1)


class StatusList:
    """One status list token, checked per docs/spec/status-list.md, step 2 bar the time."""

    def __init__(self, path, token, keys, issuer):
        self.path, self.problem, self.raw = path, None, None
        parts = split(token)
        self.claims = claims_of(parts[1]) if parts else None
        self.sub = self.claims.get("sub") if self.claims else None
        if parts is None or self.claims is None:
            self.problem = "malformed"
        elif parts[0].get("typ") != TYP["status_list"]:
            self.problem = "wrong_type"
        else:
            sig = signature_verdict(token, "status_list", keys)
            if sig != "good":
                self.problem = "malformed" if sig == "unparsed" else sig
            elif self.claims.get("iss") != issuer:
                self.problem = "untrusted_issuer"
            else:
                sl = self.claims.get("status_list") or {}
                try:
                    if sl.get("bits") not in (1, 2, 4, 8):
                        raise ValueError("bits %r" % sl.get("bits"))
                    self.raw = inflate(b64url_decode(sl.get("lst", "")))
                    self.bits = sl["bits"]
                except (ValueError, binascii.Error, zlib.error) as e:
                    self.problem = "list: %s" % e

    def status_at(self, at):
        """None when usable at `at`; else (badge reason, why)."""
        if self.problem:
            return "status_invalid", self.problem
        c = self.claims
        if c["iat"] > at + MAX_FUTURE_SKEW:
            return "status_invalid", "dated in the future"
        if at >= c["exp"] or at > c["iat"] + c["ttl"]:
            return "status_unavailable", "stale"
        return None


def badge_status(claims, lists, at):
    """The status step of docs/spec/status-list.md for one badge: (reason, why)."""
    ref = claims["status"]["status_list"]
    # A list whose sub cannot be read might be the one meant: it makes the check fail
    # closed, as a rejected list for the badge's uri does.
    candidates = [l for l in lists if l.sub in (ref["uri"], None)]
    if not candidates:
        return "status_unavailable", "no list for %s" % ref["uri"]
    usable = [l for l in candidates if not l.problem and l.claims["iat"] <= at + MAX_FUTURE_SKEW]
    if not usable:
        return candidates[0].status_at(at)
    newest = max(usable, key=lambda l: l.claims["iat"])
    stale = newest.status_at(at)
    if stale:
        return stale
    idx = ref["idx"]
    if not 0 <= idx < len(newest.raw) * 8 // newest.bits:
        return "status_out_of_range", "idx %d" % idx
    value = entry(newest.raw, newest.bits, idx)
    counts["status_values"] += 1
    return {0: "valid", 1: "revoked", 2: "suspended"}.get(value, "status_invalid"), \
        "%s entry %d = %d" % (os.path.basename(newest.path), idx, value)


def normalised(ind, v):
    """docs/spec/indicators.md n(v), binary64, evaluated left to right as written there."""
    v, t, b = float(v), float(ind["threshold"]), float(ind["best"])
    lo, hi = float(ind["min"]), float(ind["max"])
    if not lo <= v <= hi:
        raise ValueError("%s: %r outside [%r, %r]" % (ind["id"], v, lo, hi))
    higher = ind["direction"] == "higher_is_better"
    if (v >= t) if higher else (v <= t):
        if b == t:
            return 100
        return min(100, max(60, math.floor(60 + 40 * (v - t) / (b - t) + 0.5)))
    w = lo if higher else hi
    return min(59, max(0, math.floor(60 * (v - w) / (t - w))))


def overall(catalogue, ind):
    weights = [i["weight"] for i in catalogue["indicators"]]
    total = sum(w * n for w, n in zip(weights, ind))
    return (2 * total + sum(weights)) // (2 * sum(weights))


def well_formed_audit(catalogue, audit):
    ind = audit.get("ind") if isinstance(audit, dict) else None
    return (isinstance(ind, list) and len(ind) == len(catalogue["indicators"])
            and all(isinstance(n, int) and 0 <= n <= 100 for n in ind)
            and isinstance(audit.get("score"), int))


# docs/spec/indicators.md's worked example and failing values: the normalisation below is
# checked against the spec's own numbers before it is used to judge the vectors.
WORKED_EXAMPLE = {
    "values": [0.6, 97.0, 99.2, 100, 0.85, 99.7, 1.6, 1, 1, 91.7, 99.93, 100],
    "ind": [88, 76, 84, 100, 76, 88, 87, 100, 100, 67, 94, 100],
    "score": 89,
    "failing": [("site_availability", 98.0, 59), ("local_payment_redirect_timeouts", 8, 59),
                ("tls_configuration", 0, 0)],
}


def check_worked_example(catalogue):
    ind = [normalised(i, v) for i, v in zip(catalogue["indicators"], WORKED_EXAMPLE["values"])]
    if ind != WORKED_EXAMPLE["ind"] or overall(catalogue, ind) != WORKED_EXAMPLE["score"]:
        fail("indicators.md", "worked example gives %s, score %d" % (ind, overall(catalogue, ind)))
    by_id = {i["id"]: i for i in catalogue["indicators"]}
    for id_, v, n in WORKED_EXAMPLE["failing"]:
        if normalised(by_id[id_], v) != n:
            fail("indicators.md", "%s %r gives %d, not %d" % (id_, v, normalised(by_id[id_], v), n))


class Vectors:
    def __init__(self, manifest_path):
        self.dir = os.path.dirname(os.path.abspath(manifest_path))
        self.manifest = self.load(os.path.basename(manifest_path))
        with open(CATALOGUE, encoding="utf-8") as f:
            self.catalogue = json.load(f)
        m = self.manifest
        self.issuer, self.at, self.auditor = m["issuer"], m["at"], m["auditor"]
        self.registry_keys = {k["kid"]: k for k in self.load(m["jwks"])["keys"]}
        auditor_jwk = self.load(m["auditor_key"])
        self.auditor_keys = {auditor_jwk["kid"]: auditor_jwk}
        self.cases = m["cases"]
        self.lists = {}
        for path in sorted(glob.glob(os.path.join(self.dir, "statuslists", "*.jwt"))):
            with open(path, encoding="ascii") as f:
                token = f.read().strip()
            self.lists[os.path.relpath(path, self.dir)] = StatusList(
                path, token, self.registry_keys, self.issuer)
        # The statements the vectors carry, by digest: the shared ones and the audit
        # statement cases.
        self.statements = {}
        for token in m.get("audit_statements", []) + [
                c["token"] for c in self.cases if c["kind"] == "audit_statement"]:
            self.statements[b64url_encode(hashlib.sha256(token.encode("ascii")).digest())] = token

    def load(self, rel):
        with open(os.path.join(self.dir, rel), encoding="utf-8") as f:
            return json.load(f)

    def check_keys(self):
        for jwk in list(self.registry_keys.values()) + list(self.auditor_keys.values()):
            counts["keys"] += 1
            if thumbprint(jwk) != jwk["kid"]:
                fail("key %s" % jwk["kid"], "kid is not its thumbprint %s" % thumbprint(jwk))

    def check_list_files(self):
        named = {rel for c in self.cases if c["kind"] == "badge" for rel in c["status_lists"]}
        for rel, sl in sorted(self.lists.items()):
            counts["lists"] += 1
            if rel not in named:
                fail(rel, "no badge case names this list, so nothing states what it must do")
            when = sl.status_at(self.at)
            print("list %-32s %s" % (rel, sl.problem or "verifies" + (
                ", %s at `at`" % when[1] if when else "")))

    def check_case(self, case):
        kind, reason = case["kind"], case["expect"]["reason"]
        if kind not in TYP:
            return fail(case["name"], "unknown kind %r" % kind)
        parts = split(case["token"])
        typ = parts[0].get("typ") if parts else None
        if reason == "wrong_type":
            if typ == TYP[kind]:
                fail(case["name"], "expected wrong_type but typ is %r" % typ)
            return None
        if kind == "badge":
            return self.check_badge(case, parts, typ)
        counts["signatures"] += 1
        if kind == "status_list":
            detail = StatusList(case["name"], case["token"], self.registry_keys,
                                self.issuer).problem or "valid"
            # The vectors name every decoding problem of a list `malformed`.
            got = "malformed" if detail.startswith("list:") else detail
        else:
            got = detail = self.statement_result(case, parts, kind)
        if got != reason:
            fail(case["name"], "independent check gives %s, expected %s" % (detail, reason))
        return None

    def statement_result(self, case, parts, kind):
        sig = signature_verdict(case["token"], kind, self.auditor_keys)
        if sig != "good":
            return {"unknown_key": "wrong_key", "unparsed": "malformed"}.get(sig, sig)
        c, at = claims_of(parts[1]), case.get("at", self.at)
        if c.get("iss") != self.auditor:
            return "malformed"
        if bad_text(c, kind) or (kind == "audit_statement" and c["audited_at"] > c["iat"]):
            counts["form"] += 1
            return "malformed"
        if c["iat"] > at + MAX_FUTURE_SKEW:
            return "future"
        if c["iat"] < at - MAX_STATEMENT_AGE:
            return "stale"
        if kind == "audit_statement" and c["audited_at"] > at:
            counts["form"] += 1
            return "audited_in_future"
        return "valid"

    def check_badge(self, case, parts, typ):
        name, reason = case["name"], case["expect"]["reason"]
        claims = claims_of(parts[1]) if parts else None
        if reason in AFTER_SIGNATURE | STATUS_REASONS | {"bad_signature", "unknown_key"}:
            counts["signatures"] += 1
            sig = signature_verdict(case["token"], "badge", self.registry_keys)
            want = reason if reason in ("bad_signature", "unknown_key") else "good"
            if typ != TYP["badge"] or sig != want:
                fail(name, "typ %r, signature check gives %s, expected %s" % (typ, sig, want))
        if isinstance(claims, dict) and isinstance(claims.get("iat"), int) \
                and isinstance(claims.get("exp"), int):
            too_long = claims["exp"] - claims["iat"] > MAX_BADGE_LIFETIME + MAX_FUTURE_SKEW
            if too_long or bad_text(claims, "badge"):
                counts["form"] += 1
                if reason != "malformed":
                    fail(name, "lives %d s or shows deceptive text, yet expected %s"
                         % (claims["exp"] - claims["iat"], reason))
        audit = claims.get("audit") if claims else None
        shaped = claims is not None and well_formed_audit(self.catalogue, audit)
        if shaped:
            self.check_shape(name, reason, audit)
        if reason in UNSHAPED:
            return
        if not shaped:
            return fail(name, "expected %s, so its claims and audit must be well formed" % reason)
        if reason in STATUS_REASONS:
            self.check_status(case, claims)
        counts["score"] += 1
        score = overall(self.catalogue, audit["ind"])
        if score != audit["score"]:
            fail(name, "score %d, recomputed %d" % (audit["score"], score))
        self.check_statement(name, claims, audit)

    def check_shape(self, name, reason, audit):
        counts["shape"] += 1
        bad_score = overall(self.catalogue, audit["ind"]) != audit["score"]
        failing = any(n < 60 for n, i in zip(audit["ind"], self.catalogue["indicators"])
                      if i["required"])
        counts["shape_bad_score"] += bad_score
        counts["shape_failing_ind"] += failing
        if (bad_score or failing) and reason != "malformed":
            fail(name, "inconsistent score or a failing indicator, yet expected %s" % reason)

    def check_status(self, case, claims):
        counts["status"] += 1
        missing = [rel for rel in case["status_lists"] if rel not in self.lists]
        if missing:
            return fail(case["name"], "names missing list files %s" % missing)
        try:
            got, why = badge_status(claims, [self.lists[rel] for rel in case["status_lists"]],
                                    case.get("at", self.at))
        except (KeyError, TypeError) as e:
            return fail(case["name"], "no usable status claim: %r" % e)
        if got != case["expect"]["reason"]:
            fail(case["name"], "status step gives %s (%s), expected %s"
                 % (got, why, case["expect"]["reason"]))
        return None

    def check_statement(self, name, claims, audit):
        counts["digest"] += 1
        statement = self.statements.get(audit.get("digest"))
        if statement is None:
            return fail(name, "audit.digest %r is the digest of no statement in the vectors"
                        % audit.get("digest"))
        s_parts = split(statement)
        s_claims = claims_of(s_parts[1]) if s_parts else None
        if (s_claims is None or s_parts[0].get("typ") != TYP["audit_statement"]
                or signature_verdict(statement, "audit_statement", self.auditor_keys) != "good"
                or s_claims.get("iss") != claims.get("auditor")
                or claims.get("auditor") != self.auditor):
            return fail(name, "its statement is not signed by auditor %r" % claims.get("auditor"))
        counts["ind"] += 1
        values = s_claims.get("indicators", {})
        try:
            if sorted(values) != sorted(i["id"] for i in self.catalogue["indicators"]):
                raise ValueError("indicator ids %s" % sorted(values))
            want = [normalised(i, values[i["id"]]["value"]) for i in self.catalogue["indicators"]]
        except (ValueError, KeyError, TypeError) as e:
            return fail(name, "its statement's values do not score: %s" % e)
        if want != audit["ind"]:
            fail(name, "audit.ind %s, from the statement's values %s" % (audit["ind"], want))
        return None


def main():
    v = Vectors(sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "cases.json"))
    check_worked_example(v.catalogue)
    v.check_keys()
    v.check_list_files()
    for case in v.cases:
        v.check_case(case)
    for check, floor in MIN.items():
        if counts[check] < floor:
            fail("count", "%s went through %d items, fewer than %d" % (check, counts[check], floor))
    for p in problems:
        print("FAIL " + p)
    print("counts: " + ", ".join("%s %d" % (k, n) for k, n in counts.items()))
    print("%d problem(s)" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
