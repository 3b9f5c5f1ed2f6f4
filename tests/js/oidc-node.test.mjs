// Identity providers in Node: the JS remote-key functions (tokengate/store) and `tokengate verify
// --issuer-url / --jwks-url` against a real OpenID Provider (npm oidc-provider on 127.0.0.1),
// with the same rules the worker follows: every verdict is the core's.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Validator } from 'tokengate';
import { RemoteKeysError, boundedFetch, fetchRemoteKeys, jwksUrl, remoteKeys } from 'tokengate/store';
import { RESOURCES, faults, signingKey, startIdp } from '../runtime/idp.mjs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, startCli } from '../runtime/helpers.mjs';

const idp = await startIdp([signingKey('ES256', 'e1'), signingKey('RS256', 'r1')]);
after(() => idp.close());

const delta = (a, b) => ({ discovery: b.discovery - a.discovery, jwks: b.jwks - a.jwks });

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
  const again = remoteKeys.open(idp.issuer, good.toJSON(), `${idp.issuer}/jwks`);
  assert.equal(again.jwks(), good.jwks());
  // Only for the source it came from: for discovery, or another jwksUri, it is no copy at all.
  for (const jwksUri of [null, `${idp.issuer}/other`]) {
    const foreign = remoteKeys.open(idp.issuer, good.toJSON(), jwksUri);
    assert.deepEqual([foreign.hasKeys, foreign.source], [false, undefined]);
    assert.match(foreign.ignored, /came from/);
  }
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
  // What the provider answers is a failure (1) with the core's reason, not an input error.
  assert.equal(mismatch.code, 1);
  assert.match(
    mismatch.stdout,
    /^keys not fetched: --issuer-url: issuer_mismatch: discovery document names issuer "https:\/\/evil.example"/,
  );
  const both = await cli(['verify', token, '--issuer-url', idp.issuer, '--jwks', 'x.json']);
  assert.equal(both.code, 2);
});

test('tokengate discover ISSUER: the checked document and every key, used or skipped; exact failures', async () => {
  const before = idp.fetched();
  const r = await startCli(['discover', idp.issuer, '--json']).result;
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 });
  assert.equal(r.json.issuer, idp.issuer);
  assert.equal(r.json.discoveryUrl, `${idp.issuer}/.well-known/openid-configuration`);
  assert.equal(r.json.jwksUri, `${idp.issuer}/jwks`);
  assert.equal(r.json.metadata.token_endpoint, `${idp.issuer}/token`);
  assert.deepEqual(r.json.keys.map((k) => [k.kid, k.kty, k.status]).sort(), [
    ['e1', 'EC', 'used'],
    ['r1', 'RSA', 'used'],
  ]);
  assert.equal(r.json.fetches, 2);
  const text = await startCli(['discover', idp.issuer]).result;
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^issuer: http:\/\/127\.0\.0\.1:\d+ \(checked: exactly the URL given\)$/m);
  assert.match(text.out, /^keys: 2 used, 0 skipped; max-age \d+ s$/m);
  assert.match(text.out, /^ {2}e1 {2}EC {2}ES256 {2}used {2}\S+$/m);
  // A symmetric key next to a public one: shown as skipped, with the core's reason.
  const oct = { kty: 'oct', kid: 'h', k: Buffer.alloc(32, 7).toString('base64url') };
  const { d: _, ...pub } = signingKey('ES256', 'p1');
  idp.fault('/jwks', faults.json({ keys: [pub, oct] }));
  const mixed = await startCli(['discover', idp.issuer, '--json']).result;
  idp.fault('/jwks', null);
  assert.equal(mixed.code, 0, mixed.err);
  assert.deepEqual(
    mixed.json.keys.map((k) => k.kid),
    ['p1'],
  );
  assert.deepEqual(
    mixed.json.skipped.map((k) => [k.kid, k.status]),
    [['h', 'skipped']],
  );
  assert.match(mixed.json.skipped[0].reason, /symmetric/);
  // Another issuer in the document: exit 1, the exact reason.
  idp.fault('/.well-known/openid-configuration', faults.json({ issuer: 'https://evil.example', jwks_uri: `${idp.issuer}/jwks` }));
  const evil = await startCli(['discover', idp.issuer, '--json']).result;
  idp.fault('/.well-known/openid-configuration', null);
  assert.equal(evil.code, 1);
  assert.equal(evil.json.error.reason, 'issuer_mismatch');
  const http = await startCli(['discover', 'http://idp.example']).result;
  assert.equal(http.code, 1);
  assert.match(http.out, /^discovery failed: url_not_allowed: "http:\/\/idp\.example" is not https/);
  const none = await startCli(['discover']).result;
  assert.equal(none.code, 2);
  assert.match(none.err, /^tokengate: discover needs the ISSUER URL/);
  const help = await startCli(['help', 'discover']).result;
  assert.match(help.out, /tokengate discover ISSUER \[--json\]/);
});

