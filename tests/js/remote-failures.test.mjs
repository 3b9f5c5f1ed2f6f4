// Remote keys when what surrounds the provider fails: KV reads or writes of the worker's
// `remote:<issuer>` copy throwing (real local KV on workerd, wrapped by
// tests/runtime/remote-faults-worker.js), an `io.fetch` in Node that answers with something that
// is not a Response, and the CLI's `verify --issuer-url/--jwks-url` against a provider that is
// down, answers 404 or names another issuer. The provider is npm oidc-provider behind the test's
// counting server (tests/runtime/idp.mjs); every fetch count is asserted, not timed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Validator, TokengateError, mint, remoteJwks } from 'tokengate';
import { remoteKeys } from 'tokengate/store';
import { bundleWorker } from '../runtime/workerd.mjs';
import { delta, oidcConfig, startOidcWorker, until } from '../runtime/oidc-worker.mjs';
import { faults, signingKey, startIdp, RESOURCES } from '../runtime/idp.mjs';
import { clockPast, freePort, listen, now, startCli } from '../runtime/helpers.mjs';

const script = await bundleWorker('tests/runtime/remote-faults-worker.js', 'remote-faults');
const cleanup = [];
after(async () => {
  for (const c of cleanup.reverse()) await c();
});

const e1 = signingKey('ES256', 'e1');
const r1 = signingKey('RS256', 'r1');
const e2 = signingKey('ES256', 'e2');

async function worker(idp, extra = {}) {
  const w = await startOidcWorker(script, oidcConfig(idp, extra), { cleanup });
  const control = async (set) => {
    const init = set ? { method: 'POST', body: JSON.stringify(set) } : {};
    return (await w.mf.dispatchFetch('http://localhost/__remote-faults', init)).json();
  };
  w.health = w.issuerHealth;
  w.faults = (set) => control(set);
  w.calls = async () => (await control()).calls;
  // w.restart(): a new isolate on the same KV and Cache API storage, its faults off.
  return w;
}

const statuses = (answers) => answers.map((a) => `${a.status}${a.code ? ` ${a.code}` : ''}`);

test('KV reads of the copy failing, warm isolate: a rotation is still fetched from the provider and the new kid accepted', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp);
  const old = await idp.token('ES256');
  assert.equal((await w.call(old)).status, 200);
  await w.faults({ get: true });
  idp.rotate([e2, e1, r1]);
  const fresh = await idp.token('ES256');
  assert.equal(JSON.parse(Buffer.from(fresh.split('.')[0], 'base64url')).kid, 'e2');
  const before = idp.fetched();
  const res = await w.call(fresh);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 1 }, 'one JWKS refetch for the new kid');
  assert.ok((await w.calls()).getFailed >= 1, 'the KV read was tried and failed');
  assert.equal((await w.call(old)).status, 200);
  const h = await w.health(fresh);
  assert.equal(h.remote.lastError, null);
  assert.ok(h.isolate.kvFailures >= 1, 'health counts the failed KV read');
});

test('KV reads of the copy failing, cold isolate: a burst is answered after exactly 1 discovery and 1 JWKS fetch', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp);
  await w.faults({ get: true });
  const es = await idp.token('ES256');
  const rs = await idp.token('RS256');
  const before = idp.fetched();
  const answers = await Promise.all(Array.from({ length: 16 }, (_, i) => w.call(i % 2 ? rs : es)));
  assert.deepEqual(statuses(answers), Array(16).fill('200'));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 });
  const calls = await w.calls();
  assert.equal(calls.get, calls.getFailed, 'every KV read of the copy failed');
  assert.ok(calls.get >= 1);
  // KV's writes still work: the fetched copy is written there.
  assert.equal(JSON.parse(await w.kv.get(remoteKeys.kvKey(idp.issuer))).source, `${idp.issuer}/jwks`);
});

