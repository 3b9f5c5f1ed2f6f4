// The edge worker in real workerd (Miniflare) with its real local KV: every request path, key
// rotation, kid flooding, single-flight loading, KV failure, health and the scheduled handler.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tg from 'tokengate';
import { bundleWorker, startWorkerd, workerdOptions } from '../runtime/workerd.mjs';
import { bearer, claims as standardClaims, clockPast, now, waitFor } from '../runtime/helpers.mjs';

const script = await bundleWorker('worker/index.js', 'worker');
const ISS = 'https://issuer.test';
const OTHER_ISS = 'https://tenant-b.test';
const AUD = 'api';

const keyA = tg.generateKey('ES256', { kid: 'a' });
const keyB = tg.generateKey('EdDSA', { kid: 'b' });
const keyT = tg.generateKey('RS256', { kid: 't' }); // tenant B's issuer
const entry = (k, status = 'active', created = now()) => ({ status, created_at: created, jwk: tg.publicJwk(k) });

function config(overrides = {}) {
  return {
    realm: 'test',
    credentials: { cookie: 'sess', query: 'access_token' },
    claimHeaders: { tenant: 'X-Auth-Tenant' },
    issuers: [
      { issuer: ISS, audience: AUD, jwks: 'jwks:main', tokenTypes: ['access'] },
      { issuer: OTHER_ISS, audience: 'b-api', jwks: 'jwks:b' },
    ],
    routes: [
      { method: 'GET', path: '/api/public/*', anonymous: true },
      { method: 'GET', path: '/api/users*', scope: 'users:read' },
      { method: 'POST', path: '/api/users*', scope: 'users:write' },
      { method: '*', path: '/api/refresh', tokenTypes: ['refresh'] },
    ],
    cacheTtl: 60,
    kidCooldown: 30,
    keysMaxStale: 3600,
    maxRevocationAge: 600,
    ...overrides,
  };
}

const instances = [];
after(async () => Promise.all(instances.map((m) => m.dispose())));

/** A fresh workerd with seeded KV. */
async function start(overrides, seed = {}, extra = {}) {
  const mf = await startWorkerd(script, {
    kvNamespaces: ['TOKENGATE'],
    bindings: { TOKENGATE_CONFIG: JSON.stringify(config(overrides)) },
    ...extra,
  });
  instances.push(mf);
  const kv = await mf.getKVNamespace('TOKENGATE');
  const data = {
    'jwks:main': { schema: 1, version: 1, keys: [entry(keyA), entry(keyB, 'retired')] },
    'jwks:b': { schema: 1, version: 1, keys: [entry(keyT)] },
    revocations: { schema: 1, version: 1, generated_at: now(), jti: [{ iss: ISS, jti: 'revoked-1', until: now() + 3600 }], subjects: [] },
    grants: { schema: 1, version: 1, issuers: {} },
    ...seed,
  };
  for (const [k, v] of Object.entries(data)) await kv.put(k, JSON.stringify(v));
  const fetch = (path, init) => mf.dispatchFetch(`http://localhost${path}`, init);
  // Health details need a credential with the health scope; anyone else gets {ok}.
  const health = async () => (await fetch('/.well-known/tokengate/health', bearer(mint(keyA, { scope: 'tokengate:health' })))).json();
  return { mf, kv, fetch, health };
}

const mint = (key, claims = {}, header) =>
  tg.mint(
    key,
    standardClaims(
      { iss: ISS, aud: AUD, type: 'access', iat: now() - 5, jti: crypto.randomUUID(), scope: 'users:read', tenant: 'acme', ...claims },
      now(),
    ),
    header ? { header } : {},
  );

async function expectError(res, status, code) {
  const body = await res.json();
  assert.equal(res.status, status, JSON.stringify(body));
  assert.equal(body.code ?? body.error, code);
  return { body, www: res.headers.get('WWW-Authenticate') };
}

const w = await start();

