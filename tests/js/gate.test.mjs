// The gate's one promise, tried as an attacker would: with the shipped demo routes, every method
// and path spelling below either gets its rule's answer or a 4xx, and a recording origin never
// sees a request its route should refuse. Also: the origin URL cannot become another host,
// credentials never reach the origin, API keys have their own path, grants only narrow, and
// health tells the truth without leaking details.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import * as tg from 'tokengate';
import { bundleWorker, startWorkerd } from '../runtime/workerd.mjs';
import { bearer, claims as standardClaims, listen as listenOn, now } from '../runtime/helpers.mjs';

const script = await bundleWorker('worker/index.js', 'gate');
const shipped = JSON.parse(parseToml(readFileSync(new URL('../../wrangler.toml', import.meta.url), 'utf8')).vars.TOKENGATE_CONFIG);
const ISS = 'https://issuer.test';
const TENANT_ISS = 'https://tenants.test';
const key = tg.generateKey('ES256', { kid: 'k1' });
const tenantKey = tg.generateKey('ES256', { kid: 't1' });
const entry = (k) => ({ status: 'active', created_at: now(), jwk: tg.publicJwk(k) });

/** The shipped routes and credential sources, with test issuers. */
function config(overrides = {}) {
  return {
    ...shipped,
    issuers: [
      { issuer: ISS, audience: 'api', jwks: 'jwks:main', tokenTypes: ['access'] },
      { issuer: TENANT_ISS, audience: 'api', jwks: 'jwks:tenants', tenantGrants: { tenantClaim: 'tenant', moduleClaim: 'module' } },
    ],
    routes: [...shipped.routes, { method: '*', path: '/api/refresh', tokenTypes: ['refresh'] }],
    ...overrides,
  };
}

const instances = [];
after(async () => {
  await Promise.all(instances.map((m) => m.dispose()));
  for (const s of servers) s.close();
});

/** A workerd with a recording ORIGIN service binding (and seeded KV). */
async function start(overrides = {}, seed = {}, extra = {}) {
  const seen = [];
  const mf = await startWorkerd(script, {
    kvNamespaces: ['TOKENGATE'],
    bindings: { TOKENGATE_CONFIG: JSON.stringify(config(overrides)) },
    serviceBindings: {
      ORIGIN: async (req) => {
        const u = new URL(req.url);
        seen.push({ method: req.method, path: u.pathname, query: u.search, headers: Object.fromEntries(req.headers) });
        return new Response('origin', { status: 200 });
      },
      ASSETS: async () => new Response('<!doctype html><title>page</title>', { headers: { 'content-type': 'text/html' } }),
    },
    ...extra,
  });
  instances.push(mf);
  const kv = await mf.getKVNamespace('TOKENGATE');
  const data = {
    'jwks:main': { schema: 1, version: 1, keys: [entry(key)] },
    'jwks:tenants': { schema: 1, version: 1, keys: [entry(tenantKey)] },
    revocations: { schema: 1, version: 1, generated_at: now() },
    grants: { schema: 1, version: 1, issuers: {}, tenants: {} },
    ...seed,
  };
  for (const [k, v] of Object.entries(data)) await kv.put(k, typeof v === 'string' ? v : JSON.stringify(v));
  const fetch = (path, init) => mf.dispatchFetch(`http://localhost${path}`, init);
  return { mf, kv, fetch, seen };
}

const mint = (claims = {}, k = key) =>
  tg.mint(k, standardClaims({ iss: ISS, type: 'access', iat: now() - 5, jti: crypto.randomUUID(), scope: undefined, ...claims }, now()));

async function code(res) {
  const text = await res.text();
  try {
    return JSON.parse(text).code ?? JSON.parse(text).error;
  } catch {
    return text;
  }
}

const g = await start();

