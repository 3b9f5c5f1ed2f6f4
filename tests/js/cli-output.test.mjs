// The CLI's text output as an operator reads it: the audit log names what each change touched
// and why, warnings for changes that do nothing (a revocation already past its end, tenant grants
// no issuer reads), real plurals, and values from tokens or KV printed with their control
// characters escaped. Runs the lifecycle commands against real local KV in a scratch project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../runtime/helpers.mjs';

const ISS = 'https://out.example';
const TENANT_ISS = 'https://tenants.example';

/** A project directory whose wrangler.toml configures `issuers`. */
function project(issuers) {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-output-'));
  writeFileSync(join(dir, 'wrangler.toml'), `name = "t"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify({ issuers })}\n'''\n`);
  return dir;
}

const run = (dir, args) => runCli([...args, '--actor', 'ops'], { cwd: dir, timeout: 60_000 });
function ok(dir, args) {
  const r = run(dir, args);
  assert.equal(r.code, 0, `tokengate ${args.join(' ')}\n${r.out}\n${r.err}`);
  return r;
}
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

test('audit list shows targets and reasons; a revocation already past its end warns; plurals; control characters escaped', () => {
  const dir = project([{ issuer: ISS, audience: 'api', jwks: 'jwks:out' }]);
  assert.match(ok(dir, ['keys', 'rotate', '--issuer', ISS]).out, /\npublished version \d+: 1 key\n$/);
  assert.match(ok(dir, ['keys', 'rotate', '--issuer', ISS]).out, /\npublished version \d+: 2 keys\n$/);
  assert.match(ok(dir, ['keys', 'list', '--issuer', ISS]).out, /^jwks:out \(https:\/\/out\.example\): 2 keys\n/);

  // A subject with an escape sequence: stored as given, shown escaped.
  const sub = 'evil\u001b[2J\u0007';
  const expired = ok(dir, ['mint', '--issuer', ISS, '--sub', sub, '--now', '-2h', '--ttl', '15m']).out.trim();
  const past = ok(dir, ['revoke', '--token', expired, '--reason', 'leaked\nrevoked: everything', '--json']);
  const jti = JSON.parse(Buffer.from(expired.split('.')[1], 'base64url').toString()).jti;
  assert.equal(past.json.warnings.length, 1);
  assert.match(
    past.err,
    new RegExp(
      `^warning: the revocation of token ${jti} of ${ISS.replace(/\./g, '\\.')} is already past its end \\(\\S+\\): the tokens it covers are refused by time already, and the next prune drops it\\n$`,
    ),
  );
  const live = ok(dir, ['revoke', '--jti', 'j-live', '--issuer', ISS]);
  assert.equal(live.err, '', 'a revocation that still covers tokens has no warning');

  const audit = ok(dir, ['audit', 'list']);
  assert.doesNotMatch(audit.out, RAW_CONTROL);
  const lines = audit.out.trimEnd().split('\n');
  assert.equal(lines[0], '5 audit records');
  const row = (action) => lines.find((l) => l.split(/\s{2}/)[3] === action && l.includes(action === 'revoke' ? jti : ''));
  assert.match(row('keys.rotate'), new RegExp(`  ops  keys\\.rotate  ${ISS.replace(/\./g, '\\.')}; ES256$`));
  assert.match(row('mint'), /  mint  https:\/\/out\.example; sub evil\\e\[2J\\u0007, jti [0-9a-f-]{36}, ttl 900 s$/);
  assert.ok(row('revoke').endsWith(`  revoke  jti ${jti} of ${ISS}; reason: leaked\\nrevoked: everything`), row('revoke'));
  assert.ok(lines.some((l) => l.endsWith(`  revoke  jti j-live of ${ISS}`)));

  const revocations = ok(dir, ['revocations', 'list']).out;
  assert.match(revocations, /; 2 stored entries\n/);
  assert.match(ok(dir, ['revocations', 'prune']).out, /^pruned 1 expired entry; /);

  const created = ok(dir, ['apikey', 'create', '--name', 'ci\r\ndeploy', '--owner', 'svc', '--expires', '30d']);
  assert.match(created.out, /^tgk_/);
  const keys = ok(dir, ['apikey', 'list']).out;
  assert.match(keys, /^1 API key\n/);
  assert.ok(keys.includes('"ci\\r\\ndeploy"'), keys);
  assert.doesNotMatch(keys, RAW_CONTROL);
  assert.match(ok(dir, ['status']).out, /; audit log: 7 records, last apikey\.create by ops at /);
});

test('grants warn that they have no effect while no issuer has tenantGrants', () => {
  const plain = project([{ issuer: ISS, audience: 'api', jwks: 'jwks:out' }]);
  const warning =
    'warning: no configured issuer has tenantGrants, so the worker narrows no token by these grants (they have no effect until an issuer sets tenantGrants: { tenantClaim, moduleClaim })\n';
  const granted = ok(plain, ['grants', 'grant', '--tenant', 'acme', '--module', 'music', '--scope', 'users:read', '--json']);
  assert.equal(granted.err, warning);
  assert.deepEqual(granted.json.warnings, [warning.slice('warning: '.length, -1)]);
  const listed = ok(plain, ['grants', 'list']);
  assert.equal(listed.err, warning);
  assert.match(listed.out, /; 1 grant\n {2}acme\/music {2}users:read {2}by ops at /);

  const tenants = project([
    { issuer: ISS, audience: 'api', jwks: 'jwks:out' },
    { issuer: TENANT_ISS, audience: 'api', jwks: 'jwks:t', tenantGrants: { tenantClaim: 'tenant', moduleClaim: 'module' } },
  ]);
  const used = ok(tenants, [
    'grants',
    'grant',
    '--tenant',
    'acme',
    '--module',
    'music',
    '--scope',
    'users:read',
    '--scope',
    'billing:read',
  ]);
  assert.equal(used.err, '');
  assert.match(ok(tenants, ['grants', 'list']).out, /; 2 grants\n/);
});

test('a lifecycle command refuses an option it does not take by name, a not-found is exit 1, and cleanup with nothing to do writes nothing', () => {
  const dir = project([{ issuer: ISS, audience: 'api', jwks: 'jwks:out' }]);
  const cleanup = ok(dir, ['keys', 'cleanup', '--issuer', ISS]);
  assert.equal(cleanup.out, 'no keys in jwks:out; nothing written\n');
  assert.equal(ok(dir, ['audit', 'list']).out, '0 audit records\n', 'not even an audit record');
  for (const [args, line] of [
    [['mint', '--issuer', ISS, '--sub', 'u', '--jti', 'j1'], 'mint does not take --jti (revoke does); see `tokengate help mint`'],
    [['mint', '--issuer', ISS, '--sub', 'u', '--reason', 'x'], 'mint does not take --reason (revoke does); see `tokengate help mint`'],
    [
      ['keys', 'list', '--issuer', ISS, '--alg', 'es256'],
      'keys list does not take --alg (verify, keygen, keys rotate, keys generate do); see `tokengate help keys list`',
    ],
    [['revoke', '--jti', 'j1', '--ttl', '1h'], 'revoke does not take --ttl (mint --key, mint do); see `tokengate help revoke`'],
    [
      ['apikey', 'create', '--name', 'n', '--owner', 'o', '--expires', '1000d'],
      'API key lifetime must be between 1 second and 31536000 seconds (365 days), got 86400000',
    ],
  ]) {
    const r = run(dir, args);
    assert.deepEqual([r.code, r.out, r.err], [2, '', `tokengate: ${line}\n`], args.join(' '));
  }
  ok(dir, ['keys', 'rotate', '--issuer', ISS]);
  assert.match(ok(dir, ['keys', 'cleanup', '--issuer', ISS]).out, /^no key can be removed or retired yet \(1 key\); nothing written\n$/);
  for (const [args, line] of [
    [['keys', 'retire', 'nokid', '--issuer', ISS], 'no key "nokid" in jwks:out'],
    [['keys', 'remove', 'no\u001bkid', '--issuer', ISS], 'no key "no\\ekid" in jwks:out'],
    [['apikey', 'revoke', 'ak_nope'], 'no API key with id "ak_nope"'],
  ]) {
    const r = run(dir, args);
    assert.deepEqual([r.code, r.out, r.err], [1, '', `tokengate: ${line}\n`], args.join(' '));
  }
  assert.equal(ok(dir, ['audit', 'list']).out.split('\n')[0], '1 audit record', 'only the rotation');
});

test('status with local KV but no project: says there is no wrangler.toml, and no ? fields', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-output-'));
  mkdirSync(join(dir, 'state'));
  const r = runCli(['status', '--persist-to', 'state'], { cwd: dir, timeout: 60_000 });
  assert.equal(r.code, 1, r.err);
  assert.ok(
    r.out.includes(`\nPROBLEM: no worker configuration: no wrangler.toml in ${dir}, no --config FILE, and no KV key "config"\n`),
    r.out,
  );
  assert.match(r.out, /\n {2}revocations: no list; 0 stored, 0 expired\n/);
  assert.doesNotMatch(r.out, /\?/);
});
