// Which configured issuer checks a token, and stored copies dated in the future, end to end in
// workerd with a real OpenID Provider (npm oidc-provider on 127.0.0.1). A token whose `iss` is
// no configured issuer is refused by the core (401 issuer_not_allowed) before any key is read
// or fetched, whether or not the configured issuer's keys are available; a KV copy of an
// issuer's keys dated years ahead ages from now and is refreshed on schedule. Every IdP fetch
// is counted by the test's own server in front of the provider.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from 'tokengate';
import { remoteKeys } from 'tokengate/store';
import { bundleWorker } from '../runtime/workerd.mjs';
import { delta, oidcConfig, startOidcWorker, until } from '../runtime/oidc-worker.mjs';
import { signingKey, startIdp } from '../runtime/idp.mjs';

const script = await bundleWorker('worker/index.js', 'oidc-issuers');
const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const e1 = signingKey('ES256', 'e1');
const r1 = signingKey('RS256', 'r1');

const config = (idp, extra = {}) => oidcConfig(idp, { cacheTtl: 60, ...extra });

async function worker(idp, extra = {}, persist, forged) {
  const w = await startOidcWorker(script, config(idp, extra), { cleanup, persist });
  if (forged) await w.kv.put(remoteKeys.kvKey(idp.issuer), forged);
  return w;
}

/** The claims of `token`, with `iss` replaced (signed by the provider's own key `e1`). */
function reissued(token, iss) {
  const claims = { ...JSON.parse(Buffer.from(token.split('.')[1], 'base64url')), iss, jti: crypto.randomUUID() };
  return tg.mint(e1, claims, { header: { typ: 'at+jwt' } });
}

function assertNotAllowed(r, iss) {
  assert.equal(r.status, 401, JSON.stringify(r.body));
  assert.equal(r.code, 'issuer_not_allowed');
  assert.equal(r.body.error, 'invalid_token');
  assert.equal(r.body.error_description, `issuer "${iss}" is not allowed`);
  assert.match(r.challenge, /^Bearer realm="api", error="invalid_token"/);
}

test('a token whose iss is no configured issuer: 401 issuer_not_allowed on a cold isolate, no IdP fetch, no KV read', async () => {
  const idp = await startIdp([e1, r1]);
  const other = await startIdp([signingKey('ES256', 'o1'), signingKey('RS256', 'o2')]);
  cleanup.push(
    () => idp.close(),
    () => other.close(),
  );
  const w = await worker(idp);
  // A real token from another provider, and the configured provider's own token re-issued
  // under another name (its signature verifies with the configured issuer's keys).
  const foreign = await other.token('ES256');
  const own = await idp.token('ES256');
  const renamed = reissued(own, 'https://evil.example');
  const before = idp.fetched();
  assertNotAllowed(await w.call(foreign), other.issuer);
  assertNotAllowed(await w.call(renamed), 'https://evil.example');
  // 20 concurrent ones on the still cold isolate: the same answer, and nothing fetched.
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) => w.call(i % 2 ? foreign : renamed)));
  assert.deepEqual([...new Set(many.map((r) => `${r.status} ${r.code}`))], ['401 issuer_not_allowed']);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 0 }, 'the configured provider was never asked');
  assert.deepEqual(delta({ discovery: 0, jwks: 0 }, other.fetched()), { discovery: 0, jwks: 0 }, 'nor the token’s own');
  assert.deepEqual((await w.kv.list({ prefix: 'remote:' })).keys, [], 'no key set document was written');
  // The configured issuer's token still passes (its keys fetched once).
  assert.equal((await w.call(own)).status, 200);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 });
  // KV reads, counted by the worker itself: between two health checks (everything cached for
  // 60 s), 20 refusals read nothing more than no request at all.
  const reads = async () => (await w.health(own)).kv.reads;
  const r0 = await reads();
  const r1s = await reads();
  for (let i = 0; i < 20; i++) assertNotAllowed(await w.call(renamed), 'https://evil.example');
  const r2 = await reads();
  assert.equal(r2 - r1s, r1s - r0, `KV reads: ${r0}, ${r1s}, ${r2}`);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 }, 'no fetch for the refusals');
});

