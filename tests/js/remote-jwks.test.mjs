// Remote keys in the library: `remoteJwks({ issuer, discovery: true } | { jwksUri })` as a Validator's
// `keys` in Node, against a real OpenID Provider (npm oidc-provider on 127.0.0.1). Every fetch is
// counted by the test's server in front of the provider; when to fetch, refresh, rediscover or
// give up is the core's decision, and the counts below are what it decided.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteJwks, Validator, mint, remoteJwks } from 'tokengate';
import { RESOURCES, faults, signingKey, startIdp } from '../runtime/idp.mjs';
import { clockPast, waitFor } from '../runtime/helpers.mjs';

const e1 = signingKey('ES256', 'e1');
const r1 = signingKey('RS256', 'r1');
const e2 = signingKey('ES256', 'e2');
const idps = [];
after(async () => {
  for (const i of idps) await i.close();
});
async function idp(keys = [e1, r1]) {
  const i = await startIdp(keys);
  idps.push(i);
  return i;
}
const delta = (a, b) => ({ discovery: b.discovery - a.discovery, jwks: b.jwks - a.jwks });
const validator = (i, keys) => new Validator({ keys, issuer: i.issuer, audience: Object.values(RESOURCES), typ: ['at+jwt'] });
const codeOf = async (p) => {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e.code;
  }
};
function withKid(token, kid) {
  const [h, p, s] = token.split('.');
  const header = { ...JSON.parse(Buffer.from(h, 'base64url')), kid };
  return [Buffer.from(JSON.stringify(header)).toString('base64url'), p, s].join('.');
}

test('the core decides the options: defaults, and exact refusals', () => {
  const keys = remoteJwks({ jwksUri: 'https://idp.example/jwks' });
  assert.ok(keys instanceof RemoteJwks);
  assert.equal(keys.summary().action, 'fetch');
  for (const bad of [
    {},
    { discovery: true },
    { issuer: 'https://idp.example', discovery: true, jwksUri: 'https://idp.example/jwks' },
    { jwksUri: 'http://idp.example/jwks' },
    { issuer: 'http://idp.example', discovery: true },
    { jwksUri: 'https://idp.example/jwks', kidCooldown: 0 },
    { jwksUri: 'https://idp.example/jwks', remoteKeys: { timeout: 99 } },
    { jwksUri: 'https://idp.example/jwks', fetch: 1 },
  ]) {
    assert.throws(
      () => remoteJwks(bad),
      (e) => e.code === 'options_invalid',
      JSON.stringify(bad),
    );
  }
  assert.throws(() => remoteJwks(null), TypeError);
  assert.throws(() => remoteJwks({ jwksUri: 'https://idp.example/jwks' }, { fetch: 'no' }), TypeError);
});

test('discovery: 50 concurrent cold calls make 1 discovery + 1 JWKS fetch; a rotated kid costs exactly 1 JWKS fetch; a kid flood within the cooldown none', async () => {
  const i = await idp();
  const keys = remoteJwks({ issuer: i.issuer, discovery: true, kidCooldown: 2 });
  const v = validator(i, keys);
  const es = await i.token('ES256');
  const rs = await i.token('RS256');
  const before = i.fetched();
  const results = await Promise.all(Array.from({ length: 50 }, (_, n) => v.validateAsync(n % 2 ? rs : es)));
  assert.deepEqual(new Set(results.map((r) => r.subject)), new Set(['svc']));
  assert.deepEqual(delta(before, i.fetched()), { discovery: 1, jwks: 1 });
  // A second validator on the same source: no fetch; the synchronous path uses the keys held.
  assert.equal(validator(i, keys).validate(rs).alg, 'RS256');
  assert.deepEqual(delta(before, i.fetched()), { discovery: 1, jwks: 1 });
  // Rotation: the new kid forces one refetch of the JWKS; the discovered jwks_uri is reused.
  i.rotate([e2, e1, r1]);
  const fresh = await i.token('ES256');
  const rotated = i.fetched();
  assert.equal((await v.validateAsync(fresh)).header.kid, 'e2');
  const forcedAt = Date.now();
  assert.deepEqual(delta(rotated, i.fetched()), { discovery: 0, jwks: 1 }, 'one JWKS fetch, no discovery');
  // 200 random kids within the cooldown: key_not_found, no fetch.
  const flood = i.fetched();
  const codes = await Promise.all(Array.from({ length: 200 }, () => codeOf(v.validateAsync(withKid(fresh, crypto.randomUUID())))));
  assert.deepEqual([...new Set(codes)], ['key_not_found']);
  assert.deepEqual(delta(flood, i.fetched()), { discovery: 0, jwks: 0 });
  // Past the cooldown, the next flood forces exactly one more.
  await clockPast(forcedAt + 2000);
  const flood2 = i.fetched();
  const codes2 = await Promise.all(Array.from({ length: 50 }, () => codeOf(v.validateAsync(withKid(fresh, crypto.randomUUID())))));
  assert.deepEqual([...new Set(codes2)], ['key_not_found']);
  assert.deepEqual(delta(flood2, i.fetched()), { discovery: 0, jwks: 1 });
  assert.equal(keys.summary().stats.forced, 2);
});

