// End to end: a real OpenID Provider (npm oidc-provider on 127.0.0.1) issues RFC 9068
// access tokens; the edge worker on workerd, configured with `discovery: true` and an empty KV,
// fetches its keys, keeps them in KV, follows a rotation with one refetch, survives a provider
// that is down or answers badly (previous keys kept, health names the reason), and fails closed
// with 503 past keysMaxStale. Every IdP fetch is counted by the test's own server in front of
// the provider; the counts are asserted, not timed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from 'tokengate';
import { remoteKeys } from 'tokengate/store';
import { bundleWorker, startWorkerd, workerdOptions } from '../runtime/workerd.mjs';
import { delta, oidcConfig, startOidcWorker, until, withKid } from '../runtime/oidc-worker.mjs';
import { RESOURCES, faults, signingKey, startIdp } from '../runtime/idp.mjs';
import { clockPast, now } from '../runtime/helpers.mjs';

const script = await bundleWorker('worker/index.js', 'oidc');
const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const e1 = signingKey('ES256', 'e1');
const r1 = signingKey('RS256', 'r1');
const e2 = signingKey('ES256', 'e2');

// Max-age 1–2 s, so refreshes and staleness happen within a test.
const config = (idp, extra = {}) => oidcConfig(idp, { remoteKeys: { minMaxAge: 1, maxMaxAge: 2, timeout: 1 }, ...extra });

async function worker(idp, extra = {}, persist) {
  const w = await startOidcWorker(script, config(idp, extra), { cleanup, persist });
  w.health = w.issuerHealth;
  return w;
}

test('discovery from an empty KV, 50 concurrent cold requests, one fetch; kept in KV across a restart with the provider down', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const persist = mkdtempSync(join(tmpdir(), 'tg-oidc-'));
  const long = { remoteKeys: { minMaxAge: 120, maxMaxAge: 120, timeout: 1 } };
  const w = await worker(idp, long, persist);
  const es = await idp.token('ES256');
  const rs = await idp.token('RS256');
  const before = idp.fetched();
  const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => w.call(i % 2 ? rs : es)));
  assert.deepEqual(
    answers.map((a) => a.status),
    Array(50).fill(200),
    JSON.stringify(answers.find((a) => a.status !== 200)),
  );
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 }, 'one discovery and one JWKS fetch for 50 cold requests');
  // The identity reached the origin: the RFC 9068 subject is the client.
  assert.equal(answers[0].body.identity['x-auth-subject'], 'svc');
  // Kept in KV: the document names its source and holds both keys.
  const doc = JSON.parse(await w.kv.get(remoteKeys.kvKey(idp.issuer)));
  assert.equal(doc.source, `${idp.issuer}/jwks`);
  assert.deepEqual(doc.keys.map((k) => k.kid).sort(), ['e1', 'r1']);
  // RFC 9068 profile, with the provider's own key (the test holds it): a plain JWT typ, or a
  // token without client_id, is refused even though its signature verifies.
  const claims = { ...JSON.parse(Buffer.from(es.split('.')[1], 'base64url')), jti: crypto.randomUUID() };
  const signed = (c, typ) => tg.mint(e1, c, { header: { typ } });
  assert.equal((await w.call(signed(claims, 'at+jwt'))).status, 200);
  assert.equal((await w.call(signed(claims, 'JWT'))).code, 'typ_not_allowed');
  const { client_id: _, ...noClient } = claims;
  assert.equal((await w.call(signed(noClient, 'at+jwt'))).code, 'claim_missing');
  await w.mf.dispose();
  cleanup.pop();

  // A new worker process on the same KV, the provider stopped: keys come from KV.
  const fetchedBeforeRestart = idp.fetched();
  idp.state.down = true;
  const w2 = await worker(idp, long, persist);
  const again = await w2.call(es);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal((await w2.call(rs)).status, 200);
  assert.deepEqual(delta(fetchedBeforeRestart, idp.fetched()), { discovery: 0, jwks: 0 }, 'the new process never contacted the provider');
  idp.state.down = false;
});

