// The CLI, run as a user runs it: every command, --json, stdin, and every exit code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as jose from 'jose';
import { BIN, NOW, claims as standardClaims, runCli } from '../runtime/helpers.mjs';

const dir = mkdtempSync(join(tmpdir(), 'tokengate-cli-'));
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

const cli = (args, input, { cwd } = {}) => runCli(args, { input, cwd });
const file = (name, text) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const keygen = cli(['keygen', '--alg', 'ES256', '--kid', 'cli-1']);
const privPath = file('priv.json', keygen.out);
const jwksOut = cli(['public-jwk', privPath, '--jwks']);
const jwksPath = file('jwks.json', jwksOut.out);
const claims = standardClaims({ jti: undefined, scope: 'users:read', type: 'access' });
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
  // mint adds iat, exp and jti to --claims.
  assert.match(out.payloadText, /^\{"exp":\d+,"hello":"world","iat":\d+,"jti":"[0-9a-f-]{36}"\}$/);
  assert.equal(Buffer.from(out.payload, 'base64url').toString(), out.payloadText);
  const human = cli(['verify', jws, '--jwks', jwksPath, '--jws']);
  assert.match(human.out, /payload \(text\): \{"exp":\d+,"hello":"world","iat":/);
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
    [['verify', token, '--jwks', join(dir, 'missing.json')], /^tokengate: no such file: .*missing\.json\n$/],
    [['verify', token, '--jwks', file('bad.json', '{"keys": [{"kty": "RSA"}]}')], /key_invalid/],
    [['verify', token, '--jwks', file('notjson.json', 'nope')], /is not JSON/],
    [['verify', token, '--jwks', jwksPath, '--leeway', 'ten'], /--leeway takes a duration like 30s, 15m, 2h, 7d, 2w or 1y/],
    [['verify', token, '--jwks', jwksPath, '--scope', 'a and'], /scope_invalid/],
    [['verify', '--jwks', jwksPath], /missing token/],
    [['verify', token, '--jwks', jwksPath, '--bogus'], /^tokengate: unknown option --bogus; see `tokengate help verify`\n$/],
    [['mint', '--claims', '{}'], /mint needs --key FILE/],
    [['public-jwk'], /needs FILE/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err + r.out, message);
  }
  assert.equal(cli(['--help']).code, 0);
});

test('a closed stdout ends the command quietly with its own exit code', async () => {
  // The reader is gone before the CLI writes its first byte (it has not even loaded yet).
  const closed = (args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy();
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, err }));
    });
  const base = ['verify', token, '--jwks', jwksPath, '--now', String(NOW)];
  assert.deepEqual(await closed(base), { code: 0, err: '' });
  assert.deepEqual(await closed([...base, '--iss', 'https://other.example']), { code: 1, err: '' });
  assert.deepEqual(await closed(['inspect', token, '--now', String(NOW)]), { code: 0, err: '' });
  assert.deepEqual(await closed(['help']), { code: 0, err: '' });
  // As people write it: `| head -1`, the exit code read from PIPESTATUS.
  const sh = spawnSync(
    'bash',
    [
      '-c',
      `"$0" "$1" verify "$2" --jwks "$3" --now ${NOW} --iss https://other.example | head -1; exit "\${PIPESTATUS[0]}"`,
      process.execPath,
      BIN,
      token,
      jwksPath,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(sh.status, 1);
  assert.equal(sh.stderr, '');
  assert.match(sh.stdout, /^rejected: issuer_not_allowed \(401\)/);
});

