// The lifecycle CLI as an operator runs it: every command against real local KV (the persisted
// store wrangler dev uses), checked through a running local worker (workerd) reading that same
// store. Also: concurrent writers lose nothing, an interrupted write leaves readable data, a
// corrupt value is reported by `status` and makes the worker fail closed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from 'tokengate';
import { bundleWorker, startWorkerd } from '../runtime/workerd.mjs';
import { WranglerKv, openLocalKv } from '../../js/admin/kv.js';
import { ROOT, authorization as bearer, secondPast, startCli, waitFor } from '../runtime/helpers.mjs';

const ISS = 'https://id.example';
const TENANT_ISS = 'https://tenants.example';
const MAX_LIFETIME = 7200;
const dir = mkdtempSync(join(tmpdir(), 'tokengate-admin-'));
const config = {
  realm: 'admin-test',
  issuers: [
    { issuer: ISS, audience: 'api', jwks: 'jwks:main', maxLifetime: MAX_LIFETIME },
    {
      issuer: TENANT_ISS,
      audience: 'api',
      jwks: 'jwks:tenants',
      maxLifetime: MAX_LIFETIME,
      tenantGrants: { tenantClaim: 'tenant', moduleClaim: 'module' },
    },
  ],
  routes: [{ method: '*', path: '/api/users*', scope: 'users:read' }],
  cacheTtl: 1,
  kidCooldown: 1,
  maxRevocationAge: 3600,
};
// The CLI finds the configuration the way it does in a project: wrangler.toml's TOKENGATE_CONFIG.
writeFileSync(join(dir, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify(config)}\n'''\n`);

/** Starts the CLI in a project directory: `{ child, result }`, result resolving `{ code, out, err, json }`. */
// `group`: its own process group, so a kill takes its local KV runtime (workerd) along.
const start = (args, { env = {}, cwd = dir, group = false } = {}) =>
  startCli(args, { cwd, group, env: { TOKENGATE_ACTOR: 'test-operator', ...env } });
const cli = (args, opts) => start(args, opts).result;
async function ok(args, opts) {
  const r = await cli(args, opts);
  assert.equal(r.code, 0, `tokengate ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r;
}

// The running local worker, reading the same persisted KV.
const script = await bundleWorker('worker/index.js', 'admin-worker');
const workers = [];
after(() => Promise.all(workers.map((w) => w.dispose())));
async function worker() {
  // One workerd at a time on the store, as with one `wrangler dev`: a restart disposes the old one.
  await Promise.all(workers.splice(0).map((w) => w.dispose()));
  const mf = await startWorkerd(script, {
    kvNamespaces: { TOKENGATE: 'tokengate-local' },
    kvPersist: join(dir, '.wrangler/state/v3/kv'),
    bindings: { TOKENGATE_CONFIG: JSON.stringify(config) },
  });
  workers.push(mf);
  return (path, headers) => mf.dispatchFetch(`http://localhost${path}`, { headers });
}

/** Polls until the worker answers `status` (it applies KV changes within its cache TTL). */
async function eventually(fetch, path, headers, status, code) {
  let last;
  return waitFor(
    async () => {
      const r = await fetch(path, headers);
      last = { status: r.status, body: await r.json() };
      return last.status === status && (code === undefined || last.body.code === code) && last;
    },
    { timeout: 12_000, interval: 250, message: () => `expected ${status} ${code ?? ''}, last answer ${JSON.stringify(last)}` },
  );
}

// `extra` may name another --sub (an option is given once).
const mint = async (extra = []) =>
  (
    await ok([
      'mint',
      '--issuer',
      ISS,
      ...(extra.includes('--sub') ? [] : ['--sub', 'user-1']),
      '--scope',
      'users:read',
      '--json',
      ...extra,
    ])
  ).json;

let fetch;

test('keys: rotate publishes a new key and retires the oldest beyond the cap; private keys stay in 0600 files', async () => {
  for (let i = 0; i < 4; i++) await ok(['keys', 'rotate', '--issuer', ISS, '--max-active', '3']);
  const { json } = await ok(['keys', 'list', '--issuer', ISS, '--json']);
  assert.deepEqual(
    json.keys.map((k) => k.status),
    ['retired', 'active', 'active', 'active'],
  );
  assert.ok(json.keys.every((k) => k.published && k.privateKey && k.alg === 'ES256'));
  const keyDir = join(dir, '.tokengate/keys/id.example');
  const files = readdirSync(keyDir);
  assert.equal(files.length, 4);
  for (const f of files) assert.equal(statSync(join(keyDir, f)).mode & 0o777, 0o600);
  assert.equal(statSync(keyDir).mode & 0o777, 0o700);
  // KV holds public keys only.
  const kv = new WranglerKv({ target: 'local', persistTo: join(dir, '.wrangler/state'), cwd: ROOT });
  const doc = JSON.parse(await kv.get('jwks:main'));
  assert.equal(doc.keys.length, 4);
  assert.ok(doc.keys.every((k) => k.jwk.d === undefined));

  fetch = await worker();
  const { token, claims } = await mint();
  assert.equal(claims.iss, ISS);
  assert.equal(tg.inspect(token).header.kid, json.keys[3].kid, 'mint signs with the newest active key');
  await eventually(fetch, '/api/users', bearer(token), 200);

  // Retire, then cleanup once every token the key could have signed has expired.
  const retiredKid = json.keys[1].kid;
  await ok(['keys', 'retire', retiredKid, '--issuer', ISS]);
  const early = await ok(['keys', 'cleanup', '--issuer', ISS, '--json']);
  assert.deepEqual(early.json.removed, []);
  // The grace is the core's: maxLifetime + 2 × the default leeway (60 s).
  const later = new Date(Date.now() + (MAX_LIFETIME + 121) * 1000).toISOString();
  const cleaned = await ok(['keys', 'cleanup', '--issuer', ISS, '--now', later, '--json']);
  assert.deepEqual(cleaned.json.removed.sort(), [json.keys[0].kid, retiredKid].sort());
  assert.equal(readdirSync(keyDir).length, 2, 'private keys of removed keys are deleted');
  const after = await ok(['keys', 'list', '--issuer', ISS, '--json']);
  assert.deepEqual(
    after.json.keys.map((k) => k.status),
    ['active', 'active'],
  );
  // Tokens of the remaining keys still work.
  await eventually(fetch, '/api/users', bearer(token), 200);

  // A compromised key is removed at once: its tokens stop verifying.
  const leaked = (await ok(['keys', 'rotate', '--issuer', ISS, '--json'])).json.added.kid;
  const signed = await mint();
  assert.equal(tg.inspect(signed.token).header.kid, leaked);
  await eventually(fetch, '/api/users', bearer(signed.token), 200);
  await ok(['keys', 'remove', leaked, '--issuer', ISS]);
  await eventually(fetch, '/api/users', bearer(signed.token), 401, 'key_not_found');
  await eventually(fetch, '/api/users', bearer(token), 200);
});

test('mint caps the TTL at the issuer maximum with a warning; --one-per-user ends earlier tokens', async () => {
  const long = await cli(['mint', '--issuer', ISS, '--sub', 'user-2', '--ttl', '30d', '--json']);
  assert.equal(long.code, 0);
  assert.match(long.err, /warning: --ttl 30d is longer than the maximum token lifetime/);
  assert.equal(long.json.claims.exp - long.json.claims.iat, MAX_LIFETIME);
  const first = await mint(['--sub', 'user-3']);
  await eventually(fetch, '/api/users', bearer(first.token), 200);
  await secondPast(first.claims.iat); // the cut-off is per second: revokes iat strictly before it
  const second = await mint(['--sub', 'user-3', '--one-per-user']);
  await eventually(fetch, '/api/users', bearer(first.token), 401, 'token_revoked');
  await eventually(fetch, '/api/users', bearer(second.token), 200);
});

test('revoke by token, by jti and by subject takes effect in the running worker; prune drops expired entries', async () => {
  const a = await mint();
  const b = await mint();
  const c = await mint(['--sub', 'user-4']);
  for (const t of [a, b, c]) await eventually(fetch, '/api/users', bearer(t.token), 200);
  await ok(['revoke', '--token', a.token, '--reason', 'leaked in a log']);
  await ok(['revoke', '--jti', b.claims.jti, '--issuer', ISS]);
  await secondPast(c.claims.iat); // the cut-off revokes tokens issued strictly before its second
  await ok(['revoke', '--subject', 'user-4']);
  const cutOff = Math.floor(Date.now() / 1000); // the cut-off's second, or later
  await eventually(fetch, '/api/users', bearer(a.token), 401, 'token_revoked');
  await eventually(fetch, '/api/users', bearer(b.token), 401, 'token_revoked');
  await eventually(fetch, '/api/users', bearer(c.token), 401, 'token_revoked');
  // A later token of user-4 is not affected by the earlier cut-off.
  await secondPast(cutOff);
  await eventually(fetch, '/api/users', bearer((await mint(['--sub', 'user-4'])).token), 200);

  // An entry whose tokens have all expired is pruned.
  await ok(['revoke', '--subject', 'ancient', '--issuer', ISS, '--before', '2020-01-01T00:00:00Z']);
  const before = (await ok(['revocations', 'list', '--json'])).json.entries;
  assert.equal(before.filter((e) => e.expired).length, 1);
  const pruned = await ok(['revocations', 'prune', '--json']);
  assert.equal(pruned.json.pruned, 1);
  const left = (await ok(['revocations', 'list', '--json'])).json.entries;
  assert.equal(left.length, before.length - 1);
  assert.ok(left.some((e) => e.jti === a.claims.jti));
  // Bad input is a usage error, nothing written.
  const noIssuer = await cli(['revoke', '--jti', 'x']);
  assert.equal(noIssuer.code, 2, 'two issuers configured: --jti needs --issuer');
  assert.match(noIssuer.err, /give --issuer/);
  assert.equal((await cli(['revoke', '--token', 'not-a-jwt'])).code, 2);
  assert.equal((await cli(['revoke'])).code, 2);
});

test('apikey: create (shown once), rotate, revoke, purge, one per owner, list by state', async () => {
  const created = await ok([
    'apikey',
    'create',
    '--name',
    'ci',
    '--owner',
    'svc-ci',
    '--scopes',
    'users:read',
    '--expires',
    '30d',
    '--json',
  ]);
  const { raw, record } = created.json;
  assert.match(raw, /^tgk_/);
  await eventually(fetch, '/api/users', { 'X-API-Key': raw }, 200);

  const rotated = (await ok(['apikey', 'rotate', record.id, '--json'])).json;
  assert.equal(rotated.record.id, record.id);
  await eventually(fetch, '/api/users', { 'X-API-Key': raw }, 401, 'apikey_unknown');
  await eventually(fetch, '/api/users', { 'X-API-Key': rotated.raw }, 200);

  // One per owner: a new key revokes the owner's earlier ones.
  const next = (
    await ok(['apikey', 'create', '--name', 'ci-2', '--owner', 'svc-ci', '--scopes', 'users:read', '--one-per-owner', '--json'])
  ).json;
  assert.deepEqual(next.revoked, [record.id]);
  await eventually(fetch, '/api/users', { 'X-API-Key': rotated.raw }, 401, 'apikey_revoked');
  await eventually(fetch, '/api/users', { 'X-API-Key': next.raw }, 200);

  await ok(['apikey', 'revoke', next.record.id, '--purge']);
  await eventually(fetch, '/api/users', { 'X-API-Key': next.raw }, 401, 'apikey_purged');

  const other = (await ok(['apikey', 'create', '--name', 'short', '--owner', 'svc-x', '--expires', '1s', '--json'])).json;
  await secondPast(other.record.expires_at - 1); // expired from its expires_at second on
  const list = async (...a) => (await ok(['apikey', 'list', '--json', ...a])).json.keys.map((k) => k.id).sort();
  assert.deepEqual(await list('--state', 'revoked'), [record.id]);
  assert.deepEqual(await list('--state', 'purged'), [next.record.id]);
  assert.deepEqual(await list('--state', 'expired'), [other.record.id]);
  assert.deepEqual(await list('--owner', 'svc-ci'), [record.id, next.record.id].sort());
  const all = (await ok(['apikey', 'list', '--json'])).json.keys;
  assert.ok(
    all.every((k) => k.hash === undefined),
    'listing shows no hashes',
  );
  assert.equal((await cli(['apikey', 'rotate', record.id])).code, 2, 'a revoked key cannot be rotated');
  assert.equal((await cli(['apikey', 'create', '--name', 'x'])).code, 2);
});

test('grants: a tenant module gets exactly the granted scopes in the worker', async () => {
  await ok(['keys', 'generate', '--issuer', TENANT_ISS, '--alg', 'EdDSA']);
  const minted = await ok([
    'mint',
    '--issuer',
    TENANT_ISS,
    '--sub',
    'm-1',
    '--scope',
    'users:read billing:read',
    '--claim',
    'tenant=acme',
    '--claim',
    'module=music',
    '--json',
  ]);
  const scoped = minted.json.token;
  assert.deepEqual([minted.json.claims.tenant, minted.json.claims.module], ['acme', 'music']);
  // Nothing granted to acme/music yet: no scope survives.
  await eventually(fetch, '/api/users', bearer(scoped), 403, 'insufficient_scope');
  await ok(['grants', 'grant', '--tenant', 'acme', '--module', 'music', '--scope', 'users:read']);
  const granted = await eventually(fetch, '/api/users', bearer(scoped), 200);
  assert.equal(granted.body.identity['x-auth-scopes'], 'users:read', 'narrowed to the grant');
  const listed = (await ok(['grants', 'list', '--tenant', 'acme', '--json'])).json.grants;
  assert.deepEqual(
    listed.map((g) => [g.module, g.scope, g.granted_by]),
    [['music', 'users:read', 'test-operator']],
  );
  await ok(['grants', 'revoke', '--tenant', 'acme', '--module', 'music', '--scope', 'users:read']);
  await eventually(fetch, '/api/users', bearer(scoped), 403, 'insufficient_scope');
  assert.equal((await cli(['grants', 'grant', '--tenant', 'acme', '--module', 'music', '--scope', 'bad scope!'])).code, 2);
  // Unverified claims naming Object.prototype members pick no grant: the token is then judged
  // like any other (here: an unknown key, 401), never a server error.
  const stranger = tg.generateKey('ES256');
  const now = Math.floor(Date.now() / 1000);
  const proto = tg.mint(stranger, {
    iss: TENANT_ISS,
    aud: 'api',
    sub: 'x',
    iat: now,
    exp: now + 60,
    tenant: '__proto__',
    module: 'toString',
  });
  await eventually(fetch, '/api/users', bearer(proto), 401, 'key_not_found');
  assert.equal((await cli(['mint', '--issuer', TENANT_ISS, '--sub', 'm-1', '--claim', 'iss=evil'])).code, 2);
});

test('status is OK on consistent data; the audit log names who did what', async () => {
  const s = await cli(['status', '--json']);
  assert.equal(s.code, 0, s.out);
  assert.equal(s.json.ok, true);
  assert.equal(s.json.issuers[0].keys.active, 2, JSON.stringify(s.json.issuers[0]));
  assert.equal(s.json.issuers[1].keys.active, 1);
  assert.ok(s.json.revocations.size >= 4);
  assert.equal(s.json.apikeys.revoked, 1);
  const text = await cli(['health']);
  assert.match(text.out, /status at .*: OK/);
  const audit = (await ok(['audit', 'list', '--since', '1h', '--json'])).json.records;
  const actions = new Set(audit.map((r) => r.action));
  for (const a of [
    'keys.rotate',
    'keys.retire',
    'keys.cleanup',
    'mint',
    'revoke',
    'revocations.prune',
    'apikey.create',
    'apikey.rotate',
    'apikey.purge',
    'grants.grant',
    'grants.revoke',
  ])
    assert.ok(actions.has(a), `audit has ${a}`);
  assert.ok(audit.every((r) => r.actor === 'test-operator'));
  await ok(['revoke', '--jti', 'by-alice', '--issuer', ISS, '--actor', 'alice']);
  const last = (await ok(['audit', 'list', '--json'])).json.records.at(-1);
  assert.deepEqual([last.actor, last.action], ['alice', 'revoke']);
  assert.equal((await ok(['audit', 'list', '--since', '2999-01-01T00:00:00Z', '--json'])).json.records.length, 0);
});

test('nothing lost: concurrent revoke and apikey create processes all land', async () => {
  const jtis = Array.from({ length: 8 }, (_, i) => `race-${i}`);
  const results = await Promise.all([
    ...jtis.map((jti) => cli(['revoke', '--jti', jti, '--issuer', ISS])),
    ...jtis.map((_, i) => cli(['apikey', 'create', '--name', `race-${i}`, '--owner', 'racer', '--json'])),
  ]);
  for (const r of results) assert.equal(r.code, 0, r.err);
  const list = new tg.RevocationList(await readKv('revocations'));
  const revoked = list.toJSON().jti.map((e) => e.jti);
  for (const jti of jtis) assert.ok(revoked.includes(jti), `${jti} is in the list the worker reads`);
  const keys = (await ok(['apikey', 'list', '--owner', 'racer', '--json'])).json.keys;
  assert.equal(keys.length, 8);
  // Every raw key printed works in the worker.
  for (const r of results.slice(8)) await eventually(fetch, '/api/users', { 'X-API-Key': r.json.raw }, 403, 'insufficient_scope');
  assert.equal((await cli(['status'])).code, 0);
});

async function readKv(key) {
  const kv = new WranglerKv({ target: 'local', persistTo: join(dir, '.wrangler/state'), cwd: ROOT });
  return kv.get(key);
}

test('an interrupted write leaves data the worker reads; the next write or compact folds it in', async () => {
  const victim = await mint();
  await eventually(fetch, '/api/users', bearer(victim.token), 200);
  const crashed = await cli(['revoke', '--token', victim.token], { env: { TOKENGATE_CRASH_AT: 'before-compact' } });
  assert.equal(crashed.code, 137);
  // The entry is stored, the stored list is the previous one (status reports it); the worker
  // merges the entry it lists into that list, so the revocation already applies.
  const s = await cli(['status', '--json']);
  assert.equal(s.code, 1);
  assert.ok(s.json.problems.some((p) => /not all in the stored list yet/.test(p)));
  await eventually(fetch, '/api/users', bearer(victim.token), 401, 'token_revoked');
  await ok(['revocations', 'compact']);
  await eventually(fetch, '/api/users', bearer(victim.token), 401, 'token_revoked');
  assert.equal((await cli(['status'])).code, 0);

  // A rotation interrupted after the key entry: the next keys command publishes it.
  const r = await cli(['keys', 'rotate', '--issuer', ISS], { env: { TOKENGATE_CRASH_AT: 'before-compact' } });
  assert.equal(r.code, 137);
  assert.equal((await cli(['status'])).code, 1);
  const listed = (await ok(['keys', 'list', '--issuer', ISS, '--json'])).json.keys;
  assert.ok(listed.some((k) => !k.published));
  // mint publishes its key before signing with it.
  const fresh = await mint();
  await eventually(fetch, '/api/users', bearer(fresh.token), 200);
  assert.equal((await cli(['status'])).code, 0);
});

test('a corrupt KV value: status names it, the worker fails closed, writes refuse it, compact --rebuild discards it', async () => {
  const t = await mint();
  await eventually(fetch, '/api/users', bearer(t.token), 200);
  const kv = new WranglerKv({ target: 'local', persistTo: join(dir, '.wrangler/state'), cwd: ROOT });
  await kv.put('revocations', '{"schema":1,"version":');
  const s = await cli(['status']);
  assert.equal(s.code, 1);
  assert.match(s.out, /PROBLEM: KV key "revocations" is refused by the core \(revocation_invalid/);
  // A restarted worker (a new isolate) has no last good copy: 503, never an accept.
  const fresh = await worker();
  const r = await fresh('/api/users', bearer(t.token));
  assert.equal(r.status, 503);
  assert.equal((await r.json()).error, 'temporarily_unavailable');
  // No write replaces a document the core cannot read: it says what is wrong and how to fix it.
  for (const args of [
    ['revocations', 'compact'],
    ['revoke', '--jti', 'x', '--issuer', ISS],
  ]) {
    const refused = await cli(args);
    assert.equal(refused.code, 1, args.join(' '));
    assert.match(refused.err, /KV key "revocations" cannot be read by the core.*revocations compact --rebuild/s);
  }
  assert.equal(await kv.get('revocations'), '{"schema":1,"version":');
  // Discarding it is explicit, and audited with the text it discarded.
  await ok(['revocations', 'compact', '--rebuild']);
  await eventually(fresh, '/api/users', bearer(t.token), 200);
  const audit = (await ok(['audit', 'list', '--json'])).json.records;
  assert.ok(audit.some((a) => a.action === 'revocations.rebuild'));

  // A corrupt entry is named, and no snapshot is built from it.
  await kv.put('revocation:zzzz-bad', '{}', { metadata: { kind: 'jti', iss: ISS } });
  const s2 = await cli(['status']);
  assert.equal(s2.code, 1);
  assert.match(s2.out, /revocation entry "revocation:zzzz-bad" is invalid/);
  const c = await cli(['revocations', 'compact']);
  assert.equal(c.code, 1);
  assert.match(c.err, /revocation:zzzz-bad/);
  await kv.delete('revocation:zzzz-bad');
  await ok(['revocations', 'compact']);
});

test('the wrangler KV adapter (used for --remote) round-trips through wrangler kv commands', async () => {
  const kv = new WranglerKv({ target: 'local', persistTo: join(dir, 'wrangler-state'), cwd: ROOT });
  assert.equal(await kv.get('missing'), null);
  await kv.put('a:1', '{"x":1}', { metadata: { m: 1 } });
  assert.equal(await kv.get('a:1'), '{"x":1}');
  assert.deepEqual((await kv.list({ prefix: 'a:' })).keys, [{ name: 'a:1', metadata: { m: 1 } }]);
  await kv.delete('a:1');
  assert.equal(await kv.get('a:1'), null);
});

// Tests below run in a project of their own (store, configuration, worker), so each can run alone
// (`--test-name-pattern`).
const own = [];
after(() => Promise.all(own.map((w) => w.dispose())));
async function project(overrides = {}) {
  const root = mkdtempSync(join(tmpdir(), 'tokengate-admin-own-'));
  const cfg = { ...config, issuers: [config.issuers[0]], ...overrides };
  writeFileSync(join(root, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify(cfg)}\n'''\n`);
  const mf = await startWorkerd(script, {
    kvNamespaces: { TOKENGATE: 'tokengate-local' },
    kvPersist: join(root, '.wrangler/state/v3/kv'),
    bindings: { TOKENGATE_CONFIG: JSON.stringify(cfg) },
  });
  own.push(mf);
  const run = (args, opts = {}) => start(args, { ...opts, cwd: root });
  const p = {
    root,
    config: cfg,
    start: run,
    cli: (args, opts) => run(args, opts).result,
    async ok(args, opts) {
      const r = await run(args, opts).result;
      assert.equal(r.code, 0, `tokengate ${args.join(' ')}\n${r.out}\n${r.err}`);
      return r;
    },
    fetch: (path, headers) => mf.dispatchFetch(`http://localhost${path}`, { headers }),
    /** Opens the project's KV the way the CLI does; `fn(kv)`. */
    async kv(fn) {
      const kv = await openLocalKv({ persistTo: join(root, '.wrangler/state') });
      try {
        return await fn(kv);
      } finally {
        await kv.close();
      }
    },
    /** Starts a command that holds at each of `steps` until released (see Admin.checkpoint). */
    held: (args, steps) => run(args, { env: { TOKENGATE_PAUSE_AT: steps.join(','), TOKENGATE_PAUSE_DIR: root }, group: true }),
    /** Kills a held command (and its local KV runtime) as a crash would. */
    async kill(proc) {
      process.kill(-proc.child.pid, 'SIGKILL');
      assert.equal((await proc.result).signal, 'SIGKILL');
    },
    /** Resolves once the CLI process `proc` is held at `step` (fails if it ends first). */
    async paused(proc, step) {
      let ended = null;
      proc.result.then((r) => (ended = r));
      await waitFor(
        () => {
          if (existsSync(join(root, `paused-${step}`))) return true;
          if (ended) assert.fail(`the command ended (${ended.code}) before pausing at ${step}: ${ended.err}`);
          return false;
        },
        { timeout: 120_000, interval: 10, message: `the command did not pause at ${step}` },
      );
    },
    release: (step) => writeFileSync(join(root, `release-${step}`), ''),
    /** The worker answers `status`/`code` within its cache TTL (plus a margin for the requests). */
    async within(path, headers, status, code) {
      let last;
      return waitFor(
        async () => {
          const r = await p.fetch(path, headers);
          last = { status: r.status, body: await r.json() };
          return last.status === status && (code === undefined || last.body.code === code) && last;
        },
        {
          timeout: cfg.cacheTtl * 1000 + 1500,
          message: () => `expected ${status} ${code ?? ''} within ${cfg.cacheTtl} s, last answer ${JSON.stringify(last)}`,
        },
      );
    },
  };
  return p;
}