test('a new kid while a background refresh is in flight: that refresh may predate the rotation, so the forced refetch is one more fetch', async () => {
  const i = await idp();
  const keys = remoteJwks({ issuer: i.issuer, discovery: true, kidCooldown: 1, remoteKeys: { minMaxAge: 1, maxMaxAge: 1 } });
  const v = validator(i, keys);
  const old = await i.token('ES256');
  await v.validateAsync(old);
  const firstAt = Date.now();
  // The JWKS server holds the next request, then answers with the keys it had when it arrived.
  const held = [];
  const before = i.state.provider;
  i.fault('/jwks', (req, res) => held.push(() => before.callback()(req, res)));
  await clockPast(firstAt + 1100); // past max-age (1 s) and the attempt cooldown (1 s)
  assert.equal((await v.validateAsync(old)).subject, 'svc', 'the keys held serve while the refresh starts');
  await waitFor(() => held.length === 1, { message: 'the background refresh at the provider' });
  i.rotate([e2, e1, r1]);
  i.fault('/jwks', null);
  const fresh = await i.token('ES256');
  const rotated = i.fetched();
  const answer = v.validateAsync(fresh);
  await waitFor(() => keys.summary().stats.forced === 1, { message: 'the forced refetch joining the refresh in flight' });
  held[0]();
  assert.equal((await answer).header.kid, 'e2');
  assert.deepEqual(delta(rotated, i.fetched()), { discovery: 0, jwks: 1 }, 'one more JWKS fetch, after the one in flight');
});

test('refresh before expiry in the background, reusing the discovered jwks_uri until discoveryMaxAge; a failing JWKS URL is rediscovered at once', async () => {
  const i = await idp();
  const keys = remoteJwks({
    issuer: i.issuer,
    discovery: true,
    kidCooldown: 1,
    remoteKeys: { minMaxAge: 1, maxMaxAge: 1, discoveryMaxAge: 3 },
  });
  const v = validator(i, keys);
  const token = await i.token('ES256');
  await v.validateAsync(token);
  const firstAt = Date.now();
  const start = i.fetched();
  // Refreshes are due from three quarters of max-age (750 ms); each call keeps answering from the keys held.
  await waitFor(
    async () => {
      assert.equal((await v.validateAsync(token)).subject, 'svc');
      return i.fetched().jwks - start.jwks >= 2;
    },
    { timeout: 10_000, message: 'two background refreshes' },
  );
  assert.equal(i.fetched().discovery - start.discovery, 0, 'refreshes within discoveryMaxAge reuse the jwks_uri');
  assert.equal(keys.summary().jwksUri, `${i.issuer}/jwks`);
  // Past discoveryMaxAge (3 s), the next refresh fetches discovery once more.
  await clockPast(firstAt + 3000);
  await waitFor(
    async () => {
      await v.validateAsync(token);
      return i.fetched().discovery - start.discovery >= 1;
    },
    { timeout: 10_000, message: 'rediscovery when due' },
  );
  // The held JWKS URL fails: discovery is fetched again in the same attempt (after the refresh
  // in flight, which joined here, has landed).
  await keys.refresh();
  i.fault('/jwks', (_req, res) => res.writeHead(404).end());
  const failing = i.fetched();
  const failure = await keys.refresh();
  assert.equal(failure.reason, 'http_status');
  assert.deepEqual(delta(failing, i.fetched()), { discovery: 1, jwks: 1 });
  assert.equal((await v.validateAsync(token)).subject, 'svc', 'the keys held still serve');
  i.fault('/jwks', null);
  assert.equal(await keys.refresh(), null);
});

