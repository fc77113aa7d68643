// Interoperability proof: TrustMark badges against `jose` (panva/jose), an
// independent JOSE/JWT implementation for JavaScript.
//
// Direction 1: tokens written by our generator (testdata/vectors/cases.json)
//              are verified, or rejected, by jose.
// Direction 2: badges minted by jose are verified by the real `trustmark`
//              binary (SPEC 5, `trustmark verify ... --json`).
//
// Run: cd tests/interop && npm ci && npm test   (which is `node --test`)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  jwtVerify,
  createLocalJWKSet,
  importJWK,
  SignJWT,
  generateKeyPair,
  exportJWK,
  calculateJwkThumbprint,
  decodeProtectedHeader,
} from 'jose';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const VECTORS_DIR = join(ROOT, 'testdata', 'vectors');
const VECTORS = JSON.parse(readFileSync(join(VECTORS_DIR, 'cases.json'), 'utf8'));
const JWKS_PATH = join(VECTORS_DIR, VECTORS.jwks);
const JWKS = JSON.parse(readFileSync(JWKS_PATH, 'utf8'));
const PRIVATE_JWK = JSON.parse(readFileSync(join(ROOT, 'keys-example', 'registry-badge.jwk'), 'utf8'));
const ISSUER = VECTORS.issuer;
const BIN = process.env.TRUSTMARK_BIN
  ? resolve(process.env.TRUSTMARK_BIN)
  : join(ROOT, 'target', 'debug', 'trustmark');

// Only the EdDSA family: `EdDSA` (RFC 8037) and its fully-specified name
// `Ed25519` (RFC 9864), both of which jose 6 implements.
const ALGORITHMS = ['EdDSA', 'Ed25519'];
const TYP = 'trustmark+jwt';

const badgeCases = VECTORS.cases.filter((c) => c.kind === 'badge');
const byName = (name) => {
  const c = VECTORS.cases.find((x) => x.name === name);
  assert.ok(c, `vector case ${name} exists in cases.json`);
  return c;
};
const atOf = (c) => c.at ?? VECTORS.at;
const verifyOptions = (c) => ({
  algorithms: ALGORITHMS,
  typ: TYP,
  issuer: ISSUER,
  currentDate: new Date(atOf(c) * 1000),
});

// Independent decoding of a compact JWS part, without jose.
const b64urlJson = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
const decodeParts = (token) => {
  const [h, p] = token.split('.');
  return { header: b64urlJson(h), payload: b64urlJson(p) };
};

const jwkForKid = (kid) => JWKS.keys.find((k) => k.kid === kid);