test('race: a compaction that listed before a revoke and wrote after it cannot un-revoke (writer killed after its put)', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const victim = (await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--json'])).json;
  await p.within('/api/users', bearer(victim.token), 200);
  // Writer A (another revoke) lists the entries, then is held there.
  const a = p.held(['revoke', '--jti', 'other', '--issuer', ISS], ['after-list', 'after-put']);
  await p.paused(a, 'after-list');
  // Meanwhile the revoke of the victim runs to completion and reports success.
  const revoked = await p.ok(['revoke', '--jti', victim.claims.jti, '--issuer', ISS, '--json']);
  assert.equal(revoked.json.revoked[0].jti, victim.claims.jti);
  // A writes the list it built from its older listing, and is killed right after.
  p.release('after-list');
  await p.paused(a, 'after-put');
  await p.kill(a);
  const stored = JSON.parse(await p.kv((kv) => kv.get('revocations')));
  assert.ok(!stored.jti.some((e) => e.jti === victim.claims.jti), 'the interleaving happened: the stored list misses the revoke');
  await p.within('/api/users', bearer(victim.token), 401, 'token_revoked');
});

test('race: a key publication that listed before `keys remove` and wrote after it cannot re-publish the key', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const leaked = (await p.ok(['keys', 'rotate', '--issuer', ISS, '--json'])).json.added.kid;
  const signed = (await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--json'])).json;
  assert.equal(tg.inspect(signed.token).header.kid, leaked);
  await p.within('/api/users', bearer(signed.token), 200);
  // Writer A (a rotation) lists the key entries, the leaked key among them, then is held there.
  const a = p.held(['keys', 'rotate', '--issuer', ISS], ['after-list', 'after-put']);
  await p.paused(a, 'after-list');
  await p.ok(['keys', 'remove', leaked, '--issuer', ISS]);
  p.release('after-list');
  await p.paused(a, 'after-put');
  await p.kill(a);
  const stored = JSON.parse(await p.kv((kv) => kv.get('jwks:main')));
  assert.ok(
    stored.keys.some((k) => k.jwk.kid === leaked),
    'the interleaving happened: the stored key set has the removed key again',
  );
  await p.within('/api/users', bearer(signed.token), 401, 'key_not_found');
});

