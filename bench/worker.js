// Benchmark worker: POST /setup[?only=IMPL] with the keys and tokens (only=: build just that
// implementation, so a cold isolate warms nothing else), then GET /run?alg&impl&n runs n
// validations. workerd freezes its clock during a request, so the caller times requests.
import * as jose from 'jose';
import * as tg from 'tokengate';

const ISS = 'https://issuer.example';
const AUD = 'api';
const SCOPE = 'users:read';
let impls = {};

// WebCrypto's parameters per JWS alg: the floor row calls crypto.subtle.verify alone.
const SUBTLE = {
  HS256: { name: 'HMAC', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 },
  ES256: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
  EdDSA: { name: 'Ed25519' },
};
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function setup(m, only) {
  impls = {};
  for (const [alg, k] of Object.entries(m)) {
    const opts = { keys: { keys: [k.publicJwk] }, issuer: ISS, audience: AUD };
    const t = k.token;
    const make = {
      'tokengate WebCrypto': () => {
        const v = new tg.Validator(opts);
        return () => v.validateAsync(t, { scope: SCOPE });
      },
      'tokengate cache hit': () => {
        const v = new tg.Validator({ ...opts, cache: true });
        return () => v.validateAsync(t, { scope: SCOPE });
      },
      // The floor of any WebCrypto validator: the signature check alone on bytes split beforehand
      // (no parsing, no claims), so a ratio to jose shows how much of its time is the primitive.
      'crypto.subtle.verify alone': async () => {
        const p = SUBTLE[alg];
        const { alg: _a, kid: _k, ...jwk } = k.publicJwk;
        const key = await crypto.subtle.importKey('jwk', jwk, p, false, ['verify']);
        const dot = t.lastIndexOf('.');
        const data = new TextEncoder().encode(t.slice(0, dot));
        const sig = unb64(t.slice(dot + 1));
        return async () => {
          if (!(await crypto.subtle.verify(p, key, sig, data))) throw new Error('signature');
        };
      },
      jose: async () => {
        const key = await jose.importJWK(k.publicJwk, alg);
        return async () => {
          const { payload } = await jose.jwtVerify(t, key, { issuer: ISS, audience: AUD, algorithms: [alg] });
          if (!payload.scope.split(' ').includes(SCOPE)) throw new Error('scope');
        };
      },
    };
    impls[alg] = {};
    for (const [name, build] of Object.entries(make)) if (!only || only === name) impls[alg][name] = await build();
  }
}

export default {
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === '/setup') {
      await setup(await req.json(), url.searchParams.get('only'));
      return Response.json(Object.keys(Object.values(impls)[0]));
    }
    const fn = impls[url.searchParams.get('alg')]?.[url.searchParams.get('impl')];
    const n = Number(url.searchParams.get('n'));
    if (!fn) return new Response('unknown impl', { status: 404 });
    for (let i = 0; i < n; i++) await fn();
    return new Response('ok');
  },
};