test('one vocabulary: --issuer/--audience, durations, times, alg names in any case', () => {
  const t = cli([
    'mint',
    '--key',
    privPath,
    '--issuer',
    'https://i',
    '--audience',
    'api',
    '--sub',
    'u',
    '--ttl',
    '2w',
    '--now',
    String(NOW),
  ]);
  assert.equal(t.code, 0, t.err);
  const claims = JSON.parse(Buffer.from(t.out.trim().split('.')[1], 'base64url').toString());
  assert.deepEqual([claims.iss, claims.aud, claims.exp - claims.iat], ['https://i', 'api', 14 * 86400]);
  const verify = (...extra) => cli(['verify', t.out, '--jwks', jwksPath, ...extra]);
  const iso = new Date(NOW * 1000).toISOString();
  for (const [flags, code] of [
    [['--now', String(NOW), '--issuer', 'https://i', '--audience', 'api', '--iss', 'https://j'], 0],
    [['--now', String(NOW), '--aud', 'other'], 1],
    [['--now', iso], 0],
    [['--now', iso.slice(0, 10)], 1], // midnight, before iat
    [['--now', String(NOW + 15 * 86400)], 1],
    [['--now', String(NOW), '--max-lifetime', '1y'], 0],
    [['--now', String(NOW - 90), '--leeway', '2m'], 0],
    [['--now', String(NOW - 90), '--leeway', '1m'], 1],
    [['--now', String(NOW), '--max-lifetime', '1w'], 1],
    [['--now', String(NOW), '--max-lifetime', '2w', '--alg', 'es256'], 0],
  ]) {
    const r = verify(...flags);
    assert.equal(r.code, code, `${flags.join(' ')}: ${r.out}${r.err}`);
  }
  // Relative times count from the wall clock.
  const fresh = cli(['mint', '--key', privPath, '--sub', 'u', '--ttl', '2h']).out;
  for (const [now, code] of [
    ['now', 0],
    ['+1h', 0],
    ['now+1h', 0],
    ['+3h', 1],
    ['-1h', 1],
    ['now-1h', 1],
    ['1h', 1],
  ]) {
    const r = cli(['verify', fresh, '--jwks', jwksPath, '--now', now]);
    assert.equal(r.code, code, `--now ${now}: ${r.out}${r.err}`);
  }
  const ed = cli(['keygen', '--alg', 'eddsa']);
  assert.equal(ed.code, 0, ed.err);
  assert.equal(JSON.parse(ed.out).crv, 'Ed25519');
  for (const [args, message] of [
    [['verify', t.out, '--jwks', jwksPath, '--now', 'yesterday'], /--now takes a time: Unix seconds, ISO 8601/],
    [['mint', '--key', privPath, '--ttl', '3x'], /--ttl takes a duration/],
    [['verify', t.out, '--jwks', jwksPath, '--max-lifetime', 'forever'], /--max-lifetime takes a duration/],
  ]) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, message);
  }
});

test('help: --version, help COMMAND, COMMAND --help, did-you-mean, subcommand lists', () => {
  const version = cli(['--version']);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.deepEqual([version.code, version.out], [0, `tokengate ${pkg.version}\n`]);
  for (const command of ['verify', 'inspect', 'mint', 'keygen', 'public-jwk', 'keys', 'revoke', 'apikey', 'grants', 'status', 'audit']) {
    const help = cli(['help', command]);
    assert.equal(help.code, 0, command);
    assert.match(help.out, new RegExp(`^tokengate ${command}: .*\\n\\nusage: tokengate ${command}`));
    assert.match(help.out, /\nexamples:\n {2}tokengate /);
    assert.equal(cli([command, '--help']).out, help.out);
  }
  assert.match(cli(['help']).out, /^usage: tokengate COMMAND/);
  // A mistyped option or command: one line, exit 2.
  for (const [args, line] of [
    [['verify', token, '--jwks', jwksPath, '--isuer', 'x'], 'unknown option --isuer; did you mean --issuer?'],
    [['verify', token, '--jwks', jwksPath, '--audince', 'x'], 'unknown option --audince; did you mean --audience?'],
    [['mint', '--key', privPath, '--tll', '1h'], 'unknown option --tll; did you mean --ttl?'],
    [['keys', 'rotate', '--isuer', 'x'], 'unknown option --isuer; did you mean --issuer?'],
    [['verfy', token], 'unknown command "verfy"; did you mean verify?'],
    [['keys', 'rotat'], 'unknown subcommand "keys rotat"; did you mean keys rotate?'],
    [['help', 'nope'], 'no command "nope"; `tokengate help` lists them'],
  ]) {
    const r = cli(args);
    assert.deepEqual([r.code, r.out, r.err], [2, '', `tokengate: ${line}\n`], args.join(' '));
  }
  // A group without its subcommand lists them, one line each.
  const keys = cli(['keys']);
  assert.equal(keys.code, 2);
  const lines = keys.err.trimEnd().split('\n');
  assert.equal(lines[0], 'tokengate: keys needs a subcommand:');
  assert.deepEqual(
    lines.slice(1).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' ')),
    ['rotate', 'generate', 'list', 'retire', 'remove', 'cleanup', 'publish', 'fetch'].map((s) => `tokengate keys ${s}`),
  );
});

