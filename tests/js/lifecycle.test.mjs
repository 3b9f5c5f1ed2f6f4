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

test('snapshot builders without `now` take their version floor from the clock in milliseconds', () => {
  // A rebuilt snapshot (no readable predecessor) starts at the clock's floor; in whole seconds, a
  // rebuild in the second a chain began would go below versions that chain already gave out.
  const jwk = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'k1' }));
  const builders = {
    nextVersion: () => tg.lifecycle.nextVersion(0),
    buildKeySet: () =>
      tg.lifecycle.buildKeySet([{ name: 'key:jwks:main:k1', entry: { status: 'active', created_at: NOW, jwk } }], { source: 's' }).version,
    buildGrants: () => tg.lifecycle.buildGrants([], null, { source: 's' }).version,
    snapshot: () => tg.revocations.snapshot([], { source: 's' }).version,
  };
  for (const [name, build] of Object.entries(builders)) {
    const before = Date.now();
    const version = build();
    const after = Date.now();
    assert.ok(version >= before && version <= after, `${name}: ${version} outside ${before}..${after}`);
  }
});

test('audit metadata fits KV metadata in bytes', () => {
  const small = { at: 'now', actor: 'ops', action: 'keys.rotate' };
  assert.deepEqual(tg.lifecycle.auditMetadata(small), small);
  const large = tg.lifecycle.auditMetadata({ ...small, actor: 'é'.repeat(700) });
  assert.ok(new TextEncoder().encode(JSON.stringify(large)).length <= 1024);
  assert.equal(large.truncated, true);
});

// The store's writers over an in-memory KV (the Workers KV API): what they refuse to overwrite.
class MemoryKv {
  #m = new Map();
  async get(k) {
    return this.#m.get(k)?.value ?? null;
  }
  async put(k, value, { metadata } = {}) {
    this.#m.set(k, { value: String(value), metadata: metadata ?? null });
  }
  async delete(k) {
    this.#m.delete(k);
  }
  async list({ prefix = '' } = {}) {
    const keys = [...this.#m.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .map((name) => ({ name, ...(this.#m.get(name).metadata === null ? {} : { metadata: this.#m.get(name).metadata }) }));
    return { keys, list_complete: true };
  }
}

const store = await import('../../js/store.js');
const soon = () => Math.floor(Date.now() / 1000) + 3600;

test('a hand-written revocations document the core cannot read is never rebuilt over: J1 stays revoked', async () => {
  const good = { iss: ISS, jti: 'J1', until: soon() };
  const slips = {
    'an extra item field': { schema: 1, version: 1, generated_at: NOW, jti: [{ ...good, why: 'x' }] },
    'until as a string': { schema: 1, version: 1, generated_at: NOW, jti: [{ ...good, until: String(good.until) }] },
    'a missing until': { schema: 1, version: 1, generated_at: NOW, jti: [{ iss: ISS, jti: 'J1' }] },
    'an unknown top-level field': { schema: 1, version: 1, generated_at: NOW, jti: [good], note: 'hand edit' },
    'schema 2': { schema: 2, version: 1, generated_at: NOW, jti: [good] },
    'a bad hash in another item': { schema: 1, version: 1, generated_at: NOW, jti: [good], apikeys: [{ hash: 'zz', until: soon() }] },
  };
  for (const [what, doc] of Object.entries(slips)) {
    const kv = new MemoryKv();
    const text = JSON.stringify(doc);
    await kv.put('revocations', text);
    assert.throws(() => new tg.RevocationList(text), { code: 'revocation_invalid' }, `${what}: the worker refuses it`);
    // The next revoke's steps: adoption, then compaction (the cron's too) refuse, naming the fix.
    await assert.rejects(store.adoptRevocations(kv), (e) => e instanceof store.UnreadableDocument && /--rebuild/.test(e.message), what);
    await store.putRevocation(kv, { kind: 'jti', iss: ISS, jti: 'OTHER', until: soon() });
    await assert.rejects(store.compactRevocations(kv, { prune: true }), store.UnreadableDocument, what);
    assert.equal(await kv.get('revocations'), text, `${what}: the document is untouched`);
    // Discarding it is explicit.
    const { doc: rebuilt } = await store.compactRevocations(kv, { rebuild: true });
    assert.deepEqual(
      rebuilt.jti.map((i) => i.jti),
      ['OTHER'],
      what,
    );
  }
  // Not JSON at all: the same rule.
  const kv = new MemoryKv();
  await kv.put('revocations', '{"schema":1,"version":');
  await assert.rejects(store.compactRevocations(kv), store.UnreadableDocument);
});

test('a hand-written key set the core cannot read is never overwritten by a key publication', async () => {
  const jwk = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'hand' }));
  const entry = { status: 'active', created_at: NOW, jwk };
  const bad = {
    'a plain JWKS': { keys: [jwk] },
    'a single JWK': jwk,
    'a duplicate kid': { schema: 1, keys: [entry, entry] },
    'an extra field': { schema: 1, keys: [entry], extra: true },
    'version as a string': { schema: 1, version: '5', keys: [entry] },
  };
  for (const [what, doc] of Object.entries(bad)) {
    const kv = new MemoryKv();
    const text = JSON.stringify(doc);
    await kv.put('jwks:h', text);
    await assert.rejects(store.adoptJwks(kv, 'jwks:h'), store.UnreadableDocument, what);
    const k2 = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'new' }));
    await kv.put('key:jwks:h:new', '{}', { metadata: { status: 'active', created_at: NOW, jwk: k2 } });
    await assert.rejects(
      store.compactJwks(kv, 'jwks:h'),
      (e) => e instanceof store.UnreadableDocument && /keys publish/.test(e.message),
      what,
    );
    assert.equal(await kv.get('jwks:h'), text, what);
  }
  // A readable hand-written set is adopted by the compaction itself (keys generate publishes through it).
  const kv = new MemoryKv();
  await kv.put('jwks:h', JSON.stringify({ schema: 1, keys: [{ jwk }] }));
  const k2 = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'new' }));
  await kv.put('key:jwks:h:new', '{}', { metadata: { status: 'active', created_at: NOW + 1, jwk: k2 } });
  const { doc } = await store.compactJwks(kv, 'jwks:h');
  assert.deepEqual(doc.keys.map((k) => k.jwk.kid).sort(), ['hand', 'new']);
});