/** A token of ISS signed with the project's newest private key (for claims `mint` never sets). */
function signed(p, claims) {
  const keyDir = join(p.root, '.tokengate/keys/id.example');
  const newest = readdirSync(keyDir)
    .map((f) => JSON.parse(readFileSync(join(keyDir, f), 'utf8')))
    .at(-1);
  const now = Math.floor(Date.now() / 1000);
  return tg.mint(newest, { iss: ISS, aud: 'api', sub: 'user-1', scope: 'users:read', iat: now, exp: now + 600, jti: 'j', ...claims });
}

test('revocations compact and prune rewrite an up-to-date but old list, so its age starts over', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const t = (await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--json'])).json.token;
  for (const command of ['compact', 'prune']) {
    // The list covers every entry, but nothing rewrote it for longer than maxRevocationAge.
    await p.kv(async (kv) => {
      const doc = JSON.parse(await kv.get('revocations'));
      await kv.put('revocations', JSON.stringify({ ...doc, generated_at: doc.generated_at - 2 * config.maxRevocationAge }));
    });
    await p.within('/api/users', bearer(t), 503, 'revocation_data_stale');
    const r = await p.ok(['revocations', command, '--json']);
    assert.ok(Math.abs(r.json.version) > 0);
    await p.within('/api/users', bearer(t), 200);
  }
});