test('bypass table: no method or path spelling reaches the origin past its rule', async () => {
  const billing = mint({ scope: 'billing:read' });
  const users = mint({ scope: 'users:read' });
  const admin = mint({ scope: 'admin' });
  // [method, path, token, status, code, forwarded path (when it must reach the origin)]
  const table = [
    // Methods without a rule under a protected path: denied, whatever the credential.
    ['DELETE', '/api/users/1', billing, 405, 'method_not_allowed'],
    ['PUT', '/api/users/1', billing, 405, 'method_not_allowed'],
    ['PATCH', '/api/users/1', billing, 405, 'method_not_allowed'],
    ['OPTIONS', '/api/users/1', billing, 405, 'method_not_allowed'],
    ['HEAD', '/api/users/1', billing, 403, null],
    ['HEAD', '/api/users/1', users, 200, null, '/api/users/1'],
    ['GET', '/api/users/1', users, 200, 'origin', '/api/users/1'],
    ['GET', '/api/unlisted', admin, 404, 'route_not_found'],
    // Spellings of /api/admin with only users:read.
    ['GET', '/api/Admin', users, 403, 'insufficient_scope'],
    ['GET', '/api/ADMIN/x', users, 403, 'insufficient_scope'],
    ['GET', '/api/%61dmin', users, 403, 'insufficient_scope'],
    ['GET', '/api/%41DMIN', users, 403, 'insufficient_scope'],
    ['GET', '/api//admin', users, 400, 'path_invalid'],
    ['GET', '/api/users%2f..%2fadmin', users, 400, 'path_invalid'],
    ['GET', '/api/users%2F..%2Fadmin', users, 400, 'path_invalid'],
    ['GET', '/api/users/..;/admin', users, 400, 'path_invalid'],
    ['GET', '/api/users/.%2e/admin', users, 403, 'insufficient_scope'], // the URL parser resolves it to /api/admin
    // Without any credential.
    ['GET', '/api/public/..;/admin', null, 400, 'path_invalid'],
    ['GET', '/api/public/..%2fadmin', null, 400, 'path_invalid'],
    ['GET', '/api/public/..%5cadmin', null, 400, 'path_invalid'],
    ['GET', '/api/public/../admin', null, 401, 'credential_missing'],
    ['GET', '/api/public/%2e%2e/admin', null, 401, 'credential_missing'],
    ['GET', '/api/public/x%00', null, 400, 'path_invalid'],
    ['GET', '/api/public/%c0%ae%c0%ae/admin', null, 400, 'path_invalid'],
    ['GET', '/api/public/%ef%bc%8e%ef%bc%8e/admin', null, 400, 'path_invalid'],
    ['GET', '/api/public/x;a=b', null, 400, 'path_invalid'],
    ['GET', '/api/public/%252e%252e/admin', null, 400, 'path_invalid'],
    ['GET', '/API/public/doc', null, 404, 'route_not_found'],
    ['GET', '/api/PUBLIC/doc', null, 404, 'route_not_found'],
    ['GET', '/api/%61dmin', null, 401, 'credential_missing'],
    ['GET', '/api/public/doc', null, 200, 'origin', '/api/public/doc'],
    ['GET', '/api/public/%64oc', null, 200, 'origin', '/api/public/doc'],
    ['POST', '/api/public/doc', null, 405, 'method_not_allowed'],
    // The open-proxy spellings: never an authority.
    ['GET', '//127.0.0.1:9/x', admin, 400, 'path_invalid'],
    ['GET', '/\\127.0.0.1/x', admin, 400, 'path_invalid'],
    ['GET', '/api/admin', admin, 200, 'origin', '/api/admin'],
    ['GET', '/api/ADMIN/x', admin, 200, 'origin', '/api/ADMIN/x'],
    ['GET', '/api/%61dmin', admin, 200, 'origin', '/api/admin'],
  ];
  const failures = [];
  for (const [method, path, token, status, want, forwarded] of table) {
    const before = g.seen.length;
    const res = await g.fetch(path, token ? bearer(token, { method }) : { method });
    const got = method === 'HEAD' ? null : await code(res);
    const reached = g.seen.slice(before);
    const row = `${method} ${path} ${token ? 'with token' : 'anonymous'}`;
    if (res.status !== status || (want !== null && got !== want)) failures.push(`${row}: ${res.status} ${got}, want ${status} ${want}`);
    if (forwarded) {
      if (reached.length !== 1 || reached[0].path !== forwarded || reached[0].method !== method)
        failures.push(`${row}: origin saw ${JSON.stringify(reached)}, want ${method} ${forwarded}`);
    } else if (reached.length) failures.push(`${row}: reached the origin as ${JSON.stringify(reached)}`);
  }
  assert.deepEqual(failures, []);
  // A 405 names what is allowed.
  const res = await g.fetch('/api/users/1', bearer(billing, { method: 'DELETE' }));
  assert.equal(res.headers.get('Allow'), 'GET, HEAD, POST');
});

