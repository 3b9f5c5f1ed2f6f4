// The lifecycle CLI's fast local KV path (js/admin/workerd.js: workerd started directly with
// Miniflare's own KV storage worker) against Miniflare itself, on one persisted store: every get
// and every list page (prefixes, cursors, metadata, expirations) must be exactly what Miniflare
// answers, after writes through either path, while both are open (one process writing, the
// other reading, as the CLI next to `wrangler dev`), and after entries expire. Then the CLI's
// read commands print the same through both paths, and the direct path leaves no workerd behind.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Miniflare, NoOpLog, _enableControlEndpoints } from 'miniflare';
import { openLocalKv } from '../../js/admin/kv.js';
import { VERIFIED_MINIFLARE, directSupport } from '../../js/admin/workerd.js';

const BIN = new URL('../../bin/tokengate.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'tokengate-localkv-'));
after(() => rmSync(root, { recursive: true, force: true }));
const persistTo = join(root, '.wrangler/state');
const kvDir = join(persistTo, 'v3/kv');

/** Every key any step wrote, plus keys never written: each is read back through both paths. */
const probed = new Set(['missing', 'key:', '', 'a']);

/** Every page of a listing, as the caller sees them (cursors included). */
async function pages(kv, opts) {
  const out = [];
  let cursor;
  do {
    const page = await kv.list(cursor === undefined ? opts : { ...opts, cursor });
    out.push(page);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor !== undefined);
  return out;
}

/** What a reader sees: each probed key's value, and the listings the CLI and the worker make. */
async function view(kv) {
  const gets = {};
  for (const k of [...probed].filter((k) => k !== '').sort()) gets[k] = await kv.get(k);
  const lists = {};
  for (const prefix of [undefined, 'a', 'key:', 'key:jwks:main:', 'revocation:', 'bulk:', 'ü', 'none:'])
    lists[String(prefix)] = await pages(kv, prefix === undefined ? {} : { prefix });
  lists['limit 7'] = await pages(kv, { limit: 7 });
  lists['bulk: limit 333'] = await pages(kv, { prefix: 'bulk:', limit: 333 });
  return { gets, lists };
}

const put = async (kv, key, value, options) => {
  probed.add(key);
  await kv.put(key, value, options);
};

async function bothSee(label) {
  // The direct path first: a reader deletes the expired rows it meets (Miniflare's storage code
  // does so on get and list), and the answers must not depend on who read first.
  const direct = await openLocalKv({ persistTo, via: 'direct' });
  assert.equal(direct.via, 'direct');
  const fast = await view(direct);
  await direct.close();
  const mf = await openLocalKv({ persistTo, via: 'miniflare' });
  assert.equal(mf.via, 'miniflare');
  const slow = await view(mf);
  await mf.close();
  assert.deepEqual(fast, slow, `${label}: the direct path reads what Miniflare reads`);
  return fast;
}

const JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'k1',
};

test('the installed Miniflare is one the direct path mirrors, and the CLI uses it by default', async () => {
  const { version } = JSON.parse(readFileSync(new URL('../../node_modules/miniflare/package.json', import.meta.url), 'utf8'));
  assert.ok(
    VERIFIED_MINIFLARE.includes(version),
    `miniflare ${version}: check js/admin/workerd.js against its KV plugin, then add the version to VERIFIED_MINIFLARE`,
  );
  assert.ok(directSupport({ kvDir, namespaceId: 'tokengate-local' }).workerd);
  const kv = await openLocalKv({ persistTo });
  assert.equal(kv.via, 'direct');
  await kv.close();
  process.env.TOKENGATE_LOCAL_KV = 'miniflare';
  try {
    const mf = await openLocalKv({ persistTo });
    assert.equal(mf.via, 'miniflare');
    await mf.close();
  } finally {
    delete process.env.TOKENGATE_LOCAL_KV;
  }
  // Names Miniflare would rewrite, and a store in the layout Miniflare migrates, go through Miniflare.
  assert.match(directSupport({ kvDir, namespaceId: 'a/b' }).reason, /plain name/);
  assert.match(directSupport({ kvDir, namespaceId: 'con' }).reason, /plain name/);
});