test('rotation at the provider: a new kid is accepted after one refetch; kid floods refetch at most once per cooldown; a removed key stops verifying', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp, { kidCooldown: 5, remoteKeys: { minMaxAge: 60, maxMaxAge: 60, timeout: 1 } });
  const old = await idp.token('ES256');
  assert.equal((await w.call(old)).status, 200);
  idp.rotate([e2, e1, r1]);
  const fresh = await idp.token('ES256');
  assert.equal(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url')).kid, 'e2');
  const before = idp.fetched();
  const res = await w.call(fresh);
  const refetchedAt = Date.now();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(
    delta(before, idp.fetched()),
    { discovery: 0, jwks: 1 },
    'exactly one JWKS refetch for the new kid; the discovered jwks_uri is kept',
  );
  // 200 requests with random kids within the cooldown: no fetch at all (the forced one was spent).
  const flood = idp.fetched();
  const floods = await Promise.all(Array.from({ length: 200 }, () => w.call(withKid(fresh, crypto.randomUUID()))));
  assert.deepEqual([...new Set(floods.map((f) => f.code))], ['key_not_found']);
  assert.deepEqual(delta(flood, idp.fetched()), { discovery: 0, jwks: 0 }, 'kid flood within the cooldown');
  // After the cooldown, one more forced refetch for the next flood, then none.
  await clockPast(refetchedAt + 5100); // the kid cooldown (5 s) since that forced refetch
  const flood2 = idp.fetched();
  const second = await Promise.all(Array.from({ length: 50 }, () => w.call(withKid(fresh, crypto.randomUUID()))));
  const secondAt = Date.now(); // the second flood's forced refetch was before this
  assert.deepEqual([...new Set(second.map((f) => f.code))], ['key_not_found']);
  assert.deepEqual(delta(flood2, idp.fetched()), { discovery: 0, jwks: 1 }, 'one forced refetch per cooldown');
  // Removed at the provider: after the refresh the old key's tokens fail.
  idp.rotate([e2, r1]);
  await clockPast(secondAt + 5100); // the next cooldown
  const unknown = await w.call(withKid(fresh, 'nobody')); // forces the refetch that drops e1
  assert.equal(unknown.code, 'key_not_found');
  assert.equal((await w.call(old)).code, 'key_not_found');
  assert.equal((await w.call(fresh)).status, 200);
});

test('a new kid while a background refresh is in flight: the refresh predates the rotation, so the forced request still fetches from the provider', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  // max-age 1 s: a background refresh is due once the kid cooldown (2 s) allows the next attempt.
  const w = await worker(idp, { remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 5 } });
  const old = await idp.token('ES256');
  assert.equal((await w.call(old)).status, 200);
  const firstAt = Date.now();
  // The JWKS server holds the next request until released, then answers with the keys it had
  // when the request arrived (before the rotation below).
  const held = [];
  const before = idp.state.provider;
  idp.fault('/jwks', (req, res) => held.push(() => before.callback()(req, res)));
  await clockPast(firstAt + 2100);
  assert.equal((await w.call(old)).status, 200, 'served from the keys held while the refresh starts');
  await until(() => held.length === 1, 10_000, 'the background refresh at the provider');
  idp.rotate([e2, e1, r1]);
  idp.fault('/jwks', null);
  const fresh = await idp.token('ES256');
  const rotated = idp.fetched();
  const answer = w.call(fresh);
  await until(async () => (await w.health(old)).isolate.forced === 1, 10_000, 'the forced refetch joining the refresh in flight');
  held[0]();
  const res = await answer;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(delta(rotated, idp.fetched()), { discovery: 0, jwks: 1 }, 'one more JWKS fetch, after the one in flight');
  assert.deepEqual((await w.health(fresh)).remote.kids.sort(), ['e1', 'e2', 'r1']);
});

