// The edge worker on workerd for the identity-provider tests: one issuer followed by discovery
// (an oidc-provider from idp.mjs), on real local KV seeded with an empty revocation list and
// grants, and requests answered as { status, code, body } with the headers the tests read.
import { now, waitFor } from './helpers.mjs';
import { RESOURCES } from './idp.mjs';
import { startWorkerd, workerdOptions } from './workerd.mjs';

/** A configuration following `idp` by discovery under the RFC 9068 profile; `extra` overrides. */
export function oidcConfig(idp, extra = {}) {
  return {
    realm: 'api',
    protect: '/api/',
    routes: [{ method: '*', path: '/api/*' }],
    issuers: [{ issuer: idp.issuer, discovery: true, profile: 'rfc9068', audience: Object.values(RESOURCES) }],
    cacheTtl: 1,
    kidCooldown: 2,
    keysMaxStale: 60,
    remoteKeys: { minMaxAge: 60, maxMaxAge: 60, timeout: 1 },
    ...extra,
  };
}

/**
 * `script` (from bundleWorker) on workerd with `config`, disposed through `cleanup`; `persist`: a
 * KV directory that outlives this workerd. `restart()` starts a new isolate on the same KV and
 * Cache API storage.
 */
export async function startOidcWorker(script, config, { cleanup, persist } = {}) {
  const options = {
    kvNamespaces: ['TOKENGATE'],
    ...(persist && { kvPersist: persist }),
    bindings: { TOKENGATE_CONFIG: JSON.stringify(config) },
  };
  const mf = await startWorkerd(script, options);
  cleanup.push(() => mf.dispose());
  const kv = await mf.getKVNamespace('TOKENGATE');
  if (!(await kv.get('revocations'))) {
    await kv.put('revocations', JSON.stringify({ schema: 1, version: 1, generated_at: now() }));
    await kv.put('grants', JSON.stringify({ schema: 1, version: 1, issuers: {}, tenants: {} }));
  }
  const call = async (token, path = '/api/x') => {
    const res = await mf.dispatchFetch(`http://localhost${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return {
      status: res.status,
      code: body?.code,
      body,
      retryAfter: res.headers.get('retry-after'),
      challenge: res.headers.get('www-authenticate'),
    };
  };
  const w = {
    mf,
    kv,
    call,
    /** The whole health document. */
    health: async (token) => (await call(token, '/.well-known/tokengate/health')).body,
    /** Health of the (first) configured issuer. */
    issuerHealth: async (token) => (await call(token, '/.well-known/tokengate/health')).body.issuers[0],
    restart: async () => {
      await mf.setOptions(workerdOptions(script, options));
      w.kv = await mf.getKVNamespace('TOKENGATE');
    },
  };
  return w;
}

/** Polls `fn` until it returns a truthy value (a condition, not a sleep), up to `ms`. */
export const until = (fn, ms = 15_000, what = 'condition') => waitFor(fn, { timeout: ms, message: `timed out waiting for ${what}` });

/** Provider fetches between two `idp.fetched()` counts. */
export const delta = (a, b) => ({ discovery: b.discovery - a.discovery, jwks: b.jwks - a.jwks });

/** The same token with another `kid` in its header (signature no longer matters: kid first). */
export function withKid(token, kid) {
  const [h, p, s] = token.split('.');
  const header = { ...JSON.parse(Buffer.from(h, 'base64url')), kid };
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), p, s].join('.');
}
