// Ed25519 through WebCrypto, where the browser has it (Chrome 137+, Firefox 129+, Safari 17+,
// node 20). A browser without it throws (NotSupportedError); the caller then loads the
// fallback rather than treating the badge as bad.

export async function verifyWebCrypto(publicKey, signature, message) {
  const alg = { name: 'Ed25519' };
  const key = await crypto.subtle.importKey('raw', publicKey, alg, false, ['verify']);
  return crypto.subtle.verify(alg, key, signature, message);
}
