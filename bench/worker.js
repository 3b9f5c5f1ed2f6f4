// Benchmark worker: POST /setup[?only=IMPL] with the keys and tokens (only=: build just that
// implementation, so a cold isolate warms nothing else), then GET /run?alg&impl&n runs n
// validations. workerd freezes its clock during a request, so the caller times requests.
import * as jose from 'jose';
import * as tg from 'tokengate';

const ISS = 'https://issuer.example';
const AUD = 'api';
const SCOPE = 'users:read';
let impls = {};

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
