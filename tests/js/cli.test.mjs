// The CLI, run as a user runs it: every command, --json, stdin, and every exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';

const BIN = new URL('../../bin/tokengate.js', import.meta.url).pathname;
const NOW = 1_800_000_000;
const dir = mkdtempSync(join(tmpdir(), 'tokengate-cli-'));

function cli(args, input) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const file = (name, text) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const keygen = cli(['keygen', '--alg', 'ES256', '--kid', 'cli-1']);
const privPath = file('priv.json', keygen.out);
const jwksOut = cli(['public-jwk', privPath, '--jwks']);
const jwksPath = file('jwks.json', jwksOut.out);
const claims = {
  iss: 'https://issuer.example',
  sub: 'user-1',
  aud: 'api',
  iat: NOW - 10,
  exp: NOW + 600,
  scope: 'users:read',
  type: 'access',
};
const token = cli(['mint', '--key', privPath, '--claims', JSON.stringify(claims)]).out.trim();

test('keygen prints a private JWK and public-jwk its public half (or a JWKS)', () => {
  assert.equal(keygen.code, 0);
  const k = JSON.parse(keygen.out);
  assert.deepEqual([k.kty, k.crv, k.kid, typeof k.d], ['EC', 'P-256', 'cli-1', 'string']);
  const pub = JSON.parse(cli(['public-jwk', privPath]).out);
  assert.equal(pub.d, undefined);
  assert.deepEqual(JSON.parse(jwksOut.out), { keys: [pub] });
  assert.equal(cli(['keygen', '--alg', 'none']).code, 2);
  assert.equal(cli(['keygen']).code, 2);
});

test('verify: valid token exits 0 and prints header and claims', () => {
  const r = cli(['verify', token, '--jwks', jwksPath, '--iss', 'https://issuer.example', '--aud', 'api', '--now', String(NOW), '--json']);
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.valid, true);
  assert.equal(out.header.kid, 'cli-1');
  assert.equal(out.claims.sub, 'user-1');
  const text = cli(['verify', '-', '--jwks', jwksPath, '--now', String(NOW), '--scope', 'users:read', '--type', 'access'], token);
  assert.equal(text.code, 0, text.err);
  assert.match(text.out, /^valid ES256 token for user-1; scopes: users:read/);
});

test('verify: rejections exit 1 with the stable code', () => {
  const cases = [
    [['--now', String(NOW + 3600)], 'token_expired', 401],
    [['--now', String(NOW), '--iss', 'https://other.example'], 'issuer_not_allowed', 401],
    [['--now', String(NOW), '--scope', 'admin'], 'insufficient_scope', 403],
    [['--now', String(NOW), '--type', 'refresh'], 'token_type_not_allowed', 401],
    [['--now', String(NOW), '--sub', 'user-2'], 'subject_mismatch', 403],
    [['--now', String(NOW), '--alg', 'RS256'], 'alg_not_allowed', 401],
  ];
  for (const [extra, code, status] of cases) {
    const r = cli(['verify', token, '--jwks', jwksPath, '--json', ...extra]);
    assert.equal(r.code, 1, `${code}: ${r.err}`);
    const out = JSON.parse(r.out);
    assert.equal(out.valid, false);
    assert.equal(out.error.code, code);
    assert.equal(out.error.status, status);
    assert.equal(typeof out.error.message, 'string');
  }
  const human = cli(['verify', token.slice(0, -3) + 'AAA', '--jwks', jwksPath, '--now', String(NOW)]);
  assert.equal(human.code, 1);
  assert.match(human.out, /^rejected: signature_invalid \(401\)/);
});

