// The KV data model's rules as the library exposes them to the CLI and the cron: the core decides
// what is expired, what a published document holds and what an audit record's metadata is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tg from '../../js/node.js';
import { NOW, ISS } from '../runtime/helpers.mjs';

test('expired revocation entries are the core decision: until ≤ now, and an unreadable entry is never reported', () => {
  const entries = [
    { name: 'revocation:a', entry: { kind: 'jti', iss: ISS, jti: 'old', until: NOW } },
    { name: 'revocation:b', entry: { kind: 'jti', iss: ISS, jti: 'live', until: NOW + 1 } },
    { name: 'revocation:c', entry: { kind: 'jti', iss: ISS, until: NOW - 100 } },
    { name: 'revocation:d', entry: null },
    { name: 'revocation:e', entry: { kind: 'subject', iss: ISS, sub: 'u', before: NOW - 10, until: NOW - 1 } },
  ];
  assert.deepEqual(tg.lifecycle.expiredRevocations(entries, { now: NOW }), ['revocation:a', 'revocation:e']);
  assert.deepEqual(tg.lifecycle.expiredRevocations(entries, { now: NOW + 1 }), ['revocation:a', 'revocation:b', 'revocation:e']);
  assert.throws(() => tg.lifecycle.expiredRevocations('not json'), { code: 'revocation_invalid' });
});

test('a published key set is read as the core decides: a snapshot behind its entries is rebuilt from them', () => {
  const jwk = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'k1' }));
  const listed = [{ name: 'key:jwks:main:k1', entry: { status: 'active', created_at: NOW, jwk } }];
  const built = tg.lifecycle.buildKeySet(listed, { prevVersion: 4, now: NOW, source: 'digest' });
  assert.equal(built.version, 5);
  const same = tg.lifecycle.keySet('jwks:main', JSON.stringify(built), listed, { source: 'digest', now: NOW });
  assert.deepEqual(same, { doc: built, behind: false });
  const gone = tg.lifecycle.keySet('jwks:main', JSON.stringify(built), [], { source: 'other', now: NOW });
  assert.deepEqual([gone.doc.keys.length, gone.behind], [0, true]);
  assert.throws(() => tg.lifecycle.keySet('jwks:main', '{"schema":1,"keys":{}}', listed, { source: 'x', now: NOW }), {
    code: 'key_invalid',
  });
});

test('audit metadata fits KV metadata in bytes', () => {
  const small = { at: 'now', actor: 'ops', action: 'keys.rotate' };
  assert.deepEqual(tg.lifecycle.auditMetadata(small), small);
  const large = tg.lifecycle.auditMetadata({ ...small, actor: 'é'.repeat(700) });
  assert.ok(new TextEncoder().encode(JSON.stringify(large)).length <= 1024);
  assert.equal(large.truncated, true);
});