test('a hand edit to a compacted revocations document survives the next compaction', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const t = (await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--json'])).json;
  await p.ok(['revoke', '--jti', 'first', '--issuer', ISS]);
  // An operator adds an item with `wrangler kv key put`, keeping the rest of the document.
  const until = Math.floor(Date.now() / 1000) + 3600;
  await p.kv(async (kv) => {
    const doc = JSON.parse(await kv.get('revocations'));
    doc.jti.push({ iss: ISS, jti: t.claims.jti, until });
    await kv.put('revocations', JSON.stringify(doc));
  });
  await p.within('/api/users', bearer(t.token), 401, 'token_revoked');
  // Any later write compacts the list from the entries: the hand-added item is adopted first.
  await p.ok(['revoke', '--jti', 'second', '--issuer', ISS]);
  const entries = (await p.ok(['revocations', 'list', '--json'])).json.entries;
  assert.deepEqual(entries.map((e) => e.jti).sort(), [t.claims.jti, 'first', 'second'].sort());
  await p.within('/api/users', bearer(t.token), 401, 'token_revoked');
  assert.equal((await p.cli(['status'])).code, 0);
});

test('versions never go backwards: a snapshot rebuilt after corruption gets a higher version', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  let last = 0;
  for (const jti of ['a', 'b', 'c']) {
    const v = (await p.ok(['revoke', '--jti', jti, '--issuer', ISS, '--json'])).json.version;
    assert.ok(v > last, `${v} after ${last}`);
    last = v;
  }
  const keysBefore = JSON.parse(await p.kv((kv) => kv.get('jwks:main'))).version;
  await p.kv(async (kv) => {
    await kv.put('revocations', '{"schema":1,"version":');
    await kv.put('jwks:main', '{broken');
  });
  const rebuilt = (await p.ok(['revocations', 'compact', '--rebuild', '--json'])).json.version;
  assert.ok(rebuilt > last, `rebuilt version ${rebuilt} is above ${last}`);
  // A key set the core cannot read stops `keys rotate` (nothing stored) until it is discarded on purpose.
  const refused = await p.cli(['keys', 'rotate', '--issuer', ISS]);
  assert.equal(refused.code, 1);
  assert.match(refused.err, /keys publish --issuer ISS --rebuild/);
  await p.ok(['keys', 'publish', '--issuer', ISS, '--rebuild']);
  const keysAfter = (await p.ok(['keys', 'rotate', '--issuer', ISS, '--json'])).json.version;
  assert.ok(keysAfter > keysBefore, `rebuilt key set version ${keysAfter} is above ${keysBefore}`);
});

