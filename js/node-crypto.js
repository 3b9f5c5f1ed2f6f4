// Signature primitives from `node:crypto`, synchronous, KeyObjects created once per key.
import { createPublicKey, verify, constants } from 'node:crypto';

const HASH = { 256: 'sha256', 384: 'sha384', 512: 'sha512' };
const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

export const nodePrimitive = {
  /** A KeyObject, or null when this Node cannot import the key (the core then verifies). */
  importKey(jwk) {
    try {
      return createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return null;
    }
  },
  /** Never throws: a primitive that cannot check a signature did not verify it. */
  verify(alg, key, data, signature) {
    try {
      switch (alg.slice(0, 2)) {
        case 'RS':
          return verify(HASH[alg.slice(2)], data, key, signature);
        case 'PS':
          return verify(HASH[alg.slice(2)], data, { key, ...PSS }, signature);
        case 'ES':
          return verify(HASH[alg.slice(2, 5)], data, { key, dsaEncoding: 'ieee-p1363' }, signature);
        case 'Ed':
          return verify(null, data, key, signature);
        default:
          return false;
      }
    } catch {
      return false;
    }
  },
};