test('a valid JWT is forwarded with identity headers; spoofed ones are stripped', async () => {
  const res = await w.fetch('/api/users/7', {
    headers: { Authorization: `Bearer ${mint(keyA)}`, 'X-Auth-Subject': 'admin', 'X-Auth-Scopes': '*', 'X-Auth-Tenant': 'evil' },
  });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  assert.equal(body.identity['x-auth-subject'], 'user-1');
  assert.equal(body.identity['x-auth-scopes'], 'users:read');
  assert.equal(body.identity['x-auth-issuer'], ISS);
  assert.equal(body.identity['x-auth-tenant'], 'acme');
  assert.match(body.identity['x-auth-token-id'], /^[0-9a-f-]{36}$/);
  assert.equal(body.authorization, false, 'Authorization is stripped by default');
  // A retired key still verifies; a second issuer has its own keys and audience.
  assert.equal((await w.fetch('/api/users', bearer(mint(keyB)))).status, 200);
  assert.equal((await w.fetch('/api/users', bearer(mint(keyT, { iss: OTHER_ISS, aud: 'b-api' })))).status, 200);
  await expectError(await w.fetch('/api/users', bearer(mint(keyT, { iss: OTHER_ISS, aud: AUD }))), 401, 'audience_not_allowed');
});

test('credentials from cookie and query parameter; API keys by prefix', async () => {
  assert.equal((await w.fetch('/api/users', { headers: { Cookie: `a=b; sess=${mint(keyA)}` } })).status, 200);
  assert.equal((await w.fetch(`/api/users?access_token=${mint(keyA)}`)).status, 200);
  const { raw, record } = tg.apiKey.create({ name: 'ci', owner: 'svc-ci', scopes: ['users:read'], now: now() });
  await w.kv.put(`apikey:${record.hash}`, JSON.stringify(record));
  for (const headers of [{ 'X-API-Key': raw }, { Authorization: `Bearer ${raw}` }]) {
    const res = await w.fetch('/api/users', { headers });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.deepEqual([body.identity['x-auth-subject'], body.identity['x-auth-kind']], ['svc-ci', 'apikey']);
  }
  await expectError(await w.fetch('/api/users', { method: 'POST', headers: { 'X-API-Key': raw } }), 403, 'insufficient_scope');
  // Revoked, purged, expired and unknown keys.
  const states = [
    [{ ...record, state: 'revoked', revoked_at: now() - 1 }, 'apikey_revoked'],
    [{ ...record, state: 'purged', revoked_at: now() - 1 }, 'apikey_purged'],
    [{ ...record, expires_at: now() - 1 }, 'apikey_expired'],
  ];
  for (const [rec, code] of states) {
    await w.kv.put(`apikey:${record.hash}`, JSON.stringify(rec));
    await expectError(await w.fetch('/api/users', { headers: { 'X-API-Key': raw } }), 401, code);
  }
  await expectError(await w.fetch('/api/users', { headers: { 'X-API-Key': tg.apiKey.generate() } }), 401, 'apikey_unknown');
  await expectError(await w.fetch('/api/users', { headers: { 'X-API-Key': `${raw.slice(0, -1)}0` } }), 401, 'apikey_malformed');
});

