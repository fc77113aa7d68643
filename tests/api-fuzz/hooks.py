"""Schemathesis hooks for fuzzing the registry (run.sh loads them via SCHEMATHESIS_HOOKS).

- The signed request bodies are JWS compact tokens sent as raw text, so their media types
  reuse the text/plain serializer.
- Textual responses (tokens, HTML, SVG) reach schema validation as text, so their
  `type: string` schemas (and the badge token's pattern) are checked too.
- Random ids and origins almost always answer 404, so half of the generated path
  parameters name the demo badge and the registry's own origin instead (run.sh passes
  them in TRUSTMARK_FUZZ_BADGE and TRUSTMARK_FUZZ_ORIGIN).
- A random string never gets past the signature check, so three in four issuance and
  status change requests are signed with the demo auditor's published example key
  (keys-example/auditor.jwk): a valid statement or request with at most one claim
  changed, which reaches claim validation, the indicator catalogue and the writer.
"""

import base64
import itertools
import json
import os
import time
from pathlib import Path

import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
KEY = json.loads((ROOT / "keys-example/auditor.jwk").read_text())
AUDITOR = "auditor-example"
PRIVATE = Ed25519PrivateKey.from_private_bytes(base64.urlsafe_b64decode(KEY["d"] + "=="))
CATALOGUE = json.loads((ROOT / "schemas/indicators/rcep-b2b-web-1.json").read_text())
INDICATORS = CATALOGUE["indicators"]
BADGE = os.environ.get("TRUSTMARK_FUZZ_BADGE")
ORIGIN = os.environ.get("TRUSTMARK_FUZZ_ORIGIN")

schemathesis.serializer.alias(
    ["application/trustmark-audit+jwt", "application/trustmark-status+jwt"], "text/plain"
)


@schemathesis.deserializer(
    "application/trustmark+jwt",
    "application/statuslist+jwt",
    "text/plain",
    "text/html",
    "image/svg+xml",
)
def _as_text(_ctx, response):
    return response.content.decode(response.encoding or "utf-8")


@schemathesis.hook
def flatmap_path_parameters(_ctx, path_parameters):
    known = {"id": BADGE, "origin": ORIGIN}
    known = {k: v for k, v in known.items() if v and path_parameters and k in path_parameters}
    if not known:
        return st.just(path_parameters)
    return st.sampled_from([path_parameters, {**path_parameters, **known}])


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(typ, claims):
    header = {"alg": "EdDSA", "typ": typ, "kid": KEY["kid"]}
    signing_input = ".".join(
        _b64(json.dumps(part, ensure_ascii=False).encode()) for part in (header, claims)
    )
    return f"{signing_input}.{_b64(PRIVATE.sign(signing_input.encode()))}"


# Seconds from now: inside and just outside the 600 s age and 60 s skew windows, and wild.
OFFSETS = st.sampled_from([-601, -599, 0, 59, 61, 86_400]) | st.integers()
# Ids from a counter, not drawn: Hypothesis draws the same simple values again and again.
# Every tenth is one fixed id, so that some requests replay an earlier one.
_SERIAL = itertools.count(1)


def _jti():
    n = next(_SERIAL)
    return "fuzz-replay" if n % 10 == 0 else f"fuzz-{n}"


JTIS = st.builds(_jti)
ORIGINS = st.sampled_from(
    [
        "https://supplier.example",
        "https://xn--fsqu00a.example",
        "https://Supplier.example",
        "http://supplier.example",
        "https://supplier.example:443",
        "https://supplier.example/",
        "http://127.0.0.1:8700",
    ]
) | st.text(max_size=40)
# Display text: blank, too long, a bidi override, a control character, non-ASCII.
TEXTS = st.sampled_from(["", " ", "a" * 201, "x\u202ey", "tab\there", "\u00e9\u4e2d"]) | st.text(
    max_size=60
)
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=5,
)


