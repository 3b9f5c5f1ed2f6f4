// The glue of the edge module (pkg-edge/) as the workerd and browser entries install it: the
// bindings only the full module has (bindings/wasm/src/full.rs) throw an Error naming the full
// module, where a call would otherwise be a bare "wasm.mint is not a function" TypeError.
// tests/js/edge-glue.test.mjs checks this list is exactly what the full module has beyond the
// edge module's exports.

/** The binding core.js calls → the API a caller used. */
const FULL_ONLY = {
  mint: 'mint',
  generateKey: 'generateKey',
  publicJwk: 'publicJwk',
  apiKeyGenerate: 'apiKey.generate',
  apiKeyCreate: 'apiKey.create',
  apiKeyRotate: 'apiKey.rotate',
  apiKeyRevoke: 'apiKey.revoke',
  revocationEntry: 'revocations.entry',
  issuerLifetimes: 'lifecycle.lifetimes',
  tokenExpiry: 'lifecycle.tokenExpiry',
  revocationUntil: 'lifecycle.until',
  apiKeyRecordFits: 'lifecycle.checkApiKeyRecord',
  auditMetadata: 'lifecycle.auditMetadata',
};

export const fullOnly = () => Object.keys(FULL_ONLY);

/** `glue` (the edge module's wasm-bindgen glue, initialised) with the full-only bindings filled in. */
export function edgeGlue(glue) {
  const out = { ...glue };
  for (const [binding, api] of Object.entries(FULL_ONLY)) {
    if (binding in glue) continue;
    out[binding] = () => {
      throw new Error(`${api} is in the full module: import 'tokengate' under Node`);
    };
  }
  return out;
}