test('rejections: 401 with the code and RFC 6750 header, 403 with scope, 400 for the request shape', async () => {
  const cases = [
    [mint(keyA, { exp: now() - 3600, iat: now() - 7200 }), 401, 'token_expired'],
    [mint(keyA, { nbf: now() + 3600 }), 401, 'token_not_yet_valid'],
    [mint(keyA, { iss: 'https://evil.test' }), 401, 'issuer_not_allowed'],
    [mint(keyA, { aud: 'other' }), 401, 'audience_not_allowed'],
    [mint(keyA, { type: 'refresh' }), 401, 'token_type_not_allowed'],
    [mint(keyA, { jti: 'revoked-1' }), 401, 'token_revoked'],
    [`${mint(keyA).slice(0, -6)}AAAAAA`, 401, 'signature_invalid'],
    ['not-a-jwt', 401, 'token_malformed'],
  ];
  for (const [token, status, code] of cases) {
    const { body, www } = await expectError(await w.fetch('/api/users', bearer(token)), status, code);
    assert.equal(body.error, 'invalid_token');
    assert.equal(typeof body.error_description, 'string');
    assert.match(www, /^Bearer realm="test", error="invalid_token", error_description="/);
  }
  const { body, www } = await expectError(
    await w.fetch('/api/users', { method: 'POST', ...bearer(mint(keyA)) }),
    403,
    'insufficient_scope',
  );
  assert.equal(body.scope, 'users:write');
  assert.match(www, /error="insufficient_scope".*scope="users:write"/);
  // A refresh-only route takes refresh tokens and refuses access tokens.
  assert.equal((await w.fetch('/api/refresh', bearer(mint(keyA, { type: 'refresh' })))).status, 200);
  await expectError(await w.fetch('/api/refresh', bearer(mint(keyA))), 401, 'token_type_not_allowed');
  // No credential: 401 with a bare challenge (RFC 6750 §3.1: no error attribute).
  const none = await w.fetch('/api/users');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('WWW-Authenticate'), 'Bearer realm="test"');
  for (const init of [
    { headers: { Authorization: 'Basic dXNlcjpwYXNz' } },
    { headers: { Authorization: `Bearer ${mint(keyA)}`, 'X-API-Key': tg.apiKey.generate() } },
    { headers: { Authorization: `Bearer ${mint(keyA)}`, Cookie: `sess=${mint(keyA)}` } },
    { headers: { Authorization: 'Bearer a b' } },
  ]) {
    await expectError(await w.fetch('/api/users', init), 400, 'invalid_request');
  }
  await expectError(await w.fetch(`/api/users?access_token=a&access_token=b`), 400, 'invalid_request');
  // Anonymous routes pass without a credential, still stripped of spoofed identity.
  const pub = await (await w.fetch('/api/public/x', { headers: { 'X-Auth-Subject': 'admin' } })).json();
  assert.deepEqual(pub.identity, {});
});

test('key rotation: a new kid is picked up by one forced reload; a removed key stops after the TTL and one reload', async () => {
  const r = await start({ cacheTtl: 1, kidCooldown: 30 });
  const old = mint(keyA);
  assert.equal((await r.fetch('/api/users', bearer(old))).status, 200);
  const next = tg.generateKey('ES256', { kid: 'next' });
  await r.kv.put('jwks:main', JSON.stringify({ schema: 1, version: 2, keys: [entry(next), entry(keyA, 'retired')] }));
  assert.equal((await r.fetch('/api/users', bearer(mint(next)))).status, 200, 'unknown kid → reload → accepted');
  const reloadedAt = Date.now();
  await r.kv.put('jwks:main', JSON.stringify({ schema: 1, version: 3, keys: [entry(next)] }));
  assert.equal((await r.fetch('/api/users', bearer(old))).status, 200, 'still cached within the TTL');
  await clockPast(reloadedAt + 1200); // the TTL (1 s) of the copy that reload read, and a margin
  // Past the TTL the first request is served from the previous copy while it reloads in the
  // background (no request waits on another's read); the reload then applies to the next ones.
  assert.equal((await r.fetch('/api/users', bearer(old))).status, 200);
  await waitFor(async () => (await r.fetch('/api/users', bearer(old))).status === 401, { message: 'the removed key still verifies' });
  await expectError(await r.fetch('/api/users', bearer(old)), 401, 'key_not_found');
});

test('kid flooding causes at most one KV reload per cooldown', async () => {
  const r = await start();
  assert.equal((await r.fetch('/api/users', bearer(mint(keyA)))).status, 200);
  const before = (await r.health()).kv.reads;
  for (let i = 0; i < 25; i++) {
    const stranger = tg.generateKey('ES256', { kid: `random-${i}` });
    await expectError(await r.fetch('/api/users', bearer(mint(stranger))), 401, 'key_not_found');
  }
  assert.equal((await r.health()).kv.reads - before, 1);
});

test("concurrent requests: cold ones read for themselves (none awaits another request's I/O), warm ones read nothing", async () => {
  const r = await start();
  const token = mint(keyA);
  const burst = async () =>
    (await Promise.all(Array.from({ length: 12 }, () => r.fetch('/api/users', bearer(token))))).map((x) => x.status);
  assert.deepEqual(await burst(), Array(12).fill(200));
  const cold = (await r.health()).kv.reads;
  // config + jwks:main + revocations + grants per cold request at most, plus health's jwks:b
  assert.ok(cold >= 5 && cold <= 12 * 4 + 1, `${cold} reads`);
  assert.deepEqual(await burst(), Array(12).fill(200));
  assert.equal((await r.health()).kv.reads, cold, 'warm: no KV read within the TTL');
});

