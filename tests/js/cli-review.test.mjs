// Findings of an outside review of the CLI: an HMAC key is never published or put in
// KV, `mint --key` merges its flags with --claims and takes the core's --ttl rule, and `inspect`
// of an API key that does not decode says why and exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from '../../js/node.js';
import { runCli } from '../runtime/helpers.mjs';

const ISS = 'https://id.example';
const scratch = () => mkdtempSync(join(tmpdir(), 'tokengate-review-'));

function project() {
  const dir = scratch();
  const config = { realm: 't', issuers: [{ issuer: ISS, audience: 'api', jwks: 'jwks:main' }] };
  writeFileSync(join(dir, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify(config)}\n'''\n`);
  return dir;
}

const payload = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

test('keys rotate/generate --alg HS*: refused before anything is written; the key set stays usable', () => {
  const dir = project();
  for (const args of [
    ['keys', 'rotate', '--alg', 'hs256'],
    ['keys', 'generate', '--alg', 'HS512'],
  ]) {
    const r = runCli(args, { cwd: dir });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /^tokengate: --alg HS(256|512): key_invalid: an HMAC key has no public part/m);
    assert.equal(r.out, '');
  }
  // Nothing in KV (no key entry, no audit record) and no private key file.
  assert.equal(existsSync(join(dir, 'keys')) && readdirSync(join(dir, 'keys'), { recursive: true }).length > 0, false);
  const listed = runCli(['keys', 'list', '--json'], { cwd: dir });
  assert.deepEqual(listed.json.keys, []);
  assert.deepEqual(listed.json.problems, ['the worker cannot load jwks:main: key_invalid: KV key "jwks:main" is missing']);
  assert.deepEqual(runCli(['audit', 'list', '--json'], { cwd: dir }).json, { records: [] });
  // An asymmetric key still rotates in; list and mint work.
  assert.equal(runCli(['keys', 'rotate', '--alg', 'es256'], { cwd: dir }).code, 0);
  const after = runCli(['keys', 'list', '--json'], { cwd: dir });
  assert.equal(after.code, 0, after.out);
  assert.deepEqual([after.json.keys.length, after.json.problems], [1, []]);
  const minted = runCli(['mint', '--issuer', ISS, '--sub', 'u'], { cwd: dir });
  assert.equal(minted.code, 0, minted.err);
});

test('public-jwk of an HMAC key is refused (the secret is no public key)', () => {
  const dir = scratch();
  const key = runCli(['keygen', '--alg', 'HS256']);
  assert.equal(key.code, 0);
  writeFileSync(join(dir, 'hs.json'), key.out);
  for (const args of [
    ['public-jwk', join(dir, 'hs.json'), '--jwks'],
    ['public-jwk', join(dir, 'hs.json')],
  ]) {
    const r = runCli(args);
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, /^tokengate: key_invalid: an HMAC key has no public part \(its JWK is the secret\); share the secret out of band/);
    assert.doesNotMatch(r.err, new RegExp(key.json.k));
  }
});

test('mint --key: flags and --claims merge (exp, iat, jti filled in); a claim given both ways is refused', () => {
  const dir = scratch();
  writeFileSync(join(dir, 'p.json'), runCli(['keygen', '--alg', 'ES256']).out);
  const key = join(dir, 'p.json');
  const base = ['mint', '--key', key, '--now', '1800000000'];
  const r = runCli([...base, '--iss', 'X', '--aud', 'api', '--sub', 'user-1', '--ttl', '15m', '--claims', '{"tenant":"acme"}']);
  assert.equal(r.code, 0, r.err);
  const c = payload(r.out.trim());
  assert.deepEqual([c.iss, c.aud, c.sub, c.tenant, c.iat, c.exp], ['X', 'api', 'user-1', 'acme', 1800000000, 1800000900]);
  assert.match(c.jti, /^[0-9a-f-]{36}$/);
  // --claims's own times are kept; the default lifetime is the core's hour, as for the lifecycle mint.
  const own = payload(runCli([...base, '--claims', '{"exp":1800000005,"jti":"j"}']).out.trim());
  assert.deepEqual([own.exp, own.jti, own.iat], [1800000005, 'j', 1800000000]);
  assert.equal(payload(runCli([...base, '--sub', 'u']).out.trim()).exp, 1800003600);
  for (const [flags, name, flag] of [
    [['--sub', 'a', '--claims', '{"sub":"b"}'], 'sub', 'sub'],
    [['--ttl', '1h', '--claims', '{"exp":1800000005}'], 'exp', 'ttl'],
    [['--iss', 'X', '--claims', '{"iss":"X"}'], 'iss', 'iss'],
  ]) {
    const bad = runCli([...base, ...flags]);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, `tokengate: --claims sets "${name}" and so does --${flag}: give it one way\n`);
  }
});

test("--ttl: the same rule (the core's) for mint --key and mint --issuer: positive, whole, within NumericDate", () => {
  const dir = project();
  assert.equal(runCli(['keys', 'rotate'], { cwd: dir }).code, 0);
  writeFileSync(join(dir, 'p.json'), runCli(['keygen', '--alg', 'EdDSA']).out);
  for (const [ttl, message] of [
    ['0', '--ttl must be positive (a token with exp = iat is expired when issued)'],
    ['99999999999999999999', '--ttl puts exp past 9999-12-31, out of the NumericDate range'],
  ]) {
    const offline = runCli(['mint', '--key', join(dir, 'p.json'), '--ttl', ttl]);
    assert.equal(offline.code, 2, offline.out);
    assert.equal(offline.err, `tokengate: ${message}\n`);
    assert.equal(offline.out, '');
  }
  // Lifecycle mint caps a long --ttl at the issuer's maximum (with a warning), so only 0 reaches the rule.
  const lifecycle = runCli(['mint', '--issuer', ISS, '--sub', 'u', '--ttl', '0'], { cwd: dir });
  assert.equal(lifecycle.code, 2);
  assert.equal(lifecycle.err, 'tokengate: --ttl must be positive (a token with exp = iat is expired when issued)\n');
});

test('inspect of an API key that does not decode: text says why, exit 1 (as with --json)', () => {
  const text = runCli(['inspect', 'tgk_abc']);
  const json = runCli(['inspect', 'tgk_abc', '--json']);
  assert.equal(json.code, 1);
  assert.equal(text.code, 1);
  assert.deepEqual(json.json.apikey, { prefix: 'tgk_', checksumValid: false, error: 'API keys are 53 characters; this is 7' });
  assert.match(text.out, /^kind: apikey +status: unknown +size: 7 bytes\nchecksum: invalid \(API keys are 53 characters; this is 7\)\n$/);
  // A well-formed key: exit 0, its SHA-256 shown.
  const raw = tg.apiKey.generate();
  const good = runCli(['inspect', raw]);
  assert.equal(good.code, 0);
  assert.match(good.out, new RegExp(`\\nchecksum: valid .*: ${tg.apiKey.hash(raw)}\\n`));
});

// Every control character but the line break (C0, DEL, C1 such as U+009B CSI, bidi controls).
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

test('control characters from input are escaped in all output: inspect, verify, lifecycle text, error lines', () => {
  const dir = project();
  writeFileSync(join(dir, 'p.json'), runCli(['keygen', '--alg', 'ES256', '--kid', 'k\u009b2J']).out);
  writeFileSync(join(dir, 'jwks.json'), runCli(['public-jwk', join(dir, 'p.json'), '--jwks']).out);
  const token = runCli([
    'mint',
    '--key',
    join(dir, 'p.json'),
    '--claims',
    JSON.stringify({ note: 'a\u009b2J\u001b[31m\u202eb' }),
  ]).out.trim();
  const runs = [
    [['inspect', token], 0],
    [['inspect', token, '--json'], 0],
    [['verify', token, '--jwks', join(dir, 'jwks.json')], 0],
    [['verify', token, '--jwks', join(dir, 'jwks.json'), '--json'], 0],
    [['apikey', 'create', '--name', 'n\u009b', '--owner', 'o\u001b[31m\u009b'], 0],
    [['revoke', '--issuer', 'https://nope\u001b[31m', '--jti', 'x'], 2],
    [['mint', '--key', join(dir, 'p.json'), '--claims', '{"a":"\u001b[2J'], 2],
    [['verify', token, '--jwks', '/nope\u001b[2J\u009b'], 2],
    [['inspect', token, '--x\u001b[2J'], 2],
  ];
  for (const [args, code] of runs) {
    const r = runCli(args, { cwd: dir });
    assert.equal(r.code, code, `${args.join(' ')}\n${r.out}${r.err}`);
    assert.doesNotMatch(r.out + r.err, RAW, args.join(' '));
  }
  // JSON output keeps its meaning: the escapes are JSON's own.
  const json = runCli(['inspect', token, '--json']).json;
  assert.equal(json.claims.note, 'a\u009b2J\u001b[31m\u202eb');
  assert.equal(json.header.kid, 'k\u009b2J');
  assert.match(runCli(['inspect', token]).out, /"note": "a\\u009b2J\\u001b\[31m\\u202eb"/);
});

test('an option of a command in the other half of the CLI is refused by naming the commands that take it', () => {
  const dir = project();
  for (const [args, message] of [
    [['mint', '--key', 'p.json', '--jti', 'x'], 'mint --key does not take --jti (revoke does); see `tokengate help mint`'],
    [['verify', 't', '--reason', 'r'], 'verify does not take --reason (revoke does); see `tokengate help verify`'],
    [['verify', 't', '--before', '1'], 'verify does not take --before (revoke does); see `tokengate help verify`'],
    [['verify', 't', '--purge'], 'verify does not take --purge (apikey revoke does); see `tokengate help verify`'],
    [
      ['verify', 't', '--tenant', 'a'],
      'verify does not take --tenant (grants grant, grants revoke, grants list do); see `tokengate help verify`',
    ],
    [['inspect', 't', '--max-active', '3'], 'inspect does not take --max-active (keys rotate does); see `tokengate help inspect`'],
    [['revoke', '--jwks', 'j.json'], 'revoke does not take --jwks (verify, public-jwk do); see `tokengate help revoke`'],
    [['keys', 'list', '--claims', '{}'], 'keys list does not take --claims (mint --key does); see `tokengate help keys list`'],
  ]) {
    const r = runCli(args, { cwd: dir });
    assert.deepEqual([r.code, r.err, r.out], [2, `tokengate: ${message}\n`, ''], args.join(' '));
  }
});

test('audit list: an API key record is named by its own fields, never by the audit record key; one-per-owner revocations are audited', () => {
  const dir = project();
  const first = runCli(['apikey', 'create', '--name', 'ci', '--owner', 'o', '--json'], { cwd: dir }).json.record.id;
  const second = runCli(['apikey', 'create', '--name', 'ci2', '--owner', 'o', '--one-per-owner', '--json'], { cwd: dir });
  assert.deepEqual(second.json.revoked, [first]);
  const id = second.json.record.id;
  assert.equal(runCli(['apikey', 'rotate', id], { cwd: dir }).code, 0);
  assert.equal(runCli(['apikey', 'revoke', id, '--purge'], { cwd: dir }).code, 0);
  const { records } = runCli(['audit', 'list', '--json'], { cwd: dir }).json;
  assert.deepEqual(
    records.map((r) => [r.action, r.id, r.name, r.reason]),
    [
      ['apikey.create', first, 'ci', undefined],
      ['apikey.create', id, 'ci2', undefined],
      ['apikey.revoke', first, undefined, `one per owner: replaced by ${id}`],
      ['apikey.rotate', id, undefined, undefined],
      ['apikey.purge', id, undefined, undefined],
    ],
  );
  for (const r of records) assert.match(r.key, /^audit:/);
  const text = runCli(['audit', 'list'], { cwd: dir }).out;
  assert.doesNotMatch(text, /"audit:/);
  assert.match(text, new RegExp(`apikey\\.revoke  API key ${first}; reason: one per owner: replaced by ${id}\\n`));
  assert.match(text, new RegExp(`apikey\\.rotate  API key ${id}\\n`));
});

test('revoke and grants: a grant that does not exist is a not-found with nothing written; revoke --token of an unconfigured issuer is refused like --jti; a future --before warns', () => {
  const dir = project();
  const before = runCli(['audit', 'list', '--json'], { cwd: dir }).json.records.length;
  const none = runCli(['grants', 'revoke', '--tenant', 'nope', '--module', 'm', '--scope', 'users:read'], { cwd: dir });
  assert.equal(none.code, 1);
  assert.match(none.err, /\ntokengate: nope\/m has no grant of users:read; nothing revoked\n$/);
  assert.equal(runCli(['audit', 'list', '--json'], { cwd: dir }).json.records.length, before);

  writeFileSync(join(dir, 'p.json'), runCli(['keygen', '--alg', 'ES256']).out);
  const foreign = runCli(['mint', '--key', join(dir, 'p.json'), '--iss', 'https://other.example', '--sub', 'u']).out.trim();
  const byToken = runCli(['revoke', '--token', foreign], { cwd: dir });
  const byJti = runCli(['revoke', '--jti', 'x', '--issuer', 'https://other.example'], { cwd: dir });
  assert.deepEqual([byToken.code, byToken.err], [2, `tokengate: unknown issuer "https://other.example"; configured: ${ISS}\n`]);
  assert.deepEqual([byJti.code, byJti.err], [byToken.code, byToken.err]);
  assert.equal(runCli(['audit', 'list', '--json'], { cwd: dir }).json.records.length, before);

  const future = runCli(['revoke', '--subject', 'u', '--issuer', ISS, '--before', '+1h'], { cwd: dir });
  assert.equal(future.code, 0, future.err);
  assert.match(
    future.err,
    /^warning: --before \S+ is in the future: every token of u issued until then is refused, new logins included\n$/,
  );
  const now = runCli(['revoke', '--subject', 'u', '--issuer', ISS], { cwd: dir });
  assert.deepEqual([now.code, now.err], [0, '']);
});

test('--persist-to with a file on its path: one line, exit 2, nothing opened', () => {
  const dir = project();
  for (const p of ['/etc/passwd', '/etc/passwd/x']) {
    const r = runCli(['status', '--persist-to', p], { cwd: dir });
    assert.deepEqual(
      [r.code, r.out, r.err],
      [2, '', `tokengate: --persist-to ${p}: /etc/passwd is not a directory (give the directory wrangler dev --persist-to uses)\n`],
    );
  }
  assert.equal(existsSync(join(dir, '.wrangler')), false);
});

test('nits: a near option of the command itself is suggested, a single-valued option given twice is refused, and two core messages read right', () => {
  const dir = project();
  const scope = runCli(['apikey', 'create', '--name', 'n', '--owner', 'o', '--scope', 'users:read'], { cwd: dir });
  assert.equal(scope.code, 2);
  assert.match(scope.err, /^tokengate: apikey create does not take --scope \(.*\); did you mean --scopes\?\n$/);
  writeFileSync(join(dir, 'p.json'), runCli(['keygen', '--alg', 'ES256']).out);
  const twice = runCli(['mint', '--key', join(dir, 'p.json'), '--ttl', '1h', '--ttl', '2h']);
  assert.deepEqual([twice.code, twice.err, twice.out], [2, 'tokengate: --ttl is given twice; give it once\n', '']);

  writeFileSync(join(dir, 'jwks.json'), runCli(['public-jwk', join(dir, 'p.json'), '--jwks']).out);
  const token = runCli(['mint', '--key', join(dir, 'p.json'), '--type', 'access']).out.trim();
  const type = runCli(['verify', token, '--jwks', join(dir, 'jwks.json'), '--type', 'refresh']);
  assert.equal(type.code, 1);
  assert.match(type.out, /^rejected: token_type_not_allowed \(\d+\): token type "access" is not accepted here\n/);
  writeFileSync(join(dir, 'empty.json'), '{"keys":[]}');
  const empty = runCli(['verify', token, '--jwks', join(dir, 'empty.json')]);
  assert.deepEqual([empty.code, empty.err], [2, 'tokengate: key_invalid: JWKS has no usable verification key (it holds no keys)\n']);
});

test('keys rotate --max-active: a value that is not a whole number says what it takes', () => {
  const dir = project();
  for (const bad of ['abc', '0', '1.5']) {
    const r = runCli(['keys', 'rotate', '--issuer', ISS, '--max-active', bad], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.err, `tokengate: --max-active takes a whole number of keys, at least 1, got "${bad}"\n`);
  }
});

test('--persist-to a directory that does not exist: a read is refused and creates nothing; a write creates the store', () => {
  const dir = project();
  const missing = join(dir, 'no-such-store');
  for (const args of [['status'], ['keys', 'list'], ['audit', 'list']]) {
    const r = runCli([...args, '--persist-to', missing], { cwd: dir });
    assert.deepEqual(
      [r.code, r.out, r.err],
      [2, '', `tokengate: --persist-to ${missing}: no such directory, so no local KV to read (npm start or a write command creates it)\n`],
    );
  }
  assert.equal(existsSync(missing), false);
  const w = runCli(['keys', 'rotate', '--alg', 'es256', '--persist-to', missing], { cwd: dir });
  assert.equal(w.code, 0, w.err);
  const listed = runCli(['keys', 'list', '--json', '--persist-to', missing], { cwd: dir });
  assert.equal(listed.json.keys.length, 1);
});

test('grants grant: a grant too long for a Workers KV key is refused before anything is written (no audit record)', () => {
  const dir = project();
  const tenant = 't'.repeat(600);
  const r = runCli(['grants', 'grant', '--tenant', tenant, '--module', 'm', '--scope', 'users:read'], { cwd: dir });
  assert.equal(r.code, 2, r.err);
  assert.match(
    r.err,
    /^tokengate: the grant of users:read to t+\/m cannot be stored: its KV key would be \d+ bytes; Workers KV takes at most 512\n$/,
  );
  assert.deepEqual(runCli(['audit', 'list', '--json'], { cwd: dir }).json, { records: [] });
  // Under the limit, it is stored and audited.
  const ok = runCli(['grants', 'grant', '--tenant', 't'.repeat(400), '--module', 'm', '--scope', 'users:read'], { cwd: dir });
  assert.equal(ok.code, 0, ok.err);
  assert.equal(runCli(['audit', 'list', '--json'], { cwd: dir }).json.records.length, 1);
});