test('tokengate keys fetch --issuer ISS: the remote:<issuer> document in KV now, like the cron; a bad answer keeps the keys, exit 1', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tokengate-keys-fetch-'));
  const config = {
    issuers: [
      { issuer: idp.issuer, discovery: true, audience: 'api' },
      { issuer: 'https://own.example', jwks: 'jwks:own', audience: 'api' },
    ],
  };
  writeFileSync(join(root, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = \'\'\'\n${JSON.stringify(config)}\n\'\'\'\n`);
  const run = (args) => startCli(args, { cwd: root, env: { TOKENGATE_ACTOR: 'test' } }).result;
  const before = idp.fetched();
  const first = await run(['keys', 'fetch', '--issuer', idp.issuer, '--json']);
  assert.equal(first.code, 0, first.err);
  assert.deepEqual(delta(before, idp.fetched()), { discovery: 1, jwks: 1 });
  assert.equal(first.json.key, `remote:${idp.issuer}`);
  assert.deepEqual(first.json.kids.sort(), ['e1', 'r1']);
  assert.equal(first.json.jwksUri, `${idp.issuer}/jwks`);
  // The second run starts from KV's copy: the discovered jwks_uri is reused (no discovery fetch).
  const mid = idp.fetched();
  const second = await run(['keys', 'fetch', '--issuer', idp.issuer, '--json']);
  assert.equal(second.code, 0, second.err);
  assert.deepEqual(delta(mid, idp.fetched()), { discovery: 0, jwks: 1 });
  assert.equal(second.json.fetches, 2, 'the document read back from KV counts both fetches');
  // A bad answer: exit 1, the reason, the keys kept in KV.
  idp.fault('/jwks', faults.garbage);
  const bad = await run(['keys', 'fetch', '--issuer', idp.issuer]);
  idp.fault('/jwks', null);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /^fetch of http:\/\/127\.0\.0\.1:\d+ failed: not_json: .*; 2 keys kept \(e1, r1\)/);
  const kept = await run(['keys', 'fetch', '--issuer', idp.issuer, '--json']);
  assert.equal(kept.code, 0, kept.err);
  assert.equal(kept.json.failures, 1);
  // An issuer whose keys are KV's own: a usage error.
  const own = await run(['keys', 'fetch', '--issuer', 'https://own.example']);
  assert.equal(own.code, 2);
  assert.match(own.err, /keys fetch is for issuers with jwksUri or discovery: true/);
});

