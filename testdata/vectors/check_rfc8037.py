#!/usr/bin/env python3
"""Check testdata/vectors/rfc8037.json (RFC 8037 Appendix A, Ed25519 in JOSE).

Always (standard library only):
  - d and x are unpadded base64url of 32 bytes; the public JWK is the private JWK minus "d";
  - thumbprint == base64url(SHA-256('{"crv":"Ed25519","kty":"OKP","x":"<x>"}')) (RFC 7638);
  - the JWS has three parts; the first decodes to exactly {"alg":"EdDSA"} and the second to
    the payload; the signature is 64 bytes.
With the `cryptography` package, also:
  - the public key derived from d equals x;
  - the signature verifies over the JWS signing input with x;
  - signing the signing input with d reproduces the signature (Ed25519 is deterministic).

Prints one line per check; exits 1 on any failure, and when fewer checks ran than there are
(without `cryptography` the signature checks cannot run, and passing would overstate them).
Usage: python3 check_rfc8037.py [path/to/rfc8037.json]
"""
import base64
import hashlib
import json
import os
import sys

B64URL_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

results = []
# Seven structural checks and three signature checks.
MIN_CHECKS = 10


def check(name, ok, detail=""):
    results.append(bool(ok))
    print("%s %s%s" % ("ok  " if ok else "FAIL", name, (": " + detail) if detail else ""))


def b64url_decode(text):
    if set(text) - B64URL_ALPHABET or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url: %r" % text)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_encode(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "rfc8037.json")
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    print("source: %s" % v.get("source"))

    priv, pub = v["private_jwk"], v["public_jwk"]
    d = b64url_decode(priv["d"])
    x = b64url_decode(priv["x"])
    check("A.1 private JWK is kty=OKP crv=Ed25519 with 32-byte d and x",
          priv.get("kty") == "OKP" and priv.get("crv") == "Ed25519" and len(d) == 32 and len(x) == 32,
          "d=%s x=%s" % (d.hex(), x.hex()))
    check("A.2 public JWK is the private JWK without d",
          pub == {k: val for k, val in priv.items() if k != "d"})

    canonical = '{"crv":"%s","kty":"%s","x":"%s"}' % (pub["crv"], pub["kty"], pub["x"])
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    thumb = b64url_encode(digest)
    check("A.3 thumbprint = base64url(SHA-256(%s))" % canonical, thumb == v["thumbprint"],
          "computed %s (hex %s)" % (thumb, digest.hex()))

    parts = v["jws"].split(".")
    check("A.4 JWS compact serialization has 3 parts", len(parts) == 3)
    if len(parts) != 3:
        return 1
    header = b64url_decode(parts[0])
    payload = b64url_decode(parts[1])
    signature = b64url_decode(parts[2])
    check("A.4 protected header decodes to {\"alg\":\"EdDSA\"}", header == b'{"alg":"EdDSA"}',
          header.decode("utf-8", "replace"))
    check("A.4 payload decodes to %r" % v["payload"], payload == v["payload"].encode("utf-8"),
          payload.decode("utf-8", "replace"))
    check("A.4 signature is 64 bytes", len(signature) == 64, signature.hex())

    signing_input = (parts[0] + "." + parts[1]).encode("ascii")
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import (
            Ed25519PrivateKey, Ed25519PublicKey)
    except ImportError:
        print("skip signature checks: the `cryptography` package is not importable")
    else:
        sk = Ed25519PrivateKey.from_private_bytes(d)
        derived_x = sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        check("A.1 public key derived from d equals x", derived_x == x, b64url_encode(derived_x))
        try:
            Ed25519PublicKey.from_public_bytes(x).verify(signature, signing_input)
            verified = True
        except InvalidSignature:
            verified = False
        check("A.4/A.5 signature verifies with x over the signing input", verified)
        resigned = sk.sign(signing_input)
        check("A.4 signing with d reproduces the signature", resigned == signature,
              b64url_encode(resigned))

    print("%d/%d checks pass" % (sum(results), len(results)))
    if len(results) < MIN_CHECKS:
        print("FAIL only %d checks ran, expected %d" % (len(results), MIN_CHECKS))
        return 1
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