test('inputs as people paste them: Bearer, whitespace, a JWKS URL, a missing file, a JWKS for a key', () => {
  for (const pasted of [`Bearer ${token}`, `  ${token}\n`, `Authorization: Bearer ${token}\r\n`, `bearer ${token}`]) {
    const r = cli(['verify', pasted, '--jwks', jwksPath, '--now', String(NOW)]);
    assert.equal(r.code, 0, `${JSON.stringify(pasted.slice(0, 20))}: ${r.out}${r.err}`);
    assert.equal(cli(['verify', '-', '--jwks', jwksPath, '--now', String(NOW)], pasted).code, 0);
    assert.equal(cli(['inspect', pasted, '--now', String(NOW)]).code, 0);
  }
  const pub = file('public.json', JSON.stringify(JSON.parse(jwksOut.out).keys[0]));
  const url = 'https://auth.example.com/.well-known/jwks.json';
  const notJwk = (flag, f) =>
    `${flag} takes one private JWK (keygen's output), but ${f} is a JWKS ({"keys": [...]}); give the private key file`;
  for (const [args, line] of [
    [
      ['verify', token, '--jwks', url],
      `--jwks takes a file; for keys at a URL give --jwks-url ${url} (or --issuer-url ISSUER for OIDC discovery)`,
    ],
    [['verify', token, '--jwk', join(dir, 'nope.json')], `no such file: ${join(dir, 'nope.json')}`],
    [['public-jwk', 'nope.json'], 'no such file: nope.json'],
    [['public-jwk', jwksPath], notJwk('public-jwk', jwksPath)],
    [['mint', '--key', jwksPath, '--sub', 'u'], notJwk('--key', jwksPath)],
    [['mint', '--key', pub, '--sub', 'u'], `--key takes a private JWK (keygen's output), but ${pub} is a public key (no "d")`],
    [['verify', token, '--jwks', dir], `${dir} is a directory, not a JWKS file`],
  ]) {
    const r = cli(args);
    assert.deepEqual([r.code, r.err], [2, `tokengate: ${line}\n`], args.join(' '));
  }
});

test('lifecycle commands outside a project, --remote without wrangler, --issuer with several issuers', () => {
  const outside = mkdtempSync(join(tmpdir(), 'tokengate-outside-'));
  for (const args of [['status'], ['keys', 'list'], ['revoke', '--jti', 'x']]) {
    const r = cli(args, undefined, { cwd: outside });
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(
      r.err,
      `tokengate: no wrangler.toml in ${outside}: run lifecycle commands from the project directory (or give --config FILE and --persist-to DIR)\n`,
    );
  }
  const mint = cli(['mint', '--sub', 'u', '--ttl', '15m'], undefined, { cwd: outside });
  assert.deepEqual(
    [mint.code, mint.err],
    [
      2,
      `tokengate: mint needs --key FILE (a private JWK), or a project directory (no wrangler.toml in ${outside}) to sign with an issuer's key in KV\n`,
    ],
  );
  assert.equal(existsSync(join(outside, '.wrangler')), false, 'nothing created');
  const project = mkdtempSync(join(tmpdir(), 'tokengate-project-'));
  const issuers = [
    { issuer: 'https://a.example', audience: 'api', jwks: 'jwks:a' },
    { issuer: 'https://b.example', audience: 'api', jwks: 'jwks:b' },
  ];
  const toml = `name = "t"\n[vars]\nTOKENGATE_CONFIG = '${JSON.stringify({ issuers })}'\n`;
  writeFileSync(join(project, 'wrangler.toml'), toml);
  const remote = cli(['status', '--remote'], undefined, { cwd: project });
  assert.equal(remote.code, 2);
  const wrangler = join(project, 'node_modules', '.bin', 'wrangler');
  assert.equal(
    remote.err,
    `tokengate: --remote needs wrangler, and ${wrangler} does not exist: run from the project directory, after npm install --save-dev wrangler\n`,
  );
  // A --config path that does not exist: one line, exit 2, before any local KV is opened.
  const missing = runCli(['status', '--config', 'nope.json'], { cwd: project, timeout: 20_000 });
  assert.deepEqual([missing.code, missing.err], [2, 'tokengate: no such file: nope.json\n']);
  assert.equal(existsSync(join(project, '.wrangler')), false, 'nothing created for a usage error');
  const several = cli(['keys', 'rotate'], undefined, { cwd: project });
  assert.equal(several.code, 2);
  assert.equal(several.err, 'tokengate: 2 issuers are configured; give --issuer (one of: https://a.example, https://b.example)\n');
  const one = mkdtempSync(join(tmpdir(), 'tokengate-project-'));
  mkdirSync(join(one, 'cfg'));
  writeFileSync(join(one, 'cfg', 'config.json'), JSON.stringify({ issuers: issuers.slice(0, 1) }));
  const used = cli(['keys', 'rotate', '--config', 'cfg/config.json', '--persist-to', 'state', '--json'], undefined, { cwd: one });
  assert.equal(used.code, 0, used.err);
  assert.equal(used.err, 'tokengate: no --issuer given; using the only configured issuer, https://a.example\n');
  assert.equal(JSON.parse(used.out).issuer, 'https://a.example');
});

