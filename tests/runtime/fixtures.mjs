// Builds the fixtures every runtime's run of the shared suite uses: keys and tokens minted by
// tokengate and by jose (real keys, generated here once), plus the Wycheproof JWS vectors.
// Writes artifacts/fixtures.json; reused while this script, the wasm and the vectors are unchanged.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as jose from 'jose';
import * as tg from '../../js/node.js';
import { ISS, NOW, claims } from './helpers.mjs';

const root = new URL('../../', import.meta.url);
const out = new URL('artifacts/fixtures.json', root);
const vectors = new URL('tests/data/wycheproof/json_web_signature_test.json', root);
const inputs = [new URL(import.meta.url), new URL('tests/runtime/helpers.mjs', root), new URL('pkg/tokengate_bg.wasm', root), vectors];

export { ISS, NOW };
export const TG_ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'ES256K',
  'EdDSA',
];
// Every JWS algorithm jose supports that tokengate supports too (jose has no ES256K).
export const JOSE_ALGS = TG_ALGS.filter((a) => a !== 'ES256K');

async function joseKey(alg) {
  if (alg.startsWith('HS')) {
    const bytes = crypto.getRandomValues(new Uint8Array(Number(alg.slice(2)) / 8));
    const jwk = { kty: 'oct', k: jose.base64url.encode(bytes), alg, kid: `jose-${alg}` };
    return { privateJwk: jwk, publicJwk: jwk };
  }
  const { privateKey, publicKey } = await jose.generateKeyPair(alg, { extractable: true, crv: alg === 'EdDSA' ? 'Ed25519' : undefined });
  const kid = `jose-${alg}`;
  return {
    privateJwk: { ...(await jose.exportJWK(privateKey)), alg, kid },
    publicJwk: { ...(await jose.exportJWK(publicKey)), alg, kid },
  };
}

async function build() {
  const fx = { NOW, ISS, algs: {}, jose: {}, wycheproof: JSON.parse(readFileSync(vectors, 'utf8')) };
  for (const alg of TG_ALGS) {
    const priv = tg.generateKey(alg, { kid: `tg-${alg}` });
    // HMAC keys verify with the secret itself; asymmetric ones with the public half.
    const pub = alg.startsWith('HS') ? priv : tg.publicJwk(priv);
    fx.algs[alg] = {
      privateJwk: priv,
      publicJwk: pub,
      token: tg.mint(priv, claims()),
      noIat: tg.mint(priv, claims({ iat: undefined, exp: NOW + 100 })),
      expired: tg.mint(priv, claims({ iat: NOW - 7200, exp: NOW - 3600 })),
      wrongIss: tg.mint(priv, claims({ iss: 'https://evil.example' })),
      wrongAud: tg.mint(priv, claims({ aud: 'other' })),
      admin: tg.mint(priv, claims({ scope: 'admin users:*' })),
      unicode: tg.mint(priv, claims({ name: 'Zoë ✓ 名前 😀', note: 'a "quoted" \\ \u2028 line' })),
    };
  }
  for (const alg of JOSE_ALGS) {
    const { privateJwk, publicJwk } = await joseKey(alg);
    const key = await jose.importJWK(privateJwk, alg);
    const token = await new jose.SignJWT(claims()).setProtectedHeader({ alg, kid: privateJwk.kid, typ: 'JWT' }).sign(key);
    fx.jose[alg] = { publicJwk, token };
  }
  fx.apiKey = tg.apiKey.create({ name: 'ci', owner: 'user-9', scopes: ['deploy:write'], now: NOW });
  // What the full module's pure-Rust path decides for each Wycheproof vector, which the edge
  // module (workerd, Chromium) must match case by case.
  fx.wycheproofExpected = {};
  for (const group of fx.wycheproof.testGroups) {
    let v;
    try {
      v = new tg.Validator({ keys: group.public ?? group.private, requireExp: false, maxLifetime: 0, native: false });
    } catch (e) {
      v = `keys:${e.code}`;
    }
    for (const t of group.tests) {
      if (typeof v === 'string') {
        fx.wycheproofExpected[t.tcId] = v;
        continue;
      }
      try {
        v.validate(t.jws ?? '', { now: NOW });
        fx.wycheproofExpected[t.tcId] = 'ok';
      } catch (e) {
        fx.wycheproofExpected[t.tcId] = e.code ?? `threw ${e.name}`;
      }
    }
  }
  return fx;
}

export async function fixtures() {
  const fresh = existsSync(out) && inputs.every((f) => statSync(f).mtimeMs < statSync(out).mtimeMs);
  if (!fresh) {
    mkdirSync(new URL('artifacts/', root), { recursive: true });
    writeFileSync(out, JSON.stringify(await build()));
  }
  return JSON.parse(readFileSync(out, 'utf8'));
}

if (import.meta.url === `file://${process.argv[1]}`) await fixtures();