const servers = [];
async function listen(handler) {
  const s = await listenOn(handler);
  servers.push(s);
  return s;
}

test('a URL origin: the decided path goes to the origin host, never to a host named in the path', async () => {
  const hits = { origin: [], other: [] };
  const origin = await listen((req, res) => {
    hits.origin.push(req.url);
    res.end('ok');
  });
  const other = await listen((req, res) => {
    hits.other.push(req.url);
    res.end('other');
  });
  const w = await start({ origin: `http://127.0.0.1:${origin.address().port}` }, {}, { serviceBindings: {} });
  const admin = mint({ scope: 'admin' });
  const port = other.address().port;
  for (const p of [`//127.0.0.1:${port}/x`, `/\\127.0.0.1:${port}/x`, `//127.0.0.1:${port}/api/admin`]) {
    const res = await w.fetch(p, bearer(admin));
    assert.equal(res.status, 400, p);
    assert.equal(await code(res), 'path_invalid');
  }
  const ok = await w.fetch('/api/%61dmin/x?y=1', bearer(admin));
  assert.equal(ok.status, 200);
  assert.deepEqual(hits, { origin: ['/api/admin/x?y=1'], other: [] });
});

test('credentials never reach the origin unless forwarded: header, cookie, query, API key', async () => {
  const users = mint({ scope: 'users:read' });
  const { raw, record } = tg.apiKey.create({ name: 'ci', owner: 'svc', scopes: ['users:read'], now: now() });
  await g.kv.put(`apikey:${record.hash}`, JSON.stringify(record));
  const cases = [
    ['/api/users', { headers: { Authorization: `Bearer ${users}`, Cookie: 'theme=dark' } }],
    ['/api/users', { headers: { Cookie: `theme=dark; tg_session=${users}; lang=en` } }],
    [`/api/users?a=1&access_token=${users}&b=2`, {}],
    ['/api/users', { headers: { 'X-API-Key': raw } }],
  ];
  for (const [path, init] of cases) {
    const before = g.seen.length;
    const res = await g.fetch(path, init);
    assert.equal(res.status, 200, `${path} ${JSON.stringify(init)}: ${await res.text()}`);
    const [seen] = g.seen.slice(before);
    const sent = JSON.stringify(seen);
    assert.ok(!sent.includes(users) && !sent.includes(raw), `credential forwarded: ${sent}`);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(seen.headers['x-api-key'], undefined);
    if (init.headers?.Cookie) assert.match(seen.headers.cookie, /^theme=dark(; lang=en)?$/);
    if (path.includes('?')) assert.equal(seen.query, '?a=1&b=2');
  }
  // A duplicated credential cookie is ambiguous: 400, like a duplicated query parameter.
  const dup = await g.fetch('/api/users', { headers: { Cookie: `tg_session=${users}; tg_session=x` } });
  assert.equal(dup.status, 400);
  assert.equal(await code(dup), 'invalid_request');
  assert.match(dup.headers.get('WWW-Authenticate'), /^Bearer realm="tokengate-demo", error="invalid_request"/);
  // forwardAuthorization: true passes the credential on, as received.
  const fw = await start({ forwardAuthorization: true });
  await fw.fetch('/api/users', bearer(users));
  assert.equal(fw.seen[0].headers.authorization, `Bearer ${users}`);
});

test('identity claims must read the same everywhere: control characters and padding are refused', async () => {
  for (const sub of ['admin\n', 'ad\u0000min', ' admin ', 'admin\r\nX-Auth-Scopes: *']) {
    const res = await g.fetch('/api/users', bearer(mint({ sub, scope: 'users:read' })));
    assert.equal(res.status, 401, JSON.stringify(sub));
    assert.equal(await code(res), 'claim_invalid');
  }
  // A claim mapped to a header that is not plain visible ASCII arrives JSON-encoded, never raw.
  const before = g.seen.length;
  const res = await g.fetch('/api/users', bearer(mint({ scope: 'users:read', tenant: 'acme\nX-Evil: 1' })));
  assert.equal(res.status, 200);
  assert.equal(g.seen[before].headers['x-auth-tenant'], '"acme\\nX-Evil: 1"');
  assert.equal(g.seen[before].headers['x-evil'], undefined);
});