test('review findings: -v, a subcommand --help, mint --ttl over the default cap warns, an option of another command, a full disk, control characters', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.deepEqual([cli(['-v']).code, cli(['-v']).out], [0, `tokengate ${pkg.version}\n`]);
  const sub = cli(['keys', 'rotate', '--help']);
  assert.equal(sub.code, 0);
  assert.match(
    sub.out,
    /^tokengate keys rotate: add an active key, retire the oldest beyond N \(default: the config's maxActiveKeys\)\n\nusage: tokengate keys rotate \[--issuer ISS\] \[--alg ES256\] \[--max-active N\]\n\nexamples:\n {2}tokengate keys rotate --issuer /,
  );
  assert.equal(cli(['help', 'keys', 'rotate']).out, sub.out);
  assert.notEqual(sub.out, cli(['keys', '--help']).out);
  assert.deepEqual(
    [cli(['help', 'keys', 'nope']).code, cli(['help', 'keys', 'nope']).err],
    [2, 'tokengate: no command "keys nope"; `tokengate help keys` lists its subcommands\n'],
  );

  const year = cli(['mint', '--key', privPath, '--sub', 'u', '--ttl', '1y']);
  assert.equal(year.code, 0);
  assert.match(year.err, /^warning: lifetime 1 year exceeds 30 d — .+ \(tokengate verify accepts it with --max-lifetime\)\n$/);
  assert.equal(cli(['verify', year.out, '--jwks', jwksPath]).code, 1, 'as the warning says');
  assert.equal(cli(['mint', '--key', privPath, '--sub', 'u', '--ttl', '29d']).err, '');

  const wrong = cli(['verify', token, '--jwks', jwksPath, '--ttl', '1h']);
  assert.deepEqual(
    [wrong.code, wrong.err],
    [2, 'tokengate: verify does not take --ttl (mint --key, mint do); see `tokengate help verify`\n'],
  );

  const full = spawnSync(process.execPath, [BIN, 'keygen', '--alg', 'ES256'], {
    stdio: ['ignore', openSync('/dev/full', 'w'), 'pipe'],
    encoding: 'utf8',
  });
  assert.deepEqual([full.status, full.stderr], [1, 'tokengate: cannot write the output: no space left on device\n']);

  // The core refuses control characters in sub; a JWS payload may hold anything JSON leaves raw
  // (C1 controls such as CSI, DEL, bidirectional overrides).
  const evil = cli(['mint', '--key', privPath, '--claims', JSON.stringify({ note: 'a\u009b2J\u007f\u202eb' })]).out.trim();
  const shown = cli(['verify', evil, '--jwks', jwksPath, '--jws']);
  assert.equal(shown.code, 0, shown.err);
  assert.match(
    shown.out.split('\n')[2],
    /^payload \(text\): \{"exp":\d+,"iat":\d+,"jti":"[0-9a-f-]{36}","note":"a\\u009b2J\\u007f\\u202eb"\}$/,
  );
  assert.doesNotMatch(shown.out, RAW_CONTROL);
});

test("README's help excerpts are the CLI's output (the first lines of it, up to the …)", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const excerpts = [...readme.matchAll(/```text\n\$ npx tokengate ([^\n]+)\n([\s\S]*?)```/g)];
  assert.ok(excerpts.length >= 2, 'the README shows help output');
  for (const [, command, body] of excerpts) {
    const lines = body.trimEnd().split('\n');
    assert.equal(lines.at(-1), '…', `${command}: an excerpt ends with …`);
    const out = cli(command.split(' '));
    assert.equal(out.code, 0, command);
    assert.deepEqual(out.out.split('\n').slice(0, lines.length - 1), lines.slice(0, -1), `README's excerpt of \`tokengate ${command}\``);
  }
});