test('revoke --token takes a fractional exp (as the worker does); a ~1,000-character jti is revoked by jti', async () => {
  const p = await project();
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const now = Math.floor(Date.now() / 1000);
  const fractional = signed(p, { jti: 'fractional', exp: now + 600.5 });
  await p.within('/api/users', bearer(fractional), 200);
  const r = await p.ok(['revoke', '--token', fractional, '--json']);
  assert.equal(r.json.revoked[0].until, now + 601 + 60, 'ceil(exp) + the default leeway');
  await p.within('/api/users', bearer(fractional), 401, 'token_revoked');

  const long = 'j'.repeat(1000);
  const t = signed(p, { jti: long });
  await p.within('/api/users', bearer(t), 200);
  const byJti = await p.ok(['revoke', '--jti', long, '--issuer', ISS, '--json']);
  assert.equal(byJti.json.revoked[0].jti, long);
  await p.within('/api/users', bearer(t), 401, 'token_revoked');
  const listed = (await p.ok(['revocations', 'list', '--json'])).json.entries;
  assert.ok(listed.some((e) => e.jti === long));
  // It survives compaction and pruning, and status reads it back.
  await p.ok(['revocations', 'prune']);
  await p.within('/api/users', bearer(t), 401, 'token_revoked');
  const s = await p.cli(['status', '--json']);
  assert.equal(s.code, 0, s.out);
});