// ---------------------------------------------------------------------------
describe('jose verifies every valid badge vector', () => {
  const validCases = badgeCases.filter((c) => c.expect.verdict === 'valid');

  test('there are valid badge vectors to check', () => {
    // Guards against the filter silently selecting nothing.
    assert.ok(validCases.length >= 6, `found ${validCases.length} valid badge cases`);
    assert.ok(validCases.some((c) => c.name === 'valid'));
    assert.ok(validCases.some((c) => decodeParts(c.token).header.alg === 'Ed25519'));
  });

  const localSet = createLocalJWKSet(JWKS);

  for (const c of validCases) {
    test(`${c.name}: jwtVerify with the JWKS key accepts it`, async () => {
      const { header, payload } = decodeParts(c.token);
      assert.equal(header.typ, TYP);
      const jwk = jwkForKid(header.kid);
      assert.ok(jwk, `JWKS has a key with kid ${header.kid}`);
      assert.equal(jwk.kty, 'OKP');
      assert.equal(jwk.crv, 'Ed25519');

      // importJWK on the key the header's kid names.
      const key = await importJWK(jwk);
      const res = await jwtVerify(c.token, key, verifyOptions(c));
      assert.equal(res.payload.sub, payload.sub);
      assert.equal(res.payload.jti, payload.jti);
      assert.equal(res.payload.iss, payload.iss);
      assert.equal(res.payload.iss, ISSUER);
      assert.deepEqual(res.payload, payload);
      assert.deepEqual(res.protectedHeader, header);

      if (header.alg === 'EdDSA') {
        // And the way a relying party would do it: key selection by jose
        // from the whole JWKS (kid, kty, alg, use).
        const viaSet = await jwtVerify(c.token, localSet, verifyOptions(c));
        assert.deepEqual(viaSet.payload, payload);
        assert.equal(viaSet.key.algorithm.name, 'Ed25519');
      }
    });
  }

  test('caveat: createLocalJWKSet does not select a JWK with alg "EdDSA" for a token with alg "Ed25519"', async () => {
    // Our JWKS publishes "alg":"EdDSA" on every key; jose matches the JWK alg
    // against the header alg, so an RFC 9864 "Ed25519" token needs the key
    // chosen by kid (as above). Documented in README.md.
    const c = byName('alg-ed25519');
    assert.equal(decodeParts(c.token).header.alg, 'Ed25519');
    await assert.rejects(jwtVerify(c.token, localSet, verifyOptions(c)), {
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
  });
});

// ---------------------------------------------------------------------------
describe('jose rejects the forged and unknown-key vectors', () => {
  const localSet = createLocalJWKSet(JWKS);

  const badSig = badgeCases.filter((c) => c.expect.reason === 'bad_signature');
  test('bad_signature vectors exist', () => {
    assert.deepEqual(badSig.map((c) => c.name).sort(), ['bad-signature', 'tampered-payload']);
  });
  for (const c of badSig) {
    test(`${c.name}: signature verification fails`, async () => {
      await assert.rejects(jwtVerify(c.token, localSet, verifyOptions(c)), {
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      const key = await importJWK(jwkForKid(decodeProtectedHeader(c.token).kid));
      await assert.rejects(jwtVerify(c.token, key, verifyOptions(c)), {
        code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
    });
  }

  // unknown_key vectors signed by a key that is not in the set at all: a stranger's
  // key, and a key the registry withdrew (listed under `withdrawn`, outside `keys`, so
  // a generic library does not trust it either). (The other unknown_key vectors — a
  // retired key outside its window, the status key signing a badge — use keys that ARE
  // in the set and are TrustMark policy on the JWKS extension members, which a generic
  // library ignores.)
  const notInSet = badgeCases.filter(
    (c) => c.expect.reason === 'unknown_key' && !jwkForKid(decodeProtectedHeader(c.token).kid),
  );
  test('unknown_key vectors signed outside the set exist', () => {
    assert.deepEqual(notInSet.map((c) => c.name), ['unknown-key', 'withdrawn-key']);
  });
  for (const c of notInSet) {
    test(`${c.name}: no key in the JWKS verifies it`, async () => {
      await assert.rejects(jwtVerify(c.token, localSet, verifyOptions(c)), {
        code: 'ERR_JWKS_NO_MATCHING_KEY',
      });
      // Not just a kid mismatch: no key of the set verifies the signature.
      for (const jwk of JWKS.keys) {
        const key = await importJWK(jwk);
        await assert.rejects(
          jwtVerify(c.token, key, verifyOptions(c)),
          { code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' },
          `key ${jwk.kid} must not verify ${c.name}`,
        );
      }
    });
  }

  // Algorithm confusion: jose's allow-list of EdDSA/Ed25519 rejects these
  // before any key is used.
  const algCases = [
    'alg-none',
    'alg-none-case-None',
    'alg-none-case-NONE',
    'alg-none-case-nOnE',
    'alg-hs256-key-confusion',
    'alg-es256',
    'alg-rs256',
    'alg-ps256',
  ];
  for (const name of algCases) {
    test(`${name}: rejected by the EdDSA-only algorithm allow-list`, async () => {
      const c = byName(name);
      await assert.rejects(jwtVerify(c.token, localSet, verifyOptions(c)), {
        code: 'ERR_JOSE_ALG_NOT_ALLOWED',
      });
      // Also when handed the badge key directly (the HS256 key-confusion
      // attack relies on a library using public-key bytes as an HMAC secret).
      const key = await importJWK(jwkForKid(JWKS.keys[0].kid));
      await assert.rejects(jwtVerify(c.token, key, verifyOptions(c)), {
        code: 'ERR_JOSE_ALG_NOT_ALLOWED',
      });
    });
  }

  test('header-crit: an unknown critical extension is rejected', async () => {
    const c = byName('header-crit');
    assert.deepEqual(decodeParts(c.token).header.crit, ['exp']);
    await assert.rejects(jwtVerify(c.token, localSet, verifyOptions(c)), {
      code: 'ERR_JOSE_NOT_SUPPORTED',
    });
  });

  test('header-jwk: jose never takes the verification key from the header', async () => {
    // The vector `header-jwk` is signed by the registry key and merely carries
    // a foreign `jwk` member; jose ignores that member and accepts the token
    // (TrustMark rejects it as malformed, a stricter policy). The attack the
    // member stands for is a token signed by the embedded key: build exactly
    // that and check jose rejects it.
    const c = byName('header-jwk');
    const claims = decodeParts(c.token).payload;
    const { publicKey, privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const attackerJwk = await exportJWK(publicKey);
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: TYP, kid: JWKS.keys[0].kid, jwk: attackerJwk })
      .sign(privateKey);
    await assert.rejects(jwtVerify(forged, localSet, verifyOptions(c)), {
      code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    });
  });
});

// ---------------------------------------------------------------------------
describe('badges minted by jose verify with the trustmark binary', () => {
  const validCase = byName('valid');
  const { header: validHeader, payload: validClaims } = decodeParts(validCase.token);
  const statusList = join(VECTORS_DIR, 'statuslists', '1.jwt');
  const ORIGIN = 'https://www.supplier.example';

  const runVerify = (token, origin) => {
    assert.ok(existsSync(BIN), `trustmark binary at ${BIN} (cargo build -p trustmark-cli, or set TRUSTMARK_BIN)`);
    const dir = mkdtempSync(join(tmpdir(), 'trustmark-jose-'));
    try {
      const file = join(dir, 'badge.jwt');
      writeFileSync(file, token);
      const r = spawnSync(
        BIN,
        [
          'verify', `@${file}`,
          '--jwks', JWKS_PATH,
          '--issuer', ISSUER,
          '--status-list', statusList,
          '--origin', origin,
          '--at', String(VECTORS.at),
          '--json',
        ],
        { encoding: 'utf8', cwd: ROOT },
      );
      assert.equal(r.error, undefined, `spawn ${BIN}: ${r.error}`);
      let out;
      try {
        out = JSON.parse(r.stdout);
      } catch (e) {
        assert.fail(`trustmark printed no JSON object (exit ${r.status}): ${r.stdout} ${r.stderr}`);
      }
      return { status: r.status, out, stderr: r.stderr };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  const signWith = (claims, privateKey, kid) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', typ: TYP, kid }).sign(privateKey);

  test('the example private key is the JWKS badge key', async () => {
    assert.equal(await calculateJwkThumbprint(PRIVATE_JWK), PRIVATE_JWK.kid);
    assert.equal(PRIVATE_JWK.kid, validHeader.kid);
    const pub = jwkForKid(PRIVATE_JWK.kid);
    assert.ok(pub);
    assert.equal(pub.x, PRIVATE_JWK.x);
  });

  test('jose-signed copy of the valid badge: exit 0, valid', async () => {
    const key = await importJWK(PRIVATE_JWK, 'EdDSA');
    const token = await signWith(validClaims, key, PRIVATE_JWK.kid);
    assert.deepEqual(decodeParts(token).header, { alg: 'EdDSA', typ: TYP, kid: PRIVATE_JWK.kid });
    // Ed25519 is deterministic and jose serializes header and claims in the
    // same member order, without whitespace, as our generator: the two
    // independent implementations produce the same bytes.
    assert.equal(token, validCase.token);
    const { status, out, stderr } = runVerify(token, ORIGIN);
    assert.equal(out.verdict, 'valid', stderr);
    assert.equal(out.reason, 'valid');
    assert.equal(status, 0);
    assert.equal(out.origin, ORIGIN);
    assert.deepEqual(out.badge, validClaims);
  });

  test('jose-signed badge with its own id (a token no generator wrote): exit 0, valid', async () => {
    const key = await importJWK(PRIVATE_JWK, 'EdDSA');
    const jti = 'b_joseMinted0001';
    const claims = { ...validClaims, jti, ref: `${ISSUER}/b/${jti}` };
    const token = await signWith(claims, key, PRIVATE_JWK.kid);
    assert.ok(!VECTORS.cases.some((c) => c.token === token));
    const { status, out, stderr } = runVerify(token, ORIGIN);
    assert.equal(out.verdict, 'valid', stderr);
    assert.equal(out.reason, 'valid');
    assert.equal(status, 0);
    assert.equal(out.badge.jti, jti);
    assert.deepEqual(out.badge, claims);
  });

  test('jose-signed badge for another site: exit 1, origin_mismatch', async () => {
    const key = await importJWK(PRIVATE_JWK, 'EdDSA');
    const claims = { ...validClaims, sub: 'https://copycat.example' };
    delete claims.aliases;
    const token = await signWith(claims, key, PRIVATE_JWK.kid);
    const { status, out } = runVerify(token, ORIGIN);
    assert.equal(out.verdict, 'invalid');
    assert.equal(out.reason, 'origin_mismatch');
    assert.equal(status, 1);
    assert.equal(out.badge.sub, 'https://copycat.example');
  });

  test('jose-signed badge with a fresh key outside the JWKS: exit 1, unknown_key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('Ed25519', { extractable: true });
    const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
    assert.equal(jwkForKid(kid), undefined);
    const token = await signWith(validClaims, privateKey, kid);
    const { status, out } = runVerify(token, ORIGIN);
    assert.equal(out.verdict, 'invalid');
    assert.equal(out.reason, 'unknown_key');
    assert.equal(status, 1);
  });
});
