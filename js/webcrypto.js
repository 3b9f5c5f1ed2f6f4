// Signature primitives from WebCrypto (`crypto.subtle`): workerd, browsers, Node. Only the
// primitive runs here; which key, which alg and whether to try at all was decided by the core.
const subtle = globalThis.crypto?.subtle;

const EC = { ES256: ['P-256', 'SHA-256'], ES384: ['P-384', 'SHA-384'], ES512: ['P-521', 'SHA-512'] };
const SHA = { 256: 'SHA-256', 384: 'SHA-384', 512: 'SHA-512' };

function params(alg) {
  const bits = alg.slice(2);
  switch (alg.slice(0, 2)) {
    case 'RS':
      return [{ name: 'RSASSA-PKCS1-v1_5', hash: SHA[bits] }, { name: 'RSASSA-PKCS1-v1_5' }];
    case 'PS':
      // RFC 7518 §3.5: the salt is as long as the hash output.
      return [
        { name: 'RSA-PSS', hash: SHA[bits] },
        { name: 'RSA-PSS', saltLength: bits / 8 },
      ];
    case 'ES':
      if (!EC[alg]) return null; // ES256K: not in WebCrypto
      return [
        { name: 'ECDSA', namedCurve: EC[alg][0] },
        { name: 'ECDSA', hash: EC[alg][1] },
      ];
    case 'Ed':
      return [{ name: 'Ed25519' }, { name: 'Ed25519' }];
    default:
      return null;
  }
}

// Only the key material: the core already applied `alg`, `use` and `key_ops`, and WebCrypto's own
// consistency checks on those members differ between runtimes.
const MATERIAL = ['kty', 'n', 'e', 'crv', 'x', 'y'];
// The verify parameters per alg, built once (WebCrypto reads them on each call).
const VERIFY = new Map();

export const webCryptoPrimitive = {
  available: subtle !== undefined,
  /** A CryptoKey for `alg`, or null when this runtime cannot import it (the core then verifies). */
  async importKey(jwk, alg) {
    const p = params(alg);
    if (!p) return null;
    const material = Object.fromEntries(MATERIAL.filter((m) => jwk[m] !== undefined).map((m) => [m, jwk[m]]));
    return subtle.importKey('jwk', material, p[0], false, ['verify']);
  },
  verify(alg, key, data, signature) {
    let p = VERIFY.get(alg);
    if (p === undefined) VERIFY.set(alg, (p = params(alg)[1]));
    return subtle.verify(p, key, signature, data);
  },
};