test('hand-written tenant grants are adopted as entries by the core before a compaction; a refused document is never overwritten', async () => {
  const kv = new MemoryKv();
  const hand = { schema: 1, issuers: { [ISS]: 'users:*' }, tenants: { acme: { music: ['users:read', 'billing:read'] } } };
  await kv.put('grants', JSON.stringify(hand));
  const adoptable = tg.lifecycle.adoptableGrants(JSON.stringify(hand), [
    { name: 'grant:x', entry: { tenant: 'acme', module: 'music', scope: 'users:read' } },
  ]);
  assert.deepEqual(adoptable, [{ tenant: 'acme', module: 'music', scope: 'billing:read' }]);
  // `grants grant --tenant beta …`: an entry, then the compaction.
  await kv.put(store.grantName('beta', 'video', 'users:read'), '{}', {
    metadata: { tenant: 'beta', module: 'video', scope: 'users:read' },
  });
  const { doc } = await store.compactGrants(kv);
  assert.deepEqual(doc.tenants, { acme: { music: ['billing:read', 'users:read'] }, beta: { video: ['users:read'] } });
  assert.deepEqual(doc.issuers, hand.issuers);
  assert.equal((await kv.list({ prefix: 'grant:' })).keys.length, 3);
  for (const bad of [
    { schema: 1, tenants: { acme: { music: ['bad scope'] } } },
    { schema: 1, tenants: {}, extra: 1 },
    { schema: 2, tenants: {} },
  ]) {
    const k = new MemoryKv();
    await k.put('grants', JSON.stringify(bad));
    await assert.rejects(
      store.compactGrants(k),
      (e) => e instanceof store.UnreadableDocument && /grants compact --rebuild/.test(e.message),
    );
    assert.equal(await k.get('grants'), JSON.stringify(bad));
  }
});

test('an API-key record is one record: value and metadata must agree, its hash its KV name', () => {
  const { record } = tg.apiKey.create({ name: 'n', owner: 'o', scopes: ['users:read'], now: NOW });
  const name = `apikey:${record.hash}`;
  assert.deepEqual(JSON.parse(tg.lifecycle.apiKeyRecord(name, JSON.stringify(record), record)), record);
  assert.equal(tg.lifecycle.apiKeyRecord(name, null, null), null);
  const revoked = tg.apiKey.revoke(record, { now: NOW });
  for (const [value, meta] of [
    [record, revoked],
    [revoked, record],
    [{ ...record, scopes: ['bad scope'] }, null],
  ])
    assert.throws(() => tg.lifecycle.apiKeyRecord(name, value, meta), { code: 'record_invalid' });
  assert.throws(() => tg.lifecycle.apiKeyRecord('apikey:00', record, record), { code: 'record_invalid', message: /KV key name/ });
});