test("a token whose iss is no configured issuer while that issuer's keys are unavailable: still 401, never 503, no fetch", async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const own = await idp.token('ES256');
  const renamed = reissued(own, 'https://evil.example');
  idp.state.down = true;
  const w = await worker(idp, { cacheTtl: 1, keysMaxStale: 2, remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 1 } });
  // Cold isolate, provider down: refused at once, nothing fetched.
  const before = idp.fetched();
  assertNotAllowed(await w.call(renamed), 'https://evil.example');
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 0 });
  // The configured issuer's own token: its keys are unavailable (503).
  const mine = await w.call(own);
  assert.equal(mine.status, 503, JSON.stringify(mine.body));
  assert.equal(mine.code, 'data_unavailable');
  // Still refused as a client error, and nothing more fetched for it.
  const after503 = idp.fetched();
  for (let i = 0; i < 5; i++) assertNotAllowed(await w.call(renamed), 'https://evil.example');
  assert.deepEqual(delta(after503, idp.fetched()), { discovery: 0, jwks: 0 });

  // Keys held, then past keysMaxStale with the provider down: the issuer's tokens get 503, a
  // token of no configured issuer still gets 401 and causes no fetch.
  idp.state.down = false;
  await until(async () => (await w.call(own)).status === 200, 15_000, 'keys fetched once the provider is back');
  idp.state.down = true;
  await until(async () => (await w.call(own)).status === 503, 15_000, 'keys past keysMaxStale');
  const stale = idp.fetched();
  assertNotAllowed(await w.call(renamed), 'https://evil.example');
  assert.deepEqual(delta(stale, idp.fetched()), { discovery: 0, jwks: 0 });
  idp.state.down = false;
});

test('a KV copy dated ten years ahead is read as of now: a new worker does not use its keys, asks the provider at once, and a key removed there stops verifying', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const persist = mkdtempSync(join(tmpdir(), 'tg-oidc-issuers-'));
  const long = { cacheTtl: 1, keysMaxStale: 600, remoteKeys: { minMaxAge: 300, maxMaxAge: 300, timeout: 1 } };
  const w = await worker(idp, long, persist);
  const es = await idp.token('ES256');
  const rs = await idp.token('RS256');
  assert.equal((await w.call(rs)).status, 200);
  const name = remoteKeys.kvKey(idp.issuer);
  await until(async () => JSON.parse((await w.kv.get(name)) ?? 'null')?.keys.length === 2, 15_000, 'the copy in KV');
  const doc = JSON.parse(await w.kv.get(name));
  await w.mf.dispose();
  cleanup.pop();
  // Someone who can write KV dates the copy ten years ahead; the provider drops r1.
  const ahead = Date.now() + 10 * 365 * 86_400_000;
  idp.rotate([e1]);
  // A new worker process on that KV alone (no Cache API copy).
  const w2 = await worker(
    idp,
    long,
    persist,
    JSON.stringify({ ...doc, fetched_at_ms: ahead, attempted_at_ms: ahead, discovered_at_ms: ahead }),
  );
  const before = idp.fetched();
  // Held as fresh for ten years (its max-age is 300 s here), the copy would answer without
  // the provider and r1 would verify until then.
  assert.equal((await w2.call(es)).status, 200);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 }, 'rediscovered and fetched at once');
  const r = await w2.call(rs);
  assert.equal(r.code, 'key_not_found', JSON.stringify(r.body));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 2 }, 'and one forced refetch for the unknown kid');
  // The store now holds the provider's keys, dated now.
  await until(async () => JSON.parse(await w2.kv.get(name)).keys.length === 1, 15_000, 'the copy in KV replaced');
  const stored = JSON.parse(await w2.kv.get(name));
  assert.deepEqual(
    stored.keys.map((k) => k.kid),
    ['e1'],
  );
  assert.ok(stored.fetched_at_ms <= Date.now() && stored.discovered_at_ms <= Date.now(), JSON.stringify(stored));
});
