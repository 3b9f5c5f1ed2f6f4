// Benchmark worker: POST /setup with the keys and tokens, then GET /run?alg&impl&n runs n
// validations. workerd freezes its clock during a request, so the caller times requests.
import * as jose from 'jose';
import * as tg from 'tokengate';

const ISS = 'https://issuer.example';
const AUD = 'api';
const SCOPE = 'users:read';
let impls = {};

async function setup(m) {
  impls = {};
  for (const [alg, k] of Object.entries(m)) {
    const opts = { keys: { keys: [k.publicJwk] }, issuer: ISS, audience: AUD };
    const wasmV = new tg.Validator({ ...opts, native: false });
    const nativeV = new tg.Validator(opts);
    const cachedV = new tg.Validator({ ...opts, cache: true });
    const key = await jose.importJWK(k.publicJwk, alg);
    const t = k.token;
    impls[alg] = {
      'tokengate wasm': () => wasmV.validate(t, { scope: SCOPE }),
      'tokengate WebCrypto': () => nativeV.validateAsync(t, { scope: SCOPE }),
      'tokengate cache hit': () => cachedV.validate(t, { scope: SCOPE }),
      jose: async () => {
        const { payload } = await jose.jwtVerify(t, key, { issuer: ISS, audience: AUD, algorithms: [alg] });
        if (!payload.scope.split(' ').includes(SCOPE)) throw new Error('scope');
      },
    };
  }
}

export default {
  async fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === '/setup') {
      await setup(await req.json());
      return Response.json(Object.keys(impls.HS256));
    }
    const fn = impls[url.searchParams.get('alg')]?.[url.searchParams.get('impl')];
    const n = Number(url.searchParams.get('n'));
    if (n > 0 && !fn) return new Response('unknown impl', { status: 404 });
    for (let i = 0; i < n; i++) await fn();
    return new Response('ok');
  },
};