test('verify: HMAC secrets, --max-lifetime and jose-minted tokens', async () => {
  const secret = 'a-long-shared-secret-of-at-least-32-bytes!';
  const hs = await new jose.SignJWT({ sub: 'svc', scope: 'jobs:run' })
    .setProtectedHeader({ alg: 'HS256', kid: 'shared-1' })
    .setIssuedAt(NOW)
    .setExpirationTime(NOW + 90 * 86400)
    .sign(new TextEncoder().encode(secret));
  assert.equal(cli(['verify', hs, '--secret', secret, '--now', String(NOW)]).code, 1, 'lifetime over 30 days by default');
  const ok = cli(['verify', hs, '--secret', secret, '--now', String(NOW), '--max-lifetime', 'none', '--json']);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.equal(JSON.parse(ok.out).claims.sub, 'svc');
  const b64 = Buffer.from(secret).toString('base64url');
  assert.equal(cli(['verify', hs, '--secret-b64', b64, '--now', String(NOW), '--max-lifetime', String(91 * 86400)]).code, 0);
  assert.equal(
    cli(['verify', hs, '--secret', 'wrong-secret-wrong-secret-wrong-secret', '--now', String(NOW), '--max-lifetime', 'none']).code,
    1,
  );
});

test('verify --jws checks only the signature and prints the payload', () => {
  const jws = cli(['mint', '--key', privPath, '--claims', '{"hello":"world"}']).out.trim();
  const r = cli(['verify', jws, '--jwk', file('pub.json', JSON.stringify(JSON.parse(jwksOut.out).keys[0])), '--jws', '--json']);
  assert.equal(r.code, 0, r.err);
  const out = JSON.parse(r.out);
  assert.equal(out.payloadText, '{"hello":"world"}');
  assert.equal(Buffer.from(out.payload, 'base64url').toString(), '{"hello":"world"}');
  const human = cli(['verify', jws, '--jwks', jwksPath, '--jws']);
  assert.match(human.out, /payload \(text\): \{"hello":"world"\}/);
});

test('mint from flags: sub, scope, ttl, type, iss, aud', () => {
  const t = cli([
    'mint',
    '--key',
    privPath,
    '--sub',
    'user-7',
    '--scope',
    'a:read b:write',
    '--ttl',
    '2h',
    '--type',
    'access',
    '--iss',
    'https://i',
    '--aud',
    'api',
    '--now',
    String(NOW),
  ]);
  assert.equal(t.code, 0, t.err);
  const r = JSON.parse(cli(['verify', t.out.trim(), '--jwks', jwksPath, '--now', String(NOW), '--json']).out);
  assert.equal(r.claims.sub, 'user-7');
  assert.equal(r.claims.exp - r.claims.iat, 7200);
  assert.equal(r.claims.type, 'access');
  assert.equal(typeof r.claims.jti, 'string');
  assert.equal(cli(['mint', '--key', privPath, '--ttl', 'soon']).code, 2);
});

test('inspect prints the decoded token; exit 1 when it cannot be decoded', () => {
  const r = cli(['inspect', token, '--now', String(NOW), '--json']);
  assert.equal(r.code, 0);
  const out = JSON.parse(r.out);
  assert.deepEqual([out.kind, out.status, out.claims.sub], ['jwt', 'active', 'user-1']);
  const human = cli(['inspect', '-', '--now', String(NOW + 3600)], token);
  assert.equal(human.code, 0);
  assert.match(human.out, /kind: jwt {3}status: expired/);
  assert.equal(cli(['inspect', 'garbage']).code, 1);
});

test('usage and input errors exit 2 with a clear message', () => {
  const cases = [
    [[], /usage:/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['verify', token], /exactly one of --jwks/],
    [['verify', token, '--jwks', join(dir, 'missing.json')], /cannot read JWKS .*missing\.json: ENOENT/],
    [['verify', token, '--jwks', file('bad.json', '{"keys": [{"kty": "RSA"}]}')], /key_invalid/],
    [['verify', token, '--jwks', file('notjson.json', 'nope')], /is not JSON/],
    [['verify', token, '--jwks', jwksPath, '--leeway', 'ten'], /--leeway must be a whole number/],
    [['verify', token, '--jwks', jwksPath, '--scope', 'a and'], /scope_invalid/],
    [['verify', '--jwks', jwksPath], /missing token/],
    [['verify', token, '--jwks', jwksPath, '--bogus'], /Unknown option '--bogus'/],
    [['mint', '--claims', '{}'], /--key FILE/],
    [['public-jwk'], /needs FILE/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err + r.out, message);
  }
  assert.equal(cli(['--help']).code, 0);
});