test("API keys: their own validation path, and routes' token types apply to them", async () => {
  // The first issuer's key set is broken: JWTs of that issuer are unavailable, API keys are not.
  const w = await start({}, { 'jwks:main': { schema: 1, version: 1, keys: [{ status: 'active', jwk: { kty: 'EC' } }] } });
  const { raw, record } = tg.apiKey.create({ name: 'ci', owner: 'svc', scopes: ['users:read'], now: now() });
  await w.kv.put(`apikey:${record.hash}`, JSON.stringify(record));
  assert.equal((await w.fetch('/api/users', { headers: { 'X-API-Key': raw } })).status, 200);
  assert.equal((await w.fetch('/api/users', bearer(mint({ scope: 'users:read' })))).status, 503);
  const refresh = await w.fetch('/api/refresh', { headers: { 'X-API-Key': raw } });
  assert.equal(refresh.status, 401);
  assert.equal(await code(refresh), 'token_type_not_allowed');
});

test('grants only narrow: tenant grants apply within the issuer-wide grants', async () => {
  const w = await start(
    {},
    {
      grants: { schema: 1, version: 1, issuers: { [TENANT_ISS]: 'users:read' }, tenants: { acme: { music: ['users:read', 'admin'] } } },
    },
  );
  const t = mint({ iss: TENANT_ISS, tenant: 'acme', module: 'music', scope: 'users:read admin' }, tenantKey);
  const res = await w.fetch('/api/users', bearer(t));
  assert.equal(res.status, 200);
  assert.equal(w.seen.at(-1).headers['x-auth-scopes'], 'users:read');
  const adm = await w.fetch('/api/admin', bearer(t));
  assert.equal(adm.status, 403, 'the tenant grant cannot widen past the issuer-wide grant');
  // Unverified claims naming Object.prototype members pick no grant, never a trap or a 5xx.
  for (const [tenant, module] of [
    ['acme', '__proto__'],
    ['constructor', 'length'],
    ['__proto__', 'toString'],
  ]) {
    const r = await w.fetch('/api/users', bearer(mint({ iss: TENANT_ISS, tenant, module, scope: 'users:read' }, tenantKey)));
    assert.equal(r.status, 403, `${tenant}/${module}`);
    assert.equal(await code(r), 'insufficient_scope');
  }
});

test('health: ok/not-ok for anyone, details only with the health scope; not ok whenever the worker would 503', async () => {
  const path = '/.well-known/tokengate/health';
  const pub = await g.fetch(path);
  assert.equal(pub.status, 200);
  assert.deepEqual(await pub.json(), { ok: true });
  const denied = await g.fetch(path, bearer(mint({ scope: 'users:read' })));
  assert.equal(denied.status, 403);
  const detail = await (await g.fetch(path, bearer(mint({ scope: 'tokengate:health' })))).json();
  assert.equal(detail.ok, true);
  assert.ok(Array.isArray(detail.issuers) && detail.kv.reads > 0);
  // A key set that parses but the core rejects (duplicate kid): last known good keys keep
  // serving, and health says what is wrong.
  const w = await start({ cacheTtl: 1 });
  const t = mint({ scope: 'users:read' });
  assert.equal((await w.fetch('/api/users', bearer(t))).status, 200);
  await w.kv.put('jwks:main', JSON.stringify({ schema: 1, version: 2, keys: [entry(key), entry(key)] }));
  const deadline = Date.now() + 5000;
  let h;
  do {
    assert.equal((await w.fetch('/api/users', bearer(t))).status, 200, 'last known good');
    h = await (await w.fetch(path, bearer(mint({ scope: 'tokengate:health' })))).json();
  } while (h.issuers[0].loadFailures === 0 && Date.now() < deadline);
  assert.ok(h.issuers[0].loadFailures > 0);
  assert.match(h.issuers[0].lastError, /two keys with kid "k1"/);
  // A stale revocation list fails closed, and health says not ok (503).
  const s = await start({ maxRevocationAge: 60 }, { revocations: { schema: 1, version: 3, generated_at: now() - 120 } });
  assert.equal((await s.fetch('/api/users', bearer(t))).status, 503);
  const sh = await s.fetch(path);
  assert.equal(sh.status, 503);
  assert.deepEqual(await sh.json(), { ok: false });
});