test("a new kid and another isolate's copy in KV: a copy holding the kid answers without the provider; a fresher copy without it still fetches", async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const policy = { minMaxAge: 60, maxMaxAge: 60, timeout: 1 };
  const w = await worker(idp, { remoteKeys: policy });
  const old = await idp.token('ES256');
  assert.equal((await w.call(old)).status, 200);
  const key = remoteKeys.kvKey(idp.issuer);
  // What another isolate writes after fetching `keys`: the core's own document, fetched now.
  const otherIsolate = async (keys) => {
    const set = remoteKeys.open(idp.issuer, await w.kv.get(key));
    const body = new TextEncoder().encode(JSON.stringify({ keys: keys.map((k) => tg.publicJwk(k)) }));
    assert.equal(set.afterFetch(`${idp.issuer}/jwks`, JSON.stringify({ status: 200 }), body, Date.now(), JSON.stringify(policy)), null);
    await w.kv.put(key, set.toJSON());
  };
  idp.rotate([e2, e1, r1]);
  await otherIsolate([e2, e1, r1]);
  const fresh = await idp.token('ES256');
  const before = idp.fetched();
  const res = await w.call(fresh);
  const forcedAt = Date.now();
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 0 }, 'the copy in KV held the new kid');
  // A copy fresher than ours that lacks the next kid: the wanted kid is not there, so the provider is asked.
  const e3 = signingKey('ES256', 'e3');
  idp.rotate([e3, e2, e1, r1]);
  await otherIsolate([e2, e1, r1]);
  const newest = await idp.token('ES256');
  await clockPast(forcedAt + 2100); // the kid cooldown (2 s) since the last forced refetch
  const again = idp.fetched();
  const res2 = await w.call(newest);
  assert.equal(res2.status, 200, JSON.stringify(res2.body));
  assert.deepEqual(delta(again, idp.fetched()), { discovery: 0, jwks: 1 });
  assert.deepEqual(
    JSON.parse(await w.kv.get(key))
      .keys.map((k) => k.kid)
      .sort(),
    ['e1', 'e2', 'e3', 'r1'],
  );
});

test('a new isolate starts from the Cache API copy: no KV read, no provider; its age counts from the fetch, so a copy due for refresh is refreshed', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp, { remoteKeys: { minMaxAge: 120, maxMaxAge: 120, timeout: 1 } });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  const first = await w.health(token);
  assert.equal(first.isolate.cacheWrites, 1, 'the fetched document is copied to the Cache API');
  // KV loses the document and the provider stops: a new isolate has only the colo's copy.
  const key = remoteKeys.kvKey(idp.issuer);
  await w.kv.delete(key);
  idp.state.down = true;
  const before = idp.fetched();
  await w.restart();
  const res = await w.call(token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const h = await w.health(token);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 0 });
  assert.deepEqual(
    { cacheReads: h.isolate.cacheReads, cacheHits: h.isolate.cacheHits, kvReads: h.isolate.kvReads, fetches: h.isolate.fetches },
    { cacheReads: 1, cacheHits: 1, kvReads: 0, fetches: 0 },
  );
  assert.equal(h.remote.staleUntil, first.remote.staleUntil, 'the copy keeps the fetch time: its bound is not renewed');
  assert.equal(await w.kv.get(key), null, 'nothing fetched, nothing written');
  idp.state.down = false;

  // max-age 1 s: a copy past it is stale (counted from its fetch, not from the copy), so the new
  // isolate serves it and refreshes from the provider in the background.
  const idp2 = await startIdp([e1, r1]);
  cleanup.push(() => idp2.close());
  const w2 = await worker(idp2, { kidCooldown: 1, remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 1 } });
  const t2 = await idp2.token('ES256');
  assert.equal((await w2.call(t2)).status, 200);
  const fetchedAt = Date.now();
  await w2.kv.delete(remoteKeys.kvKey(idp2.issuer));
  await clockPast(fetchedAt + 1100); // past max-age (1 s) and the attempt cooldown (1 s)
  await w2.restart();
  const mid = idp2.fetched();
  assert.equal((await w2.call(t2)).status, 200, 'the stale copy still serves (keysMaxStale 60 s)');
  await until(() => idp2.fetched().jwks - mid.jwks === 1, 10_000, 'the background refresh');
  assert.equal(idp2.fetched().discovery - mid.discovery, 0, 'the copy held the discovered jwks_uri');
  const h2 = await until(
    async () => {
      const x = await w2.health(t2);
      return x.isolate.cacheWrites === 1 && x;
    },
    10_000,
    'the refreshed copy',
  );
  // The first load and the refresh each read the copy first; both went on to KV (empty) as the copy was due.
  assert.deepEqual({ cacheHits: h2.isolate.cacheHits, kvReads: h2.isolate.kvReads }, { cacheHits: 2, kvReads: 2 });
  assert.equal(JSON.parse(await w2.kv.get(remoteKeys.kvKey(idp2.issuer))).source, `${idp2.issuer}/jwks`, 'the refresh is kept in KV again');
});