test('the same answers as Miniflare after writes through Miniflare', async () => {
  const mf = await openLocalKv({ persistTo, via: 'miniflare' });
  await put(mf, 'config', JSON.stringify({ issuers: [] }));
  await put(mf, 'revocations', JSON.stringify({ schema: 1, version: 3, items: [] }));
  const key = { status: 'active', created_at: 1790000000, jwk: JWK };
  await put(mf, 'key:jwks:main:k1', JSON.stringify(key), { metadata: key });
  await put(mf, 'key:jwks:main:k2', '{}', {
    metadata: { status: 'retired', created_at: 1.5, retired_at: 2 ** 53, nested: [[], {}, [null, true]] },
  });
  await put(mf, 'revocation:0000000001-aa', '{"kind":"jti"}', { metadata: { stored: 'value' } });
  await put(mf, 'revocation:0000000002-bb', 'x'.repeat(30_000), { metadata: 'a string' });
  await put(mf, 'meta:null', 'v', { metadata: null });
  await put(mf, 'meta:number', 'v', { metadata: 0 });
  await put(mf, 'empty', '');
  // Text as KV stores it: UTF-8, a leading BOM, astral characters, a lone surrogate.
  await put(mf, 'unicode', '\ufeff{"name":"zoë 😀"}');
  await put(mf, 'lone', 'a\ud800b');
  // Key order is the store's (UTF-8 bytes), not JavaScript's (UTF-16 units).
  for (const k of ['a', 'a\uffff', 'a😀', 'a\u0000b', 'ü', 'üb', 'A', 'a b']) await put(mf, k, k, { metadata: { k } });
  // Overwritten (the metadata goes away with the second put), deleted, expiring later.
  await put(mf, 'over', '1', { metadata: { v: 1 } });
  await put(mf, 'over', '2');
  await put(mf, 'gone', '1', { metadata: { v: 1 } });
  await mf.delete('gone');
  await put(mf, 'ttl:later', 'soon', { expirationTtl: 3600, metadata: { t: 1 } });
  await put(mf, 'ttl:at', 'at', { expiration: Math.floor(Date.now() / 1000) + 7200 });
  await mf.close();
  const seen = await bothSee('after Miniflare writes');
  assert.equal(seen.gets.over, '2');
  assert.equal(seen.gets.gone, null);
  assert.ok(seen.lists.undefined[0].keys.find((k) => k.name === 'ttl:later').expiration > Date.now() / 1000);
});

test('the same answers after writes through the direct path (more than a list page, overwrites, deletes)', async () => {
  const kv = await openLocalKv({ persistTo, via: 'direct' });
  const names = Array.from({ length: 1100 }, (_, i) => `bulk:${String(i).padStart(5, '0')}`);
  for (let i = 0; i < names.length; i += 50)
    await Promise.all(names.slice(i, i + 50).map((n, j) => put(kv, n, `{"i":${i + j}}`, { metadata: { i: i + j, s: 'é' } })));
  await put(kv, 'over', '3', { metadata: { v: 3 } });
  await kv.delete('key:jwks:main:k2');
  await kv.delete('never-written');
  await put(kv, 'key:jwks:main:k3', 'x'.repeat(2000), { metadata: { status: 'active', created_at: 1, jwk: { ...JWK, kid: 'k3' } } });
  await put(kv, 'ttl:direct', 'd', { expirationTtl: 600 });
  await kv.close();
  const seen = await bothSee('after direct writes');
  assert.equal(seen.lists['bulk:'].length, 2, '1100 entries are two pages of 1000');
  assert.deepEqual(seen.lists['bulk:'][0].keys[3].metadata, { i: 3, s: 'é' });
  assert.equal(seen.gets['key:jwks:main:k2'], null);
});

test('while both are open, each process reads what the other just wrote (the CLI next to wrangler dev)', async () => {
  const mf = await openLocalKv({ persistTo, via: 'miniflare' });
  const direct = await openLocalKv({ persistTo, via: 'direct' });
  try {
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 ? [mf, direct] : [direct, mf];
      await put(writer, `ping:${i}`, `v${i}`, { metadata: { i } });
      assert.equal(await reader.get(`ping:${i}`), `v${i}`);
      assert.deepEqual(
        (await reader.list({ prefix: `ping:${i}` })).keys.map((k) => [k.name, k.metadata]),
        [[`ping:${i}`, { i }]],
      );
      await writer.delete(`ping:${i}`);
      assert.equal(await reader.get(`ping:${i}`), null);
    }
    // Concurrent writers on one store: nothing lost.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => put(i % 2 ? mf : direct, `race:${String(i).padStart(2, '0')}`, String(i), { metadata: { i } })),
    );
    assert.equal((await direct.list({ prefix: 'race:' })).keys.length, 40);
    assert.deepEqual(await view(direct), await view(mf));
  } finally {
    await direct.close();
    await mf.close();
  }
  await bothSee('after interleaved writes');
});