test('apikey create: a name over KV metadata size in bytes is refused before anything is written', async () => {
  const p = await project();
  // 400 characters, 800 bytes: the record would exceed KV's 1024-byte metadata.
  const r = await p.cli(['apikey', 'create', '--name', 'é'.repeat(400), '--owner', 'svc']);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /bytes/);
  const audit = (await p.ok(['audit', 'list', '--json'])).json.records;
  assert.deepEqual(
    audit.map((a) => a.action),
    [],
    'no audit record of an attempt that was refused as input',
  );
  assert.deepEqual((await p.ok(['apikey', 'list', '--json'])).json.keys, []);
  // A name that fits still works.
  await p.ok(['apikey', 'create', '--name', 'é'.repeat(100), '--owner', 'svc']);
});

test('until comes from the core: without leeway, revoke --token lasts until exp + 60, so a prune at exp+30 keeps it', async () => {
  const p = await project(); // the issuer sets no leeway: the core's default (60 s) applies
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  // Minted 150 s ago with a 2-minute TTL: expired 30 s ago, still inside the core's leeway.
  const at = Math.floor(Date.now() / 1000) - 150;
  const t = (
    await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--ttl', '2m', '--now', String(at), '--json'])
  ).json;
  assert.equal(t.claims.exp, at + 120);
  await p.within('/api/users', bearer(t.token), 200);
  const r = await p.ok(['revoke', '--token', t.token, '--json']);
  assert.equal(r.json.revoked[0].until, t.claims.exp + 60);
  await p.ok(['revocations', 'prune']);
  assert.ok(Math.floor(Date.now() / 1000) < t.claims.exp + 60, 'the prune ran while the core still accepts the token by time');
  await p.within('/api/users', bearer(t.token), 401, 'token_revoked');
  // The same for a jti, a subject and a retired key's grace: maxLifetime (7200) + the core's leeway.
  const now = Math.floor(Date.now() / 1000);
  const j = (await p.ok(['revoke', '--jti', 'x', '--issuer', ISS, '--now', String(now), '--json'])).json.revoked[0];
  assert.equal(j.until, now + MAX_LIFETIME + 120);
  const s = (await p.ok(['revoke', '--subject', 'u', '--issuer', ISS, '--before', String(now), '--json'])).json.revoked[0];
  assert.equal(s.until, now + MAX_LIFETIME + 60);
  const kid = (await p.ok(['keys', 'list', '--issuer', ISS, '--json'])).json.keys[0].kid;
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  await p.ok(['keys', 'retire', kid, '--issuer', ISS, '--now', String(now)]);
  const k = (await p.ok(['keys', 'list', '--issuer', ISS, '--now', String(now), '--json'])).json.keys.find((x) => x.kid === kid);
  assert.equal(k.removableAt, now + MAX_LIFETIME + 120);
});