test('a copy from another source (KV and Cache API, written under another configuration) is ignored: the configured source is fetched, the other key refused', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  // Another provider, named as this issuer's jwksUri by another configuration sharing the namespace.
  const evilKey = signingKey('ES256', 'evil');
  const other = await startIdp([evilKey]);
  cleanup.push(() => other.close());
  const audience = Object.values(RESOURCES);
  const long = { remoteKeys: { minMaxAge: 120, maxMaxAge: 120, timeout: 1 } };
  const elsewhere = { ...long, issuers: [{ issuer: idp.issuer, jwksUri: `${other.issuer}/jwks`, profile: 'rfc9068', audience }] };
  const w = await worker(idp, elsewhere);
  const real = await idp.token('ES256');
  const claims = { ...JSON.parse(Buffer.from(real.split('.')[1], 'base64url')), jti: crypto.randomUUID() };
  const forged = tg.mint(evilKey, claims, { header: { typ: 'at+jwt' } });
  assert.equal((await w.call(forged)).status, 200, 'the other configuration trusts the other URL');
  const key = remoteKeys.kvKey(idp.issuer);
  assert.equal(JSON.parse(await w.kv.get(key)).source, `${other.issuer}/jwks`);
  assert.equal((await w.health(forged)).isolate.cacheWrites, 1, 'and copied it to the Cache API');

  // This configuration (discovery) on the same KV and Cache API: neither copy is adopted.
  const apply = async (extra) => {
    await w.mf.setOptions(
      workerdOptions(script, { kvNamespaces: ['TOKENGATE'], bindings: { TOKENGATE_CONFIG: JSON.stringify(config(idp, extra)) } }),
    );
    w.kv = await w.mf.getKVNamespace('TOKENGATE');
  };
  await apply(long);
  const before = { idp: idp.fetched(), other: other.fetched() };
  const refused = await w.call(forged);
  assert.deepEqual([refused.status, refused.code], [401, 'key_not_found'], JSON.stringify(refused.body));
  const ok = await w.call(real);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  // The cold fetch, then the one refetch the unknown kid forces: both from the configured source.
  assert.deepEqual(delta(before.idp, idp.fetched()), { discovery: 1, jwks: 2 });
  assert.deepEqual(delta(before.other, other.fetched()), { discovery: 0, jwks: 0 }, "never the copy's URL");
  const h = await w.health(real);
  assert.equal(h.remote.source, `${idp.issuer}/jwks`);
  assert.deepEqual(h.remote.kids.sort(), ['e1', 'r1']);
  const doc = JSON.parse(await w.kv.get(key));
  assert.deepEqual([doc.source, doc.jwks_uri], [`${idp.issuer}/jwks`, `${idp.issuer}/jwks`], 'KV holds the configured source again');

  // The operator moves the issuer to a configured jwksUri elsewhere: the old copy is not served
  // stale while that URL is down (503, not the old keys), and never fetched.
  other.state.down = true;
  await apply({ ...long, issuers: [{ issuer: idp.issuer, jwksUri: `${other.issuer}/jwks`, profile: 'rfc9068', audience }] });
  const moved = idp.fetched();
  const down = await w.call(real);
  assert.deepEqual(
    [down.status, down.code, down.body.error],
    [503, 'data_unavailable', 'temporarily_unavailable'],
    JSON.stringify(down.body),
  );
  assert.deepEqual(delta(moved, idp.fetched()), { discovery: 0, jwks: 0 });
});

