// Issue 14 in Node: the JS remote-key functions (tokengate/store) and `tokengate verify
// --issuer-url / --jwks-url` against a real OpenID Provider (npm oidc-provider on 127.0.0.1),
// with the same rules the worker follows: every verdict is the core's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Validator } from 'tokengate';
import { RemoteKeysError, boundedFetch, fetchRemoteKeys, jwksUrl, remoteKeys } from 'tokengate/store';
import { RESOURCES, faults, signingKey, startIdp } from '../runtime/idp.mjs';
import { BIN } from '../runtime/helpers.mjs';

const idp = await startIdp([signingKey('ES256', 'e1'), signingKey('RS256', 'r1')]);
after(() => idp.close());

function cli(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? err.code : 0, stdout, stderr }),
    );
  });
}

test('discovery then JWKS into a Validator: RFC 9068 tokens of both algorithms validate', async () => {
  const set = remoteKeys.open(idp.issuer, null);
  const before = idp.fetched();
  const { failure, fetches } = await fetchRemoteKeys(set, { issuer: idp.issuer });
  assert.equal(failure, null);
  assert.equal(fetches, 2);
  assert.deepEqual(idp.fetched(), { discovery: before.discovery + 1, jwks: before.jwks + 1 });
  const v = new Validator({ keys: JSON.parse(set.jwks()), issuer: idp.issuer, audience: Object.values(RESOURCES), typ: ['at+jwt'] });
  for (const alg of ['ES256', 'RS256']) {
    const r = v.validate(await idp.token(alg));
    assert.equal(r.subject, 'svc');
    assert.equal(r.alg, alg);
  }
  assert.equal(set.action(Date.now(), 30, 3600), 'use');
});

test('the rules hold in Node too: URL rule, issuer equality, size, timeout, redirects', async () => {
  assert.throws(
    () => remoteKeys.checkUrl('http://example.com/jwks'),
    (e) => e instanceof RemoteKeysError && e.reason === 'url_not_allowed',
  );
  assert.deepEqual(remoteKeys.discoveryUrls('https://a.example/t'), [
    'https://a.example/t/.well-known/openid-configuration',
    'https://a.example/.well-known/oauth-authorization-server/t',
  ]);
  await assert.rejects(jwksUrl({ issuer: 'http://idp.example' }), (e) => e.reason === 'url_not_allowed');
  idp.fault('/.well-known/openid-configuration', faults.json({ issuer: `${idp.issuer}/`, jwks_uri: `${idp.issuer}/jwks` }));
  await assert.rejects(jwksUrl({ issuer: idp.issuer }), (e) => e.reason === 'issuer_mismatch');
  idp.fault('/jwks', faults.huge);
  await assert.rejects(boundedFetch(`${idp.issuer}/jwks`), (e) => e.reason === 'too_large');
  idp.fault('/jwks', faults.slow);
  const t0 = Date.now();
  await assert.rejects(boundedFetch(`${idp.issuer}/jwks`, { policy: { timeout: 1 } }), (e) => e.reason === 'timeout');
  assert.ok(Date.now() - t0 < 5000);
  idp.fault('/jwks', faults.redirect);
  const set = remoteKeys.open(idp.issuer, null);
  const { failure } = await fetchRemoteKeys(set, { issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` });
  assert.equal(failure.reason, 'redirect');
  assert.equal(set.hasKeys, false);
  idp.fault('/jwks', null);
  // A bad answer after a good one keeps the keys.
  const good = remoteKeys.open(idp.issuer, null);
  assert.equal((await fetchRemoteKeys(good, { issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` })).failure, null);
  idp.fault('/jwks', faults.garbage);
  assert.equal((await fetchRemoteKeys(good, { issuer: idp.issuer, jwksUri: `${idp.issuer}/jwks` })).failure.reason, 'not_json');
  assert.equal(JSON.parse(good.jwks()).keys.length, 2);
  assert.equal(JSON.parse(good.summary(Date.now(), 30, 3600)).lastError.reason, 'not_json');
  idp.fault('/jwks', null);
  // A stored document round-trips and is checked.
  const again = remoteKeys.open(idp.issuer, good.toJSON());
  assert.equal(again.jwks(), good.jwks());
  assert.throws(
    () => remoteKeys.open('https://other.example', good.toJSON()),
    (e) => e.code === 'data_unavailable',
  );
});

test('tokengate verify --issuer-url and --jwks-url', async () => {
  const token = await idp.token('ES256');
  const ok = await cli(['verify', token, '--issuer-url', idp.issuer, '--aud', RESOURCES.ES256, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).claims.client_id, 'svc');
  const byUrl = await cli(['verify', await idp.token('RS256'), '--jwks-url', `${idp.issuer}/jwks`, '--iss', idp.issuer, '--json']);
  assert.equal(byUrl.code, 0, byUrl.stderr);
  const wrongAud = await cli(['verify', token, '--issuer-url', idp.issuer, '--aud', 'other', '--json']);
  assert.equal(wrongAud.code, 1);
  assert.equal(JSON.parse(wrongAud.stdout).error.code, 'audience_not_allowed');
  const http = await cli(['verify', token, '--jwks-url', 'http://idp.example/jwks']);
  assert.equal(http.code, 2);
  assert.match(http.stderr, /^tokengate: --jwks-url: "http:\/\/idp.example\/jwks" is not https/);
  idp.fault('/.well-known/openid-configuration', faults.json({ issuer: 'https://evil.example', jwks_uri: `${idp.issuer}/jwks` }));
  const mismatch = await cli(['verify', token, '--issuer-url', idp.issuer]);
  idp.fault('/.well-known/openid-configuration', null);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /discovery document names issuer "https:\/\/evil.example"/);
  const both = await cli(['verify', token, '--issuer-url', idp.issuer, '--jwks', 'x.json']);
  assert.equal(both.code, 2);
});