test('KV reads of the copy failing past max-age and keysMaxStale: the provider is fetched, no 503', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp, { kidCooldown: 1, keysMaxStale: 1, remoteKeys: { minMaxAge: 1, maxMaxAge: 1, timeout: 1 } });
  const token = await idp.token('ES256');
  assert.equal((await w.call(token)).status, 200);
  const fetchedAt = Date.now();
  await w.faults({ get: true });
  await clockPast(fetchedAt + 2100); // past max-age (1 s) and keysMaxStale (1 s): the keys no longer serve
  const before = idp.fetched();
  const res = await w.call(token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 1 });
  assert.ok((await w.calls()).getFailed >= 1);
});

test('KV writes of the copy failing (429): no 5xx, the Cache API copy is still written, and a new isolate starts from it', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const w = await worker(idp);
  await w.faults({ put: true });
  const token = await idp.token('ES256');
  const answers = await Promise.all(Array.from({ length: 8 }, () => w.call(token)));
  assert.deepEqual(statuses(answers), Array(8).fill('200'));
  const calls = await w.calls();
  assert.ok(calls.putFailed >= 1 && calls.put === calls.putFailed, JSON.stringify(calls));
  const h = await until(
    async () => {
      const x = await w.health(token);
      return x.isolate.cacheWrites === 1 && x;
    },
    10_000,
    'the Cache API copy',
  );
  assert.equal(h.isolate.kvWrites, 0, 'no write succeeded');
  assert.ok(h.isolate.kvFailures >= 1);
  assert.equal(await w.kv.get(remoteKeys.kvKey(idp.issuer)), null, 'KV holds no copy');
  // The provider stops: a new isolate has only the colo's copy.
  idp.state.down = true;
  const before = idp.fetched();
  await w.restart();
  const res = await w.call(token);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 0, jwks: 0 });
  const h2 = await w.health(token);
  assert.deepEqual({ cacheHits: h2.isolate.cacheHits, fetches: h2.isolate.fetches }, { cacheHits: 1, fetches: 0 });
  idp.state.down = false;
});

// Node: an `io.fetch` whose answer is not a Response is a network failure, like a provider that is down.
const k = signingKey('ES256', 'n1');
const { d: _d, ...pub } = k;
const iss = 'https://idp.example';

test('io.fetch answering with something other than a Response: data_unavailable as when the provider is down, reason network, counted, cooldown applies', async () => {
  const token = mint(k, { iss, aud: 'api', sub: 's', iat: now(), exp: now() + 600 });
  const good = () => new Response(JSON.stringify({ keys: [pub] }), { headers: { 'content-type': 'application/json' } });
  const answers = {
    down: async () => {
      throw new TypeError('fetch failed');
    },
    null: async () => null,
    string: async () => 'hello',
    'no headers': async () => ({ status: 200, ok: true, body: null }),
    // A stream of strings, not bytes (its sizes never add up: it was read forever).
    'string chunks': async () => ({
      status: 200,
      headers: new Headers(),
      body: { getReader: () => ({ read: async () => ({ done: false, value: 'abc' }), cancel: async () => {} }) },
    }),
    'throwing getters': async () =>
      new Proxy(good(), {
        get() {
          throw new Error('getter boom');
        },
      }),
  };
  const seen = {};
  for (const [name, bad] of Object.entries(answers)) {
    let calls = 0;
    let healthy = false;
    const src = remoteJwks(
      { jwksUri: `${iss}/jwks`, kidCooldown: 1, remoteKeys: { timeout: 1 } },
      {
        fetch: async (...a) => {
          calls++;
          return healthy ? good() : bad(...a);
        },
      },
    );
    const v = new Validator({ keys: src, issuer: iss, audience: 'api' });
    const err = await v.validateAsync(token).then(
      () => null,
      (e) => e,
    );
    assert.ok(err instanceof TokengateError, `${name}: ${err}`);
    const s = src.summary();
    seen[name] = { code: err.code, status: err.status, reason: s.lastError?.reason, failures: s.failures, calls };
    // Within the cooldown: no refetch, the same refusal.
    const again = await v.validateAsync(token).then(
      () => null,
      (e) => e,
    );
    assert.equal(again?.code, err.code, name);
    assert.equal(calls, 1, `${name}: no refetch within the cooldown`);
    // An explicit refresh fetches again and resolves with the failure; it never rejects.
    assert.equal((await src.refresh())?.reason, 'network', name);
    assert.equal(calls, 2, name);
    // Once the provider answers, past the cooldown, the keys serve.
    healthy = true;
    await clockPast(Date.now() + 1100);
    assert.equal((await v.validateAsync(token)).claims.sub, 's', name);
  }
  const expected = { code: 'data_unavailable', status: 503, reason: 'network', failures: 1, calls: 1 };
  assert.deepEqual(seen, Object.fromEntries(Object.keys(answers).map((n) => [n, expected])));
  // A status that is no HTTP status: the core's refusal of the response, recorded like any failure.
  const odd = remoteJwks({ jwksUri: `${iss}/jwks` }, { fetch: async () => ({ status: 1e9, headers: new Headers(), body: null }) });
  assert.equal((await odd.refresh())?.reason, 'http_status');
  assert.equal(odd.summary().failures, 1);
});