test('a provider that answers badly: previous keys kept, health names the reason, never a 5xx while keys are fresh', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  // discoveryMaxAge 1 s: the discovery document is fetched again at every refresh, so its faults are seen.
  const w = await worker(idp, { kidCooldown: 1, remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 1, discoveryMaxAge: 1 } });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  const health = async () => (await w.call(token, '/.well-known/tokengate/health')).body.issuers[0];
  const oct = { kty: 'oct', kid: 'h', k: Buffer.alloc(32, 7).toString('base64url') };
  const cases = [
    ['/jwks', faults.garbage, 'not_json'],
    ['/jwks', faults.huge, 'too_large'],
    ['/jwks', faults.slow, 'timeout'],
    ['/jwks', faults.redirect, 'redirect'],
    ['/jwks', faults.json({ keys: [e1] }), 'jwks_invalid'], // a private key only
    ['/jwks', faults.json({ keys: [oct] }), 'jwks_invalid'], // a symmetric key only
    [
      '/jwks',
      faults.json({
        keys: [
          { ...e1, d: undefined },
          { ...e1, d: undefined },
        ],
      }),
      'jwks_invalid',
    ], // duplicate kid
    ['/.well-known/openid-configuration', faults.json({ issuer: 'http://127.0.0.1:1', jwks_uri: `${idp.issuer}/jwks` }), 'issuer_mismatch'],
    ['/.well-known/openid-configuration', faults.json({ issuer: idp.issuer, jwks_uri: 'http://evil.example/jwks' }), 'url_not_allowed'],
  ];
  for (const [path, answer, reason] of cases) {
    idp.fault(path, answer);
    const seen = [];
    const h = await until(
      async () => {
        const r = await w.call(token);
        seen.push(r.status);
        const i = await health();
        return i.remote?.lastError?.reason === reason && i;
      },
      15_000,
      reason,
    );
    assert.deepEqual([...new Set(seen)], [200], `${reason}: every request with a valid token answered 200`);
    assert.equal(h.remote.keys, 2, reason);
    assert.equal(h.remote.source, `${idp.issuer}/jwks`, reason);
    assert.equal(typeof h.remote.ageSeconds, 'number');
    assert.equal(typeof h.remote.nextRefreshSeconds, 'number');
    idp.fault(path, null);
    await until(async () => (await health()).remote?.lastError === null, 15_000, `${reason} recovery`);
  }
});

test('provider down: known keys serve until keysMaxStale, then 503 with Retry-After; back once it answers', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp, { kidCooldown: 1, cacheTtl: 1, keysMaxStale: 2, remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 1 } });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  idp.state.down = true;
  const statuses = [];
  const down = await until(
    async () => {
      const r = await w.call(token);
      statuses.push(r.status);
      return r.status === 503 && r;
    },
    15_000,
    '503',
  );
  assert.equal(down.code, 'data_unavailable');
  assert.equal(down.body.error, 'temporarily_unavailable');
  assert.equal(down.retryAfter, '30');
  assert.deepEqual([...new Set(statuses)].sort(), [200, 503], 'only 200 then 503, never another 5xx');
  idp.state.down = false;
  await until(async () => (await w.call(token)).status === 200, 15_000, 'recovery');
});