test('a jwksUri source; a warm start from a saved document makes no fetch; no usable keys is data_unavailable, once per cooldown', async () => {
  const i = await idp();
  const token = await i.token('RS256');
  const keys = remoteJwks({ jwksUri: `${i.issuer}/jwks`, remoteKeys: { minMaxAge: 60, maxMaxAge: 60 } });
  const before = i.fetched();
  assert.equal((await validator(i, keys).validateAsync(token)).alg, 'RS256');
  assert.deepEqual(delta(before, i.fetched()), { discovery: 0, jwks: 1 });
  const warm = remoteJwks({ jwksUri: `${i.issuer}/jwks`, remoteKeys: { minMaxAge: 60, maxMaxAge: 60 } }, { document: keys.toJSON() });
  assert.equal(validator(i, warm).validate(token).alg, 'RS256');
  assert.deepEqual(delta(before, i.fetched()), { discovery: 0, jwks: 1 }, 'the saved document is used, not the provider');
  // Provider down from the start: data_unavailable with the reason; then no attempt within the cooldown.
  i.state.down = true;
  const cold = remoteJwks({ issuer: i.issuer, discovery: true, kidCooldown: 30 });
  const v = validator(i, cold);
  const down = i.fetched();
  await assert.rejects(v.validateAsync(token), (e) => e.code === 'data_unavailable' && /network/.test(e.message) && e.status === 503);
  assert.deepEqual(delta(down, i.fetched()), { discovery: 1, jwks: 0 });
  await assert.rejects(v.validateAsync(token), (e) => e.code === 'data_unavailable');
  assert.throws(
    () => v.validate(token),
    (e) => e.code === 'data_unavailable',
  );
  assert.deepEqual(delta(down, i.fetched()), { discovery: 1, jwks: 0 }, 'no second attempt within the cooldown');
  i.state.down = false;
  // A bad answer: the same rules as the worker's (here another issuer in the discovery document).
  i.fault('/.well-known/openid-configuration', faults.json({ issuer: 'https://evil.example', jwks_uri: `${i.issuer}/jwks` }));
  const evil = remoteJwks({ issuer: i.issuer, discovery: true });
  await assert.rejects(validator(i, evil).validateAsync(token), (e) => e.code === 'data_unavailable' && /issuer_mismatch/.test(e.message));
  assert.equal(evil.summary().lastError.reason, 'issuer_mismatch');
  i.fault('/.well-known/openid-configuration', null);
});

test('synchronous validate with no keys yet: data_unavailable, and the fetch it started serves the next call', async () => {
  const i = await idp();
  const token = await i.token('ES256');
  const keys = remoteJwks({ issuer: i.issuer, discovery: true });
  const v = validator(i, keys);
  assert.throws(
    () => v.validate(token),
    (e) => e.code === 'data_unavailable',
  );
  await waitFor(() => keys.summary().usable, { message: 'the background fetch' });
  assert.equal(v.validate(token).subject, 'svc');
  assert.deepEqual(i.fetched(), { discovery: 1, jwks: 1 });
});

test('a saved document from another source is ignored: the configured source is fetched, the other key refused', async () => {
  const i = await idp();
  const evilKey = signingKey('ES256', 'evil');
  const other = await idp([evilKey]);
  const token = await i.token('ES256');
  const claims = { ...JSON.parse(Buffer.from(token.split('.')[1], 'base64url')), jti: crypto.randomUUID() };
  const forged = mint(evilKey, claims, { header: { typ: 'at+jwt' } });
  // A document fetched for this issuer from another URL (another configuration's jwksUri).
  const elsewhere = remoteJwks({ issuer: i.issuer, jwksUri: `${other.issuer}/jwks` });
  assert.equal((await validator(i, elsewhere).validateAsync(forged)).alg, 'ES256');
  const saved = elsewhere.toJSON();
  for (const options of [
    { issuer: i.issuer, discovery: true },
    { issuer: i.issuer, jwksUri: `${i.issuer}/jwks` },
  ]) {
    const before = { i: i.fetched(), other: other.fetched() };
    const keys = remoteJwks(options, { document: saved });
    assert.equal(keys.jwks, null, 'nothing adopted from the saved document');
    const v = validator(i, keys);
    assert.equal(await codeOf(v.validateAsync(forged)), 'key_not_found');
    assert.equal(await codeOf(v.validateAsync(token)), 'ok');
    assert.deepEqual(delta(before.other, other.fetched()), { discovery: 0, jwks: 0 }, "never the document's URL");
    assert.equal(delta(before.i, i.fetched()).discovery, options.discovery ? 1 : 0);
    assert.equal(keys.summary().source, `${i.issuer}/jwks`);
  }
});