test('status and health show a remote issuer (source, the kept copy as the core reads it); keys and mint refuse it in one line', async () => {
  const root = mkdtempSync(join(tmpdir(), 'tokengate-remote-status-'));
  const jwksUri = `${idp.issuer}/jwks`;
  const config = {
    issuers: [
      { issuer: idp.issuer, jwksUri, audience: 'api' },
      { issuer: 'https://own.example', jwks: 'jwks:own', audience: 'api' },
    ],
  };
  writeFileSync(join(root, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = \'\'\'\n${JSON.stringify(config)}\n\'\'\'\n`);
  const run = (args) => startCli(args, { cwd: root, env: { TOKENGATE_ACTOR: 'test' } }).result;
  for (const args of [
    ['keys', 'rotate', '--issuer', 'https://own.example'],
    ['revocations', 'compact'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  }
  // No copy in KV yet: shown, and no problem (the first request or the cron fetches it).
  const cold = await run(['status']);
  assert.doesNotMatch(cold.out, /undefined/);
  assert.match(cold.out, new RegExp(`^  remote keys \\(${idp.issuer}\\) from ${jwksUri}: no copy in KV yet`, 'm'));
  assert.equal(cold.code, 0, cold.out);
  assert.equal((await run(['keys', 'fetch', '--issuer', idp.issuer])).code, 0);
  for (const command of ['status', 'health']) {
    const warm = await run([command, '--json']);
    assert.equal(warm.code, 0, warm.out);
    const [remote, own] = warm.json.issuers;
    assert.equal(own.jwks, 'jwks:own');
    assert.equal(remote.remote.key, `remote:${idp.issuer}`);
    assert.equal(remote.remote.from, 'jwksUri');
    assert.equal(remote.remote.url, jwksUri);
    assert.equal(remote.remote.source, jwksUri);
    assert.equal(remote.remote.keys, 2);
    assert.deepEqual(remote.remote.kids.sort(), ['e1', 'r1']);
    assert.equal(remote.remote.lastError, null);
    assert.ok(Number.isInteger(remote.remote.ageSeconds) && Number.isInteger(remote.remote.nextRefreshSeconds));
  }
  const text = await run(['status']);
  assert.match(
    text.out,
    new RegExp(
      `^  remote keys \\(${idp.issuer}\\) from ${jwksUri}: remote:${idp.issuer}: 2 keys \\((e1, r1|r1, e1)\\), \\d+ s old, next refresh in \\d+ s$`,
      'm',
    ),
  );
  assert.doesNotMatch(text.out, /PROBLEM/);
  // tokengate holds no key of a remote issuer: one line, a usage error, KV untouched.
  const refusal = `tokengate: issuer ${idp.issuer} takes its keys from ${jwksUri}; tokengate does not sign for it\n`;
  for (const args of [
    ['keys', 'rotate', '--issuer', idp.issuer],
    ['keys', 'list', '--issuer', idp.issuer],
    ['mint', '--issuer', idp.issuer, '--sub', 'u1'],
  ]) {
    const r = await run(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err, refusal, args.join(' '));
  }
});

test('a held JWKS URL fails and discovery names another that fails too: the document keeps its keys and its URL, and stays a copy of this source', async () => {
  const i = await startIdp([signingKey('ES256', 'm1')]);
  after(() => i.close());
  const policy = { timeout: 1 };
  const set = remoteKeys.open(i.issuer, null);
  assert.equal((await fetchRemoteKeys(set, { issuer: i.issuer }, { policy })).failure, null);
  // The held URL answers 500; discovery now names /jwks2, which does not answer within the timeout.
  i.fault('/.well-known/openid-configuration', faults.json({ issuer: i.issuer, jwks_uri: `${i.issuer}/jwks2` }));
  i.delay('/jwks2', 1500);
  const down = i.state.provider;
  i.state.provider = { callback: () => (_req, res) => res.writeHead(500).end() };
  const { failure, fetches } = await fetchRemoteKeys(set, { issuer: i.issuer }, { policy });
  assert.deepEqual([failure?.reason, fetches], ['timeout', 2]);
  assert.equal(i.state.moved, 1);
  const doc = JSON.parse(set.toJSON());
  assert.deepEqual([doc.source, doc.jwks_uri], [`${i.issuer}/jwks`, `${i.issuer}/jwks`], 'the keys and the URL they came from');
  // Another isolate (or a restart) reading this document adopts it: its keys still serve stale.
  const copy = remoteKeys.open(i.issuer, set.toJSON());
  assert.equal(copy.ignored, undefined);
  assert.equal(copy.hasKeys, true);
  // Once /jwks2 answers, the next attempt follows it (discovery again, the held URL failing).
  i.delay('/jwks2', 0);
  i.state.provider = { callback: () => (req, res) => (req.moved ? down.callback()(req, res) : res.writeHead(500).end()) };
  assert.equal((await fetchRemoteKeys(set, { issuer: i.issuer }, { policy })).failure, null);
  const moved = JSON.parse(set.toJSON());
  assert.deepEqual([moved.source, moved.jwks_uri], [`${i.issuer}/jwks2`, `${i.issuer}/jwks2`]);
});