test('the same answers once entries have expired', async () => {
  // Miniflare's own test hook moves the entries' expiration into the past (KV refuses to write
  // one less than 60 s ahead). A Miniflare that received a control operation lowers its value
  // size limit for tests, so this one does only that.
  _enableControlEndpoints();
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    kvNamespaces: { TOKENGATE: 'tokengate-local' },
    kvPersist: kvDir,
    cf: false,
    log: new NoOpLog(),
  });
  try {
    await mf.ready;
    const ns = await mf._getInternalDurableObjectNamespace('kv', 'kv:ns', 'KVNamespaceObject');
    const stub = ns.get(ns.idFromName('tokengate-local'));
    const sql = async (query, ...args) => {
      const r = await stub.fetch('http://placeholder', { cf: { miniflare: { controlOp: { name: 'sqlQuery', args: [query, ...args] } } } });
      assert.equal(r.status, 200, await r.clone().text());
      return r.json();
    };
    // The operation travels in a header: keys as hex, so a non-ASCII one stays ASCII.
    const keys = ['ttl:later', 'bulk:00007', 'key:jwks:main:k1', 'revocation:0000000002-bb', 'a😀'];
    const hex = keys.map((k) => `CAST(X'${Buffer.from(k).toString('hex')}' AS TEXT)`).join(', ');
    const moved = await sql(`UPDATE _mf_entries SET expiration = ?1 WHERE key IN (${hex}) RETURNING key`, Date.now() - 5000);
    assert.equal(moved.length, 5);
  } finally {
    await mf.dispose();
  }
  const seen = await bothSee('after expirations');
  assert.equal(seen.gets['ttl:later'], null);
  assert.equal(seen.gets['bulk:00007'], null);
  assert.ok(!seen.lists['key:'][0].keys.some((k) => k.name === 'key:jwks:main:k1'));
  assert.equal(seen.gets['ttl:at'], 'at', 'an entry not yet expired is still there');
  await bothSee('after the expired rows were deleted by their first reader');
});

test('the direct path leaves no workerd behind, also when the CLI exits abruptly', async () => {
  const kv = await openLocalKv({ persistTo, via: 'direct' });
  const { child } = kv.kv;
  await kv.close();
  assert.ok(child.exitCode !== null || child.signalCode !== null, 'workerd is gone after close');
  // A command killed by its own TOKENGATE_CRASH_AT (process.exit) takes its workerd along.
  const script = `import { openLocalKv } from ${JSON.stringify(new URL('../../js/admin/kv.js', import.meta.url).href)};
const kv = await openLocalKv({ persistTo: ${JSON.stringify(persistTo)} });
await kv.get('config');
process.stdout.write(String(kv.kv.child.pid));
process.exit(137);`;
  const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => p.on('close', r));
  assert.equal(code, 137);
  const pid = Number(out);
  assert.ok(pid > 0);
  // Gone, or a zombie waiting for init to reap it (its parent has exited).
  const running = () => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  let alive = true;
  for (let i = 0; i < 100 && (alive = running()); i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(alive, false, `workerd ${pid} outlived its CLI`);
});

/** Runs the CLI in a project: `{ code, out, err }`. */
function cli(cwd, args, env = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, TOKENGATE_ACTOR: 'localkv-test', ...env } });
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

test("the CLI's read commands print the same through both paths", async () => {
  const project = join(root, 'project');
  const iss = 'https://id.example';
  const config = {
    issuers: [{ issuer: iss, audience: 'api', jwks: 'jwks:main', tenantGrants: { tenantClaim: 'tenant', moduleClaim: 'module' } }],
  };
  rmSync(project, { recursive: true, force: true });
  const { mkdirSync } = await import('node:fs');
  mkdirSync(project);
  writeFileSync(join(project, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify(config)}\n'''\n`);
  const ok = async (args, env) => {
    const r = await cli(project, args, env);
    assert.equal(r.code, 0, `tokengate ${args.join(' ')}\n${r.out}${r.err}`);
    return r;
  };
  // Writes alternate between the paths.
  await ok(['keys', 'rotate', '--issuer', iss]);
  await ok(['keys', 'rotate', '--issuer', iss], { TOKENGATE_LOCAL_KV: 'miniflare' });
  const token = (await ok(['mint', '--issuer', iss, '--sub', 'u1'])).out.trim();
  await ok(['revoke', '--token', token, '--reason', 'test'], { TOKENGATE_LOCAL_KV: 'miniflare' });
  await ok(['revoke', '--jti', 'j'.repeat(1500), '--issuer', iss]);
  await ok(['apikey', 'create', '--name', 'one', '--owner', 'svc'], { TOKENGATE_LOCAL_KV: 'miniflare' });
  await ok(['apikey', 'create', '--name', 'two', '--owner', 'svc', '--one-per-owner']);
  await ok(['grants', 'grant', '--tenant', 'acme', '--module', 'music', '--scope', 'users:read']);
  const now = String(Math.floor(Date.now() / 1000) + 60);
  for (const args of [
    ['status'],
    ['keys', 'list', '--issuer', iss],
    ['revocations', 'list'],
    ['apikey', 'list'],
    ['apikey', 'list', '--state', 'revoked'],
    ['audit', 'list'],
    ['grants', 'list', '--tenant', 'acme'],
  ]) {
    for (const json of [['--json'], []]) {
      const a = await cli(project, [...args, ...json, '--now', now]);
      const b = await cli(project, [...args, ...json, '--now', now], { TOKENGATE_LOCAL_KV: 'miniflare' });
      assert.deepEqual(a, b, `tokengate ${args.join(' ')} ${json.join('')}`);
      assert.equal(a.code, 0, `${args.join(' ')}: ${a.out}${a.err}`);
    }
  }
});