@st.composite
def _statement(draw):
    now = int(time.time())
    # Every value between the threshold and the best value passes.
    indicators = {
        i["id"]: {"value": draw(st.floats(*sorted([i["threshold"], i["best"]])))}
        for i in INDICATORS
    }
    claims = {
        "iss": AUDITOR,
        "iat": now,
        "jti": draw(JTIS),
        "sub": "https://supplier.example",
        "org": {"name": "Example Electronics Co., Ltd.", "country": "CN", "reg": "914403MA5X"},
        "scheme": "rcep-b2b-web/1",
        "audited_at": now - 86_400,
        "valid_days": 365,
        "indicators": indicators,
    }
    mutation = draw(
        st.sampled_from(
            [None, "iat", "audited_at", "valid_days", "sub", "aliases", "org", "indicator"]
            + ["iss", "scheme", "languages", "report_uri", "extra", "drop", "retype"]
        )
    )
    some_id = draw(st.sampled_from(sorted(claims)))
    indicator = draw(st.sampled_from(sorted(indicators)))
    if mutation == "iat":
        claims["iat"] = now + draw(OFFSETS)
        claims["audited_at"] = min(claims["audited_at"], claims["iat"])
    elif mutation == "audited_at":
        claims["audited_at"] = now + draw(OFFSETS | st.sampled_from([-401 * 86_400, -365 * 86_400]))
    elif mutation == "valid_days":
        claims["valid_days"] = draw(st.sampled_from([0, 1, 400, 401, -1, 65_536]) | st.integers())
    elif mutation == "sub":
        claims["sub"] = draw(ORIGINS)
    elif mutation == "aliases":
        claims["aliases"] = draw(st.lists(ORIGINS, max_size=21))
    elif mutation == "org":
        claims["org"] = {
            "name": draw(TEXTS),
            "country": draw(st.sampled_from(["CN", "cn", "ZZ", "CHN"])),
            **({"reg": draw(TEXTS)} if draw(st.booleans()) else {}),
        }
    elif mutation == "indicator":
        claims["indicators"][indicator] = draw(
            st.builds(dict, value=st.floats(-1e3, 1e4) | st.floats() | ANY_JSON) | ANY_JSON
        )
    elif mutation == "iss":
        claims["iss"] = draw(st.sampled_from(["unknown-lab", "", "a" * 65]) | st.text(max_size=10))
    elif mutation == "scheme":
        claims["scheme"] = draw(st.text(max_size=20))
    elif mutation == "languages":
        tags = st.sampled_from(["en", "zh-Hans", "x-private", "-", ""]) | st.text(max_size=9)
        claims["languages"] = draw(st.lists(tags, max_size=31))
    elif mutation == "report_uri":
        claims["report_uri"] = draw(ORIGINS.map(lambda o: o + "/report") | st.text(max_size=30))
    elif mutation == "extra":
        claims[draw(st.text(max_size=10))] = draw(ANY_JSON)
    elif mutation == "drop":
        del claims[some_id]
    elif mutation == "retype":
        claims[some_id] = draw(ANY_JSON)
    # Now and then the other signed type, which must not pass for this one.
    typ = "trustmark-status+jwt" if draw(st.integers(0, 19)) == 19 else "trustmark-audit+jwt"
    return _sign(typ, claims)


@st.composite
def _status_change(draw, badge):
    now = int(time.time())
    claims = {
        "iss": AUDITOR,
        "iat": now,
        "jti": draw(JTIS),
        "badge": badge if badge is not None else "b_missing",
        "action": draw(st.sampled_from(["suspend", "reinstate", "revoke"])),
        "reason": "audit follow-up",
    }
    mutation = draw(
        st.sampled_from([None, "iat", "badge", "action", "reason", "iss", "drop", "retype"])
    )
    some_id = draw(st.sampled_from(sorted(claims)))
    if mutation == "iat":
        claims["iat"] = now + draw(OFFSETS)
    elif mutation == "badge":
        claims["badge"] = draw(st.sampled_from(["b_other", "x" * 41]) | st.text(max_size=12))
    elif mutation == "action":
        claims["action"] = draw(st.text(max_size=10))
    elif mutation == "reason":
        claims["reason"] = draw(TEXTS)
    elif mutation == "iss":
        claims["iss"] = draw(st.sampled_from(["unknown-lab", ""]) | st.text(max_size=10))
    elif mutation == "drop":
        del claims[some_id]
    elif mutation == "retype":
        claims[some_id] = draw(ANY_JSON)
    # Now and then the other signed type, which must not pass for this one.
    typ = "trustmark-audit+jwt" if draw(st.integers(0, 19)) == 19 else "trustmark-status+jwt"
    return _sign(typ, claims)


def _with_body(case, body):
    case.body = body
    return case


@schemathesis.hook
def flatmap_case(ctx, case):
    label = f"{case.method.upper()} {case.path}"
    if label == "POST /api/v1/badges":
        signed = _statement()
    elif label == "POST /api/v1/badges/{id}/status":
        signed = _status_change((case.path_parameters or {}).get("id"))
    else:
        return st.just(case)
    # Three in four signed: the unsigned rest is what schemathesis made of the schema.
    signed = signed.map(lambda body: _with_body(case, body))
    return st.one_of(st.just(case), signed, signed, signed)