test('the page is served with a CSP that forbids framing', async () => {
  const res = await g.fetch('/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('Content-Security-Policy'), /frame-ancestors 'none'/);
  assert.equal(res.headers.get('X-Frame-Options'), 'DENY');
  assert.equal(res.headers.get('X-Content-Type-Options'), 'nosniff');
});

test('found by an outside attacker: lenient spellings of names, GET bodies, ambiguous identity values, query bytes', async () => {
  const users = mint({ scope: 'users:read' });
  const guarded = ['xauthsubject', 'xauthscopes', 'xauthissuer', 'xauthtokenid', 'xauthkind', 'xauthtenant', 'authorization', 'xapikey'];
  const loose = (n) => n.toLowerCase().replace(/[^a-z0-9]/g, '');
  // Underscore spellings of identity and credential headers (CGI reads X_Auth_Subject as X-Auth-Subject).
  for (const [path, init] of [
    ['/api/public/doc', { headers: { X_Auth_Subject: 'admin', x_auth_scopes: 'admin', X_API_Key: 'tgk_stolen' } }],
    ['/api/users', bearer(users, { headers: { X_Auth_Scopes: 'admin', X_Auth_Kind: 'jwt' } })],
  ]) {
    const before = g.seen.length;
    assert.equal((await g.fetch(path, init)).status, 200, path);
    const seen = g.seen[before].headers;
    for (const [name, value] of Object.entries(seen)) {
      if (guarded.includes(loose(name)))
        assert.ok(name.includes('-') && !/admin|stolen/.test(value), `${name}: ${value} reached the origin`);
    }
  }
  // Look-alike credential cookies and query parameters are ambiguous: 400, never forwarded.
  for (const init of [
    bearer(users, { headers: { Cookie: `TG_SESSION=${users}` } }),
    bearer(users, { headers: { Cookie: `tg%5Fsession=${users}` } }),
    { headers: { Cookie: `a=1, tg_session=${users}, tg_session=${users}` } },
  ]) {
    const res = await g.fetch('/api/users', init);
    assert.equal(res.status, 400);
    assert.equal(await code(res), 'invalid_request');
  }
  for (const q of [`a=1;access_token=${users}`, `access_token[]=${users}`, `ACCESS_TOKEN=${users}`, `access%5Ftoken=${users}`]) {
    const res = await g.fetch(`/api/users?${q}`, bearer(users));
    assert.equal(res.status, 400, q);
  }
  // The rest of the query reaches the origin byte for byte.
  const before = g.seen.length;
  assert.equal((await g.fetch(`/api/users?q=a%20b&flag&t=~x&access_token=${users}`)).status, 200);
  assert.equal(g.seen[before].query, '?q=a%20b&flag&t=~x');
  // Identity values arrive unambiguously: a string that reads as JSON is JSON-encoded.
  const header = async (claims) => {
    const n = g.seen.length;
    assert.equal((await g.fetch('/api/users', bearer(mint({ scope: 'users:read', ...claims })))).status, 200);
    return g.seen[n].headers;
  };
  assert.notEqual((await header({ sub: '"\\u00fc"' }))['x-auth-subject'], (await header({ sub: 'ü' }))['x-auth-subject']);
  assert.notEqual((await header({ tenant: true }))['x-auth-tenant'], (await header({ tenant: 'true' }))['x-auth-tenant']);
  assert.equal((await header({ tenant: 'acme' }))['x-auth-tenant'], 'acme');
  // A GET or HEAD with a body is served (the body is not forwarded), never a 503.
  const url = new URL('/api/public/doc', await g.mf.ready);
  const status = await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', headers: { 'content-length': '1' } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end('x');
  });
  assert.equal(status, 200);
});
