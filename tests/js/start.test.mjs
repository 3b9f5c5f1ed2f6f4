// `npm start` as a user runs it: builds, seeds the local KV, serves on 127.0.0.1 with wrangler dev
// at PORT; the curl lines it prints (once the worker answers) behave as described.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { ROOT, freePort, runCli } from '../runtime/helpers.mjs';

const PORT = await freePort();
const base = `http://127.0.0.1:${PORT}`;
// PORT alone: what it prints (the curl lines) must follow it.
const child = spawn('bash', ['scripts/start.sh'], {
  cwd: ROOT,
  env: { ...process.env, PORT: String(PORT), TOKENGATE_URL: '' },
  detached: true,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
after(() => {
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    // already gone
  }
});

/** Once the curl lines are printed: npm start prints them only when the worker answers. */
async function ready() {
  for (let i = 0; i < 600; i++) {
    if (output.includes('tokengate demo: seeded local KV')) return;
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`npm start did not print its curl lines:\n${output}`);
}

test(
  'npm start prints its curl lines for PORT only once the worker answers there; no Request.cf warning offline',
  { timeout: 300_000 },
  async () => {
    await ready();
    // Ours: wrangler said so before the lines, and the worker answers at once (no retry).
    const readyAt = output.indexOf(`Ready on ${base}`);
    assert.ok(readyAt !== -1 && readyAt < output.indexOf('tokengate demo: seeded local KV'), output);
    const health = await fetch(`${base}/.well-known/tokengate/health`);
    assert.equal(health.status, 200, await health.text());
    assert.ok(output.includes(`serving on ${base}\n`), output);
    assert.doesNotMatch(output, /Request\.cf/);
    assert.doesNotMatch(output, /127\.0\.0\.1:8787/);
  },
);

/** The printed curl lines as fetch calls: [comment, url, headers]. */
function curlLines() {
  const lines = output.split('\n');
  const out = [];
  for (let i = 1; i < lines.length; i++) {
    const m = /^\s+curl -i (\S+)(?: -H '([^:]+): ([^']+)')?$/.exec(lines[i]);
    if (m) out.push([lines[i - 1].trim(), m[1], m[2] ? { [m[2]]: m[3] } : {}]);
  }
  return out;
}

test('npm start serves the worker and the inspector; the printed curl lines do what they say', { timeout: 300_000 }, async () => {
  await ready();
  const lines = curlLines();
  assert.equal(lines.length, 7, output);
  for (const [comment, url, headers] of lines) {
    const res = await fetch(url, { headers });
    const body = await res.text();
    const expected = Number(/: (\d{3})/.exec(comment)?.[1]);
    assert.equal(res.status, expected, `${comment}\n${body}`);
    const code = /\d{3} ([a-z]+_[a-z_]+)/.exec(comment)?.[1];
    if (code) assert.equal(JSON.parse(body).code, code, comment);
    if (new URL(url).pathname === '/.well-known/jwks.json') {
      // The demo issuer's public keys: at least one, each with a kid, none with private parts.
      const { keys } = JSON.parse(body);
      assert.ok(keys.length >= 1, body);
      for (const k of keys) assert.ok(typeof k.kid === 'string' && k.d === undefined, JSON.stringify(k));
      assert.match(res.headers.get('cache-control'), /^public, max-age=\d+$/);
    }
  }
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /tokengate inspector/);
  assert.equal((await fetch(`${base}/lib/pkg-edge/tokengate_bg.wasm`)).headers.get('content-type'), 'application/wasm');
});

test('a revocation made with the CLI takes effect in the running npm start worker within its cache TTL', { timeout: 300_000 }, async () => {
  await ready();
  const [, url, headers] = curlLines()[0]; // the valid token
  const token = headers.Authorization.slice('Bearer '.length);
  assert.equal((await fetch(url, { headers })).status, 200);
  const cli = runCli(['revoke', '--token', token, '--actor', 'start-test', '--json'], { cwd: ROOT });
  assert.equal(cli.code, 0, cli.err);
  const revokedAt = Date.now();
  // wrangler.toml's cacheTtl is 60 s: the worker may serve its cached list until then.
  for (;;) {
    const res = await fetch(url, { headers });
    if (res.status === 401) {
      assert.equal((await res.json()).code, 'token_revoked');
      break;
    }
    assert.equal(res.status, 200);
    assert.ok(Date.now() - revokedAt < 75_000, 'revocation not applied within the cache TTL');
    await new Promise((r) => setTimeout(r, 1000));
  }
  const status = runCli(['status', '--json'], { cwd: ROOT });
  assert.equal(status.code, 0, status.out);
});