test('KV failure: keys served last-known-good up to the bound, then 503; stale revocations fail closed', async () => {
  const r = await start({ cacheTtl: 1, keysMaxStale: 3 });
  const token = mint(keyA);
  assert.equal((await r.fetch('/api/users', bearer(token))).status, 200);
  const readAt = Date.now();
  await r.kv.put('jwks:main', '{not json');
  await clockPast(readAt + 1200); // past the TTL (1 s)
  assert.equal((await r.fetch('/api/users', bearer(token))).status, 200, 'last known good');
  await clockPast(readAt + 3400); // past keysMaxStale (3 s) since the last good read
  const res = await r.fetch('/api/users', bearer(token));
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('Retry-After'), '30');
  assert.equal((await res.json()).error, 'temporarily_unavailable');
  // Revocation data older than its maximum staleness: 503, never an accept.
  const s = await start({ maxRevocationAge: 60 }, { revocations: { schema: 1, version: 9, generated_at: now() - 120 } });
  const stale = await s.fetch('/api/users', bearer(mint(keyA)));
  assert.equal(stale.status, 503);
  assert.equal(stale.headers.get('Retry-After'), '30');
  assert.equal((await stale.json()).code, 'revocation_data_stale');
  // Missing data is a server error, not an accept.
  const m = await start({}, {});
  await m.kv.delete('revocations');
  assert.equal((await m.fetch('/api/users', bearer(mint(keyA)))).status, 503);
});

test('grants narrow every token of an issuer; subject cut-offs revoke earlier tokens', async () => {
  const r = await start(
    {},
    {
      grants: { schema: 1, version: 1, issuers: { [ISS]: 'users:read' } },
      revocations: {
        schema: 1,
        version: 1,
        generated_at: now(),
        subjects: [{ iss: ISS, sub: 'user-2', before: now() - 1, until: now() + 3600 }],
      },
    },
  );
  const body = await (await r.fetch('/api/users', bearer(mint(keyA, { scope: 'users:read users:write' })))).json();
  assert.equal(body.identity['x-auth-scopes'], 'users:read');
  await expectError(
    await r.fetch('/api/users', { method: 'POST', ...bearer(mint(keyA, { scope: 'users:write' })) }),
    403,
    'insufficient_scope',
  );
  await expectError(await r.fetch('/api/users', bearer(mint(keyA, { sub: 'user-2', iat: now() - 60 }))), 401, 'token_revoked');
});

test('health reports keys, revocations and caches without secrets', async () => {
  const token = mint(keyA);
  await w.fetch('/api/users', bearer(token));
  await w.fetch('/api/users', bearer(token));
  const h = await w.health();
  assert.equal(h.ok, true);
  assert.equal(h.version, tg.version());
  const main = h.issuers.find((i) => i.issuer === ISS);
  assert.deepEqual(main.keys, { active: 1, retired: 1 });
  assert.equal(h.revocations.version, 1);
  assert.ok(main.cache[0].hits > 0);
  assert.doesNotMatch(JSON.stringify(h), /"d"|"k":|tgk_/);
});

test('scheduled handler prunes expired revocations and reports keys due for rotation', async () => {
  const old = now() - 40 * 86400;
  const r = await start(
    {},
    {
      'jwks:main': { schema: 1, version: 1, keys: [entry(keyA, 'active', old)] },
      revocations: {
        schema: 1,
        version: 4,
        generated_at: now(),
        jti: [
          { iss: ISS, jti: 'gone', until: now() - 10 },
          { iss: ISS, jti: 'kept', until: now() + 3600 },
        ],
      },
    },
  );
  const worker = await r.mf.getWorker();
  await worker.scheduled({ cron: '*/15 * * * *' });
  const list = JSON.parse(await r.kv.get('revocations'));
  assert.equal(list.version, 5);
  assert.deepEqual(
    list.jti.map((e) => e.jti),
    ['kept'],
  );
  const report = JSON.parse(await r.kv.get('maintenance:last'));
  assert.equal(report.pruned, 1);
  assert.deepEqual(
    report.keys.map((k) => [k.jwks, k.problem]),
    [['jwks:main', 'rotation_due']],
  );
  assert.deepEqual(report.errors, []);
  // The hand-written documents were adopted as entries, so the CLI and the cron can manage them.
  assert.equal(JSON.parse(await r.kv.get('jwks:main')).keys[0].jwk.kid, 'a');
  assert.equal((await r.kv.list({ prefix: 'key:jwks:main:' })).keys.length, 1);
  assert.equal((await r.kv.list({ prefix: 'revocation:' })).keys.length, 1);
});