// The CLI: a provider that fails is a failure (exit 1, the reason named), not a usage error (2).
function cli(args) {
  return startCli(args).result;
}

test('tokengate verify --issuer-url/--jwks-url: provider down, 404 or another issuer exit 1 with the reason; a URL refused as given stays exit 2', async () => {
  const idp = await startIdp([e1, r1]);
  cleanup.push(() => idp.close());
  const token = await idp.token('ES256');
  const port = await freePort();
  const down = `http://127.0.0.1:${port}`;

  const dead = await cli(['verify', token, '--issuer-url', down]);
  assert.equal(dead.code, 1, dead.err);
  assert.match(
    dead.out,
    /^keys not fetched: --issuer-url: network: http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration: fetch failed: .*ECONNREFUSED/,
  );
  assert.equal(dead.err, '');
  const deadJson = await cli(['verify', token, '--jwks-url', `${down}/jwks`, '--json']);
  assert.equal(deadJson.code, 1);
  assert.equal(deadJson.json.valid, false);
  assert.equal(deadJson.json.error.reason, 'network');
  assert.match(deadJson.json.error.message, new RegExp(`^${down}/jwks: fetch failed`));

  const missing = await cli(['verify', token, '--jwks-url', `${idp.issuer}/nothing`, '--json']);
  assert.equal(missing.code, 1, missing.err);
  assert.deepEqual(missing.json, { valid: false, error: { reason: 'http_status', message: 'HTTP 404' } });
  const nf = await http404();
  cleanup.push(() => new Promise((r) => nf.close(r)));
  const nfIssuer = `http://127.0.0.1:${nf.address().port}`;
  const noDiscovery = await cli(['verify', token, '--issuer-url', nfIssuer]);
  assert.equal(noDiscovery.code, 1, noDiscovery.err);
  assert.match(noDiscovery.out, /^keys not fetched: --issuer-url: http_status: .*HTTP 404/);

  idp.fault('/.well-known/openid-configuration', faults.json({ issuer: 'https://evil.example', jwks_uri: `${idp.issuer}/jwks` }));
  const other = await cli(['verify', token, '--issuer-url', idp.issuer, '--json']);
  idp.fault('/.well-known/openid-configuration', null);
  assert.equal(other.code, 1, other.err);
  assert.equal(other.json.error.reason, 'issuer_mismatch');
  assert.match(other.json.error.message, /discovery document names issuer "https:\/\/evil.example"/);

  // The URL given is refused before any fetch: an input error.
  const http = await cli(['verify', token, '--jwks-url', 'http://idp.example/jwks']);
  assert.equal(http.code, 2);
  assert.match(http.err, /^tokengate: --jwks-url: "http:\/\/idp.example\/jwks" is not https/);
  const httpIssuer = await cli(['verify', token, '--issuer-url', 'http://idp.example']);
  assert.equal(httpIssuer.code, 2);
  assert.match(httpIssuer.err, /^tokengate: --issuer-url: "http:\/\/idp.example" is not https/);
  // And the provider up: valid, exit 0.
  const ok = await cli(['verify', token, '--issuer-url', idp.issuer, '--aud', RESOURCES.ES256]);
  assert.equal(ok.code, 0, ok.err);
});

function http404() {
  return listen((_req, res) => res.writeHead(404, { 'content-type': 'application/json' }).end('{}'));
}
