"""Interoperability proof: TrustMark badges against PyJWT, an independent
JOSE/JWT implementation for Python (signatures via `cryptography`).

Direction 1: tokens written by our generator (testdata/vectors/cases.json)
             are verified, or rejected, by PyJWT.
Direction 2: badges minted by PyJWT are verified by the real `trustmark`
             binary (SPEC 5, `trustmark verify ... --json`).

Run from the repository root:
    python3 -m venv .venv
    .venv/bin/pip install -r tests/interop/requirements.txt pytest
    .venv/bin/python -m pytest tests/interop -q
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt.algorithms import OKPAlgorithm

ROOT = Path(__file__).resolve().parents[2]
VECTORS_DIR = ROOT / "testdata" / "vectors"
VECTORS = json.loads((VECTORS_DIR / "cases.json").read_text(encoding="utf-8"))
JWKS_PATH = VECTORS_DIR / VECTORS["jwks"]
JWKS = json.loads(JWKS_PATH.read_text(encoding="utf-8"))
PRIVATE_JWK = json.loads((ROOT / "keys-example" / "registry-badge.jwk").read_text(encoding="utf-8"))
ISSUER = VECTORS["issuer"]
AT = VECTORS["at"]
TYP = "trustmark+jwt"
BIN = Path(os.environ["TRUSTMARK_BIN"]).resolve() if os.environ.get("TRUSTMARK_BIN") else ROOT / "target" / "debug" / "trustmark"
STATUS_LIST = VECTORS_DIR / "statuslists" / "1.jwt"
ORIGIN = "https://www.supplier.example"

BADGE_CASES = [c for c in VECTORS["cases"] if c["kind"] == "badge"]
VALID_CASES = [c for c in BADGE_CASES if c["expect"]["verdict"] == "valid"]

# PyJWT checks exp/nbf/iat against the machine's clock; the vectors are pinned
# to their own verification time, so those three checks (and only those) are
# switched off and done below against `at`. Signature, algorithm allow-list,
# issuer and the presence of the claims stay with PyJWT.
DECODE_OPTIONS = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_iss": True,
    "require": ["iss", "sub", "iat", "exp", "jti"],
}


def case(name: str) -> dict:
    found = [c for c in VECTORS["cases"] if c["name"] == name]
    assert len(found) == 1, f"vector case {name} exists once in cases.json"
    return found[0]


def b64url_json(part: str) -> dict:
    """Decode a compact JWS part independently of PyJWT."""
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def decode_parts(token: str) -> tuple[dict, dict]:
    h, p, _ = token.split(".")
    return b64url_json(h), b64url_json(p)


def jwk_for_kid(kid: str) -> dict | None:
    return next((k for k in JWKS["keys"] if k["kid"] == kid), None)


def public_key_from_jwk(jwk: dict) -> Ed25519PublicKey:
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519"
    x = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(x)


def pyjwt_with_ed25519_alias() -> jwt.PyJWT:
    """A private PyJWT instance that also knows the RFC 9864 name `Ed25519`.

    PyJWT only registers `EdDSA`; its own OKPAlgorithm does the Ed25519
    verification under the fully-specified name.
    """
    inst = jwt.PyJWT()
    inst._jws.register_algorithm("Ed25519", OKPAlgorithm())  # noqa: SLF001 (no public hook)
    return inst


def rfc7638_thumbprint(jwk: dict) -> str:
    """RFC 7638 JWK thumbprint of an OKP key (required members crv, kty, x)."""
    canonical = json.dumps({"crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"]}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def check_times(claims: dict, at: int) -> None:
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int)
    assert claims["iat"] <= at < claims["exp"], (claims["iat"], at, claims["exp"])
    if "nbf" in claims:
        assert claims["nbf"] <= at


# ---------------------------------------------------------------------------
# Direction 1: our vectors through PyJWT


def test_there_are_valid_badge_vectors():
    assert len(VALID_CASES) >= 6
    assert "valid" in [c["name"] for c in VALID_CASES]
    assert any(decode_parts(c["token"])[0]["alg"] == "Ed25519" for c in VALID_CASES)


@pytest.mark.parametrize("c", VALID_CASES, ids=lambda c: c["name"])
def test_valid_badge_verifies_with_pyjwt(c):
    token = c["token"]
    header, payload = decode_parts(token)
    unverified = jwt.get_unverified_header(token)
    assert unverified == header
    assert unverified["typ"] == TYP
    jwk = jwk_for_kid(unverified["kid"])
    assert jwk is not None, f"JWKS has kid {unverified['kid']}"
    at = c.get("at", AT)

    if unverified["alg"] == "EdDSA":
        # Key straight from the JWK via PyJWK; its algorithm is bound to the
        # JWK's "alg" (EdDSA), and the allow-list is EdDSA only.
        claims = jwt.decode(
            token,
            jwt.PyJWK(jwk),
            algorithms=["EdDSA"],
            issuer=ISSUER,
            options=DECODE_OPTIONS,
        )
        # The same with a raw cryptography key.
        claims_raw = jwt.decode(
            token,
            public_key_from_jwk(jwk),
            algorithms=["EdDSA"],
            issuer=ISSUER,
            options=DECODE_OPTIONS,
        )
        assert claims_raw == claims
    else:
        # RFC 9864 `Ed25519`: stock PyJWT does not know the name (see the
        # caveat test below); verify with PyJWT's Ed25519 code under it.
        assert unverified["alg"] == "Ed25519"
        claims = pyjwt_with_ed25519_alias().decode(
            token,
            public_key_from_jwk(jwk),
            algorithms=["Ed25519"],
            issuer=ISSUER,
            options=DECODE_OPTIONS,
        )

    assert claims["sub"] == payload["sub"]
    assert claims["jti"] == payload["jti"]
    assert claims["iss"] == payload["iss"] == ISSUER
    assert claims == payload
    check_times(claims, at)


def test_caveat_stock_pyjwt_does_not_know_alg_ed25519():
    c = case("alg-ed25519")
    header, _ = decode_parts(c["token"])
    assert header["alg"] == "Ed25519"
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(
            c["token"],
            public_key_from_jwk(jwk_for_kid(header["kid"])),
            algorithms=["EdDSA"],
            issuer=ISSUER,
            options=DECODE_OPTIONS,
        )


@pytest.mark.parametrize("name", ["bad-signature", "tampered-payload"])
def test_forged_signature_raises_invalid_signature(name):
    c = case(name)
    assert c["expect"]["reason"] == "bad_signature"
    jwk = jwk_for_kid(jwt.get_unverified_header(c["token"])["kid"])
    assert jwk is not None
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(c["token"], jwt.PyJWK(jwk), algorithms=["EdDSA"], issuer=ISSUER, options=DECODE_OPTIONS)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(c["token"], public_key_from_jwk(jwk), algorithms=["EdDSA"], issuer=ISSUER, options=DECODE_OPTIONS)


def test_unknown_key_vector_is_verified_by_no_key_of_the_set():
    c = case("unknown-key")
    assert c["expect"]["reason"] == "unknown_key"
    assert jwk_for_kid(jwt.get_unverified_header(c["token"])["kid"]) is None
    for jwk in JWKS["keys"]:
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(c["token"], public_key_from_jwk(jwk), algorithms=["EdDSA"], issuer=ISSUER, options=DECODE_OPTIONS)


@pytest.mark.parametrize(
    "name",
    ["alg-none", "alg-none-case-None", "alg-none-case-NONE", "alg-none-case-nOnE", "alg-hs256-key-confusion", "alg-es256", "alg-rs256", "alg-ps256"],
)
def test_algorithm_confusion_rejected_by_allow_list(name):
    c = case(name)
    key = public_key_from_jwk(JWKS["keys"][0])
    with pytest.raises(jwt.InvalidAlgorithmError):
        jwt.decode(c["token"], key, algorithms=["EdDSA"], issuer=ISSUER, options=DECODE_OPTIONS)


# ---------------------------------------------------------------------------
# Direction 2: PyJWT-minted badges through the trustmark binary


def run_verify(token: str, origin: str) -> tuple[int, dict]:
    assert BIN.exists(), f"trustmark binary at {BIN} (cargo build -p trustmark-cli, or set TRUSTMARK_BIN)"
    with tempfile.TemporaryDirectory(prefix="trustmark-pyjwt-") as d:
        f = Path(d) / "badge.jwt"
        f.write_text(token, encoding="ascii")
        r = subprocess.run(
            [
                str(BIN), "verify", f"@{f}",
                "--jwks", str(JWKS_PATH),
                "--issuer", ISSUER,
                "--status-list", str(STATUS_LIST),
                "--origin", origin,
                "--at", str(AT),
                "--json",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    try:
        out = json.loads(r.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"trustmark printed no JSON object (exit {r.returncode}): {r.stdout!r} {r.stderr!r}")
    return r.returncode, out


def registry_private_key() -> Ed25519PrivateKey:
    key = jwt.PyJWK(PRIVATE_JWK).key
    assert isinstance(key, Ed25519PrivateKey)
    return key


def mint(claims: dict, key: Ed25519PrivateKey, kid: str) -> str:
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"typ": TYP, "kid": kid})
    # PyJWT writes exactly these three members (in its own, sorted, order).
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": TYP, "kid": kid}
    return token


def test_example_private_key_is_the_jwks_badge_key():
    pub = registry_private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = jwk_for_kid(PRIVATE_JWK["kid"])
    assert jwk is not None
    assert public_key_from_jwk(jwk).public_bytes(Encoding.Raw, PublicFormat.Raw) == pub


def test_pyjwt_minted_badge_is_valid():
    valid = case("valid")
    _, claims = decode_parts(valid["token"])
    token = mint(claims, registry_private_key(), PRIVATE_JWK["kid"])
    # A serialization of PyJWT's own, not the vector's bytes.
    assert token != valid["token"]
    code, out = run_verify(token, ORIGIN)
    assert out["verdict"] == "valid", out
    assert out["reason"] == "valid"
    assert code == 0
    assert out["origin"] == ORIGIN
    assert out["badge"] == claims


def test_pyjwt_minted_badge_for_another_site_is_origin_mismatch():
    _, claims = decode_parts(case("valid")["token"])
    claims = {**claims, "sub": "https://copycat.example"}
    del claims["aliases"]
    token = mint(claims, registry_private_key(), PRIVATE_JWK["kid"])
    code, out = run_verify(token, ORIGIN)
    assert out["verdict"] == "invalid"
    assert out["reason"] == "origin_mismatch"
    assert code == 1
    assert out["badge"]["sub"] == "https://copycat.example"


def test_pyjwt_minted_badge_with_key_outside_jwks_is_unknown_key():
    _, claims = decode_parts(case("valid")["token"])
    fresh = Ed25519PrivateKey.generate()
    fresh_jwk = json.loads(OKPAlgorithm.to_jwk(fresh.public_key()))
    kid = rfc7638_thumbprint(fresh_jwk)
    assert jwk_for_kid(kid) is None
    token = mint(claims, fresh, kid)
    code, out = run_verify(token, ORIGIN)
    assert out["verdict"] == "invalid"
    assert out["reason"] == "unknown_key"
    assert code == 1


def test_rfc7638_thumbprint_matches_the_jwks_kids():
    for jwk in JWKS["keys"]:
        assert rfc7638_thumbprint(jwk) == jwk["kid"]