test('persisted keys: a new isolate starts warm from the Cache API, without a KV read for keys', async () => {
  const r = await start({ persistKeys: true });
  assert.equal((await r.fetch('/api/users', bearer(mint(keyA)))).status, 200);
  // A new isolate (same storage): keys come from the persisted copy, even with KV now broken.
  await r.kv.put('jwks:main', '{broken');
  await r.mf.setOptions(
    workerdOptions(script, {
      kvNamespaces: ['TOKENGATE'],
      bindings: { TOKENGATE_CONFIG: JSON.stringify(config({ persistKeys: true, cacheTtl: 61 })) },
    }),
  );
  assert.equal((await r.fetch('/api/users', bearer(mint(keyA)))).status, 200);
  assert.equal((await r.health()).kv.reads, 4, 'config, revocations, grants and (for health) jwks:b: no read of jwks:main');
});

test('persisted keys: a copy used as last-known-good is not stored again, so new isolates cannot renew its bound', async () => {
  const cfg = { persistKeys: true, cacheTtl: 1, keysMaxStale: 3 };
  const r = await start(cfg);
  const token = mint(keyA);
  assert.equal((await r.fetch('/api/users', bearer(token))).status, 200);
  const readAt = Date.now();
  await r.kv.put('jwks:main', '{broken');
  const restart = () =>
    r.mf.setOptions(
      workerdOptions(script, {
        kvNamespaces: ['TOKENGATE'],
        bindings: { TOKENGATE_CONFIG: JSON.stringify(config(cfg)) },
      }),
    );
  await clockPast(readAt + 1200); // past the TTL (1 s)
  await restart();
  assert.equal((await r.fetch('/api/users', bearer(token))).status, 200, 'last known good, from the persisted copy');
  await clockPast(readAt + 3200); // past keysMaxStale (3 s) since the copy was read
  await restart();
  const res = await r.fetch('/api/users', bearer(token));
  assert.equal(res.status, 503, 'past keysMaxStale since the copy was read from KV');
  assert.equal((await res.json()).code, 'data_unavailable');
});

test('forwarding to an ORIGIN service binding: method, path, query and body pass; identity is set; Authorization is stripped', async () => {
  const seen = [];
  const r = await start(
    {},
    {},
    {
      serviceBindings: {
        ORIGIN: async (req) => {
          seen.push({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
          return new Response('from origin', { status: 201 });
        },
      },
    },
  );
  const res = await r.fetch('/api/users/9?x=1', {
    method: 'POST',
    body: 'payload',
    headers: { Authorization: `Bearer ${mint(keyA, { scope: 'users:write' })}`, 'X-Auth-Subject': 'spoof' },
  });
  assert.equal(res.status, 201);
  assert.equal(await res.text(), 'from origin');
  assert.equal(seen.length, 1);
  assert.equal(seen[0].method, 'POST');
  assert.match(seen[0].url, /\/api\/users\/9\?x=1$/);
  assert.equal(seen[0].body, 'payload');
  assert.equal(seen[0].headers['x-auth-subject'], 'user-1');
  assert.equal(seen[0].headers.authorization, undefined);
  // Rejected requests never reach the origin; oversized tokens are a 401, not a 5xx.
  await expectError(await r.fetch('/api/users', bearer('a'.repeat(20_000))), 401, 'token_too_large');
  await expectError(await r.fetch('/api/users', bearer(mint(keyA, { exp: now() - 3600, iat: now() - 7200 }))), 401, 'token_expired');
  assert.equal(seen.length, 1);
});