test('a configured credential header: the token comes from that header', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp, {
    credentials: { header: 'X-Access-Token' },
    issuers: [{ issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks`, audience: Object.values(RESOURCES) }],
  });
  const token = await idp.token('RS256');
  const res = await w.mf.dispatchFetch('http://localhost/api/x', { headers: { 'x-access-token': token } });
  assert.equal(res.status, 200, await res.clone().text());
  const echoed = await res.json();
  assert.equal(echoed.identity['x-auth-subject'], 'svc');
  // Both the header and Authorization: two credentials.
  const both = await w.mf.dispatchFetch('http://localhost/api/x', {
    headers: { 'x-access-token': token, authorization: `Bearer ${token}` },
  });
  assert.equal((await both.json()).code, 'invalid_request');
  // The configuration derives Cloudflare Access's certs URL and header (not credentials.header).
  const c = tg.workerConfig({ issuers: [{ issuer: 'https://acme.cloudflareaccess.com', profile: 'cloudflare-access', audience: 'tag' }] });
  assert.equal(c.issuers[0].jwksUri, 'https://acme.cloudflareaccess.com/cdn-cgi/access/certs');
  assert.deepEqual(c.credentials.access, { name: 'Cf-Access-Jwt-Assertion', issuers: ['https://acme.cloudflareaccess.com'] });
  assert.equal(c.credentials.header, undefined);
});

test('cloudflare-access: its header is read besides a custom header, only for Access issuers, and yields to an explicit credential', async () => {
  const access = 'https://acme.cloudflareaccess.com';
  const other = 'https://other.example';
  // One key in both sets: a token of the other issuer then fails on its issuer, not its kid.
  const key = tg.generateKey('ES256', { kid: 'shared-1' });
  const mf = await startWorkerd(script, {
    kvNamespaces: ['TOKENGATE'],
    bindings: {
      TOKENGATE_CONFIG: JSON.stringify({
        routes: [{ method: '*', path: '/api/*' }],
        credentials: { header: 'X-Access-Token' },
        issuers: [
          { issuer: access, profile: 'cloudflare-access', audience: 'tag', jwks: 'jwks:access' },
          { issuer: other, jwks: 'jwks:other', audience: 'tag' },
        ],
      }),
    },
  });
  cleanup.push(() => mf.dispose());
  const kv = await mf.getKVNamespace('TOKENGATE');
  const set = JSON.stringify({ schema: 1, version: 1, keys: [{ status: 'active', created_at: now(), jwk: tg.publicJwk(key) }] });
  await kv.put('jwks:access', set);
  await kv.put('jwks:other', set);
  await kv.put('revocations', JSON.stringify({ schema: 1, version: 1, generated_at: now() }));
  await kv.put('grants', JSON.stringify({ schema: 1, version: 1, issuers: {}, tenants: {} }));
  const mint = (iss, sub) => tg.mint(key, { iss, sub, aud: 'tag', iat: now(), exp: now() + 300, jti: crypto.randomUUID() });
  const fromAccess = mint(access, 'alice@access');
  const fromOther = mint(other, 'svc@other');
  const call = async (headers) => {
    const res = await mf.dispatchFetch('http://localhost/api/x', { headers });
    const body = await res.json();
    return { status: res.status, code: body.code, subject: body.identity?.['x-auth-subject'] };
  };
  // The Access header works although credentials.header names another one.
  assert.deepEqual(await call({ 'cf-access-jwt-assertion': fromAccess }), { status: 200, code: undefined, subject: 'alice@access' });
  assert.deepEqual(await call({ 'x-access-token': fromOther }), { status: 200, code: undefined, subject: 'svc@other' });
  // A valid token of another issuer is not taken from the Access header.
  assert.deepEqual(await call({ 'cf-access-jwt-assertion': fromOther }), { status: 401, code: 'issuer_not_allowed', subject: undefined });
  assert.deepEqual(await call({ authorization: `Bearer ${fromOther}` }), { status: 200, code: undefined, subject: 'svc@other' });
  // Access adds its header to every request: an app's own Bearer token is the credential then,
  // and one that fails is refused (no fall back to the Access token).
  assert.deepEqual(await call({ 'cf-access-jwt-assertion': fromAccess, authorization: `Bearer ${fromOther}` }), {
    status: 200,
    code: undefined,
    subject: 'svc@other',
  });
  assert.deepEqual(await call({ 'cf-access-jwt-assertion': fromAccess, authorization: 'Bearer abc.def.ghi' }), {
    status: 401,
    code: 'token_malformed',
    subject: undefined,
  });
  // Two explicit credentials are still two.
  assert.equal((await call({ 'x-access-token': fromOther, authorization: `Bearer ${fromOther}` })).code, 'invalid_request');
  // The Access header holds a JWT, never an API key or two values.
  assert.equal((await call({ 'cf-access-jwt-assertion': `${fromAccess}, ${fromAccess}` })).code, 'invalid_request');
  assert.deepEqual(await call({}), { status: 401, code: 'credential_missing', subject: undefined });
  // A configuration naming the Access header as the custom one is refused, plainly.
  assert.throws(
    () =>
      tg.workerConfig({
        credentials: { header: 'Cf-Access-Jwt-Assertion' },
        issuers: [{ issuer: access, profile: 'cloudflare-access', audience: 'tag' }],
      }),
    /credentials.header "Cf-Access-Jwt-Assertion" is read for the cloudflare-access issuers already/,
  );
});

test('tokengate publishes its own keys: another worker verifies tokengate-minted tokens through discovery', async () => {
  const key = tg.generateKey('ES256', { kid: 'self-1' });
  // Worker A: a tokengate issuer whose identifier is its own origin (config from KV, which wins).
  const a = await startWorkerd(script, { kvNamespaces: ['TOKENGATE'], port: 0, bindings: { TOKENGATE_CONFIG: '' } });
  cleanup.push(() => a.dispose());
  const origin = new URL(await a.ready).origin;
  const akv = await a.getKVNamespace('TOKENGATE');
  await akv.put('config', JSON.stringify({ issuers: [{ issuer: origin, jwks: 'jwks:self' }], routes: [{ method: '*', path: '/api/*' }] }));
  await akv.put(
    'jwks:self',
    JSON.stringify({ schema: 1, version: 1, keys: [{ status: 'active', created_at: now(), jwk: tg.publicJwk(key) }] }),
  );
  const disc = await fetch(`${origin}/.well-known/openid-configuration`);
  assert.equal(disc.status, 200);
  const discovered = await disc.json();
  assert.deepEqual(discovered.jwks_uri, `${origin}/.well-known/jwks.json`);
  // Only an ES256 key is published: only ES256 is listed.
  assert.deepEqual(discovered.id_token_signing_alg_values_supported, ['ES256']);
  // Read-only: GET and HEAD, anything else 405 with Allow.
  for (const path of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
    const post = await fetch(`${origin}${path}`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405, path);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await post.json()).code, 'method_not_allowed');
    assert.equal((await fetch(`${origin}${path}`, { method: 'HEAD' })).status, 200, path);
  }
  const jwks = await fetch(`${origin}/.well-known/jwks.json`);
  assert.match(jwks.headers.get('cache-control'), /^public, max-age=\d+$/);
  const published = await jwks.json();
  assert.deepEqual(
    published.keys.map((k) => k.kid),
    ['self-1'],
  );
  assert.equal(published.keys[0].d, undefined);
  // Worker B follows A by discovery, like any identity provider.
  const b = await worker({ issuer: origin }, { issuers: [{ issuer: origin, discovery: true, audience: 'api' }] });
  const token = tg.mint(key, { iss: origin, sub: 'u1', aud: 'api', iat: now(), exp: now() + 300, jti: crypto.randomUUID() });
  const res = await b.call(token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.identity['x-auth-subject'], 'u1');
});

/** Each promise's value, or `'unanswered'` for those not settled within `ms` (a bound, not a sleep). */
async function within(promises, ms) {
  let timer;
  const late = new Promise((r) => (timer = setTimeout(r, ms)));
  const out = promises.map(() => 'unanswered');
  await Promise.race([Promise.all(promises.map((p, i) => p.then((v) => (out[i] = v)))), late]);
  clearTimeout(timer);
  return out;
}

test('a forced refetch that outlasts the join wait (slow JWKS, rediscovery to another slow jwks_uri): every request of a burst is answered on its own, with no later request', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const timeout = 3;
  const policy = { minMaxAge: 60, maxMaxAge: 60, timeout };
  const w = await worker(idp, { kidCooldown: 1, remoteKeys: policy });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  const wait = remoteKeys.joinWait(timeout);
  const refreshes = (await w.health(token)).isolate.refreshes;
  // The held JWKS URL never finishes its answer (the core's timeout ends it), so discovery is
  // fetched again, late, and names another jwks_uri, also late: one forced refetch takes about
  // 3 timeouts, longer than a request joining it waits.
  const late = timeout * 1000 - 300;
  assert.ok(timeout * 1000 + 2 * late > wait, 'the refetch outlasts the join wait');
  idp.delay('/.well-known/openid-configuration', late);
  idp.delay('/jwks2', late);
  const moved = faults.json({ issuer: idp.issuer, jwks_uri: `${idp.issuer}/jwks2` });
  idp.fault('/.well-known/openid-configuration', moved);
  idp.delay('/jwks', timeout * 1000 + 500);
  const before = { ...idp.fetched(), jwks2: idp.state.moved };
  const sent = [];
  const call = (t) => {
    const at = Date.now();
    return w.call(t).then((r) => ({ status: r.status, code: r.code, ms: Date.now() - at }));
  };
  // A first wave, then (once the refetch is at the provider and the kid cooldown allows another
  // want) a second wave that re-arms it while in flight; then nothing more is sent.
  for (let i = 0; i < 150; i++) sent.push(call(i % 10 === 0 ? token : withKid(token, crypto.randomUUID())));
  await until(() => idp.fetched().jwks > before.jwks, 10_000, 'the forced refetch at the provider');
  await clockPast(Date.now() + 1000);
  for (let i = 0; i < 150; i++) sent.push(call(i % 10 === 0 ? token : withKid(token, crypto.randomUUID())));
  const answers = await within(sent, wait + 3000);
  const unanswered = answers.filter((a) => a === 'unanswered').length;
  assert.equal(unanswered, 0, `${unanswered} of ${sent.length} requests unanswered within ${wait + 3000} ms`);
  const expected = sent.map((_, i) => (i % 10 === 0 ? [200, undefined] : [401, 'key_not_found']));
  assert.deepEqual(
    answers.map((a) => [a.status, a.code]),
    expected,
  );
  const slowest = Math.max(...answers.map((a) => a.ms));
  const d = idp.fetched();
  console.log(
    'burst',
    JSON.stringify({
      discovery: d.discovery - before.discovery,
      jwks: d.jwks - before.jwks,
      jwks2: idp.state.moved - before.jwks2,
      slowest,
    }),
  );
  assert.ok(slowest <= wait + 1000, `slowest answer ${slowest} ms, join wait ${wait} ms`);
  // The refetch ran to its end although the request that started it answered first.
  const h = await until(
    async () => {
      const x = await w.health(token);
      return x.remote.source === `${idp.issuer}/jwks2` && x;
    },
    20_000,
    'the refetch to finish',
  );
  assert.equal(h.remote.source, `${idp.issuer}/jwks2`);
  // Two refreshes of one fetch attempt each: the second wave's want, which the refresh in flight
  // predated, got a refresh of its own (started by that request), not an extension of the first
  // (which would outlive the waitUntil of the request that started it under a steady flood).
  assert.equal(h.isolate.refreshes - refreshes, 2);
});

test('forced refetches with an unchanged provider do not write KV (the core keeps a copy that holds the same keys and is young enough); a rotation writes once', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  // max-age 60 s: a copy with the same keys is rewritten from 30 s on, never within this test.
  const w = await worker(idp, { kidCooldown: 1, remoteKeys: { minMaxAge: 60, maxMaxAge: 60, timeout: 1 } });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  const key = remoteKeys.kvKey(idp.issuer);
  const written = await w.kv.get(key);
  assert.equal((await w.health(token)).isolate.kvWrites, 1, 'the first fetch is written');
  // N forced refetches (one per kid cooldown), each asking the provider, which has not changed.
  const N = 4;
  const before = idp.fetched();
  for (let i = 0; i < N; i++) {
    const r = await w.call(withKid(token, crypto.randomUUID()));
    // Measured after the answer: the worker's clock read for the cooldown is before it.
    const at = Date.now();
    assert.deepEqual([r.status, r.code], [401, 'key_not_found']);
    await clockPast(at + 1000);
  }
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: N }, 'each forced refetch asked the provider');
  // KV's document is byte for byte the one written first: no write (any write renews fetched_at_ms).
  assert.equal(await w.kv.get(key), written, 'KV not written by a refetch of the same keys');
  const h = await w.health(token);
  assert.deepEqual([h.isolate.kvWrites, h.isolate.kvSkipped], [1, N]);
  // A new isolate on the same KV does the same: its forced refetch finds KV's copy holding the same keys.
  await w.restart();
  assert.equal((await w.call(token)).status, 200);
  const r = await w.call(withKid(token, crypto.randomUUID()));
  assert.deepEqual([r.status, r.code], [401, 'key_not_found']);
  assert.equal(idp.fetched().jwks - before.jwks, N + 1);
  assert.equal(await w.kv.get(key), written, 'nor by another isolate');
  // The provider rotates: the new kid's refetch changes the keys, and is written.
  await clockPast(Date.now() + 1000);
  idp.rotate([e2, e1, r1]);
  const fresh = await idp.token('ES256');
  assert.equal((await w.call(fresh)).status, 200);
  const doc = JSON.parse(await w.kv.get(key));
  assert.deepEqual(doc.keys.map((k) => k.kid).sort(), ['e1', 'e2', 'r1']);
  assert.deepEqual(
    [(await w.health(fresh)).isolate.kvWrites, idp.fetched().jwks - before.jwks],
    [1, N + 2],
    'one write for the rotation in the new isolate',
  );
});