test('hand-written documents with a slip: status names each as the worker reads it; writes refuse to drop them; grants are adopted', async () => {
  const p = await project({ issuers: [config.issuers[0], { issuer: 'https://h.example', audience: 'api', jwks: 'jwks:h' }] });
  await p.ok(['keys', 'rotate', '--issuer', ISS]);
  const t = (await p.ok(['mint', '--issuer', ISS, '--sub', 'user-1', '--scope', 'users:read', '--json'])).json;
  await p.within('/api/users', bearer(t.token), 200);
  const put = (key, value) => p.kv((kv) => kv.put(key, typeof value === 'string' ? value : JSON.stringify(value)));
  const until = Math.floor(Date.now() / 1000) + 3600;
  const jwk = tg.publicJwk(tg.generateKey('EdDSA', { kid: 'h1' }));
  const entry = { status: 'active', created_at: 1, jwk };
  await put('jwks:h', { schema: 1, keys: [{ ...entry, created_at: until - 3600 }] });
  const s0 = await p.cli(['status']);
  assert.equal(s0.code, 0, s0.out);

  // F1: a hand-written revocations list (no source) with one slip revoking J1 = this token.
  await put('revocations', {
    schema: 1,
    version: 9,
    generated_at: until - 3600,
    jti: [{ iss: ISS, jti: t.claims.jti, until: String(until) }],
  });
  // (A new isolate answers 503 for it; this one keeps its last good copy meanwhile.)
  const r = await p.cli(['revoke', '--jti', 'OTHER', '--issuer', ISS]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.err, /revocation_invalid.*repair it by hand.*revocations compact --rebuild/s);
  assert.match(await p.kv((kv) => kv.get('revocations')), new RegExp(t.claims.jti));
  // Repaired by hand: J1 is revoked, and the next revoke keeps it.
  await put('revocations', { schema: 1, version: 9, generated_at: until - 3600, jti: [{ iss: ISS, jti: t.claims.jti, until }] });
  await p.ok(['revoke', '--jti', 'OTHER', '--issuer', ISS]);
  await p.within('/api/users', bearer(t.token), 401, 'token_revoked');

  // F3/F5/F6: key sets the worker refuses or partly skips.
  for (const [what, doc, pattern] of [
    ['a private d', { schema: 1, keys: [{ ...entry, jwk: { ...jwk, d: jwk.x } }] }, /jwks:h" is refused by the core/],
    ['an extra field', { schema: 1, keys: [entry], extra: 1 }, /jwks:h" is refused by the core/],
    ['version "5"', { schema: 1, version: '5', keys: [entry] }, /jwks:h" is refused by the core/],
    ['status revoked', { schema: 1, keys: [{ ...entry, status: 'revoked' }] }, /jwks:h" is refused by the core/],
    [
      'one bad key of two',
      { schema: 1, keys: [entry, { ...entry, jwk: { ...jwk, kid: 'h2', x: 'AAAA' } }] },
      /key h2 is skipped by the worker/,
    ],
  ]) {
    await put('jwks:h', doc);
    const s = await p.cli(['status']);
    assert.equal(s.code, 1, `${what}: ${s.out}`);
    assert.match(s.out, pattern, what);
  }
  const listed = await p.cli(['keys', 'list', '--issuer', 'https://h.example', '--json']);
  assert.equal(listed.code, 1);
  assert.deepEqual(
    listed.json.keys.map((k) => [k.kid, k.skipped !== null]),
    [
      ['h1', false],
      ['h2', true],
    ],
  );
  await put('jwks:h', { keys: [jwk] }); // a plain JWKS: the core refuses it
  const g = await p.cli(['keys', 'generate', '--issuer', 'https://h.example']);
  assert.equal(g.code, 1, g.out);
  assert.match(g.err, /jwks:h" cannot be read by the core/);
  assert.equal(await p.kv((kv) => kv.get('jwks:h')), JSON.stringify({ keys: [jwk] }));
  // Back to a set the worker reads whole (and no adopted entries due for rotation).
  await p.kv(async (kv) => {
    for (const k of (await kv.list({ prefix: 'key:jwks:h:' })).keys) await kv.delete(k.name);
  });
  await put('jwks:h', { schema: 1, keys: [{ ...entry, created_at: Math.floor(Date.now() / 1000) }] });
  assert.equal((await p.cli(['status'])).code, 0);

  // F7: hand-written tenant grants are adopted, not dropped by the next grant.
  await put('grants', { schema: 1, issuers: { [ISS]: 'users:*' }, tenants: { acme: { music: ['users:read'] } } });
  await p.ok(['grants', 'grant', '--tenant', 'beta', '--module', 'video', '--scope', 'users:read']);
  const grants = JSON.parse(await p.kv((kv) => kv.get('grants')));
  assert.deepEqual(grants.tenants, { acme: { music: ['users:read'] }, beta: { video: ['users:read'] } });
  assert.deepEqual(grants.issuers, { [ISS]: 'users:*' });
  assert.equal((await p.ok(['grants', 'list', '--json'])).json.grants.length, 2);
  // A grants document with a bad scope: status names it, grants commands refuse it.
  await put('grants', { schema: 1, tenants: { acme: { music: ['bad scope'] } } });
  const sg = await p.cli(['status']);
  assert.equal(sg.code, 1);
  assert.match(sg.out, /KV key "grants" is refused by the core/);
  assert.equal((await p.cli(['grants', 'grant', '--tenant', 'c', '--module', 'm', '--scope', 'users:read'])).code, 1);
  await p.ok(['grants', 'compact', '--rebuild']);

  // F3/F8: API-key records the core refuses: a bad scope, a hash not its name's, value ≠ metadata.
  const created = (await p.ok(['apikey', 'create', '--name', 'n', '--owner', 'o', '--scopes', 'users:read', '--json'])).json;
  const name = `apikey:${created.record.hash}`;
  const ak = { 'X-API-Key': created.raw };
  assert.equal((await p.cli(['status'])).code, 0);
  const revoked = tg.apiKey.revoke(created.record, { now: Math.floor(Date.now() / 1000) });
  for (const [what, value, metadata] of [
    ['value active, metadata revoked', created.record, revoked],
    ['value revoked, metadata active', revoked, created.record],
    ['a bad scope', { ...created.record, scopes: ['bad scope'] }, { ...created.record, scopes: ['bad scope'] }],
  ]) {
    await p.kv((kv) => kv.put(name, JSON.stringify(value), { metadata }));
    const s = await p.cli(['status']);
    assert.equal(s.code, 1, what);
    assert.match(s.out, new RegExp(`API key entry "${name}" is refused by the core`), what);
    assert.equal((await p.cli(['apikey', 'list'])).code, 1, what);
  }
  await p.kv((kv) => kv.put(name, JSON.stringify(created.record), { metadata: revoked }));
  const answer = await p.fetch('/api/users', ak);
  assert.equal(answer.status, 503, 'value and metadata disagree: neither is trusted');
  // `apikey revoke` rewrites it as one record.
  await p.ok(['apikey', 'revoke', created.record.id]);
  assert.equal((await p.cli(['status'])).code, 0);
});
