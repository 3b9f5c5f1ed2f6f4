// `npm run load [-- --duration 25 --connections 16 --cache-ttl 3 --url http://127.0.0.1:8787]`
//
// Load on the edge worker with a mix of credentials, each with the status (and code) it must get,
// across several cache reloads. Without --url it starts its own worker: the real worker/index.js,
// bundled as wrangler does, in workerd through Miniflare, on a free 127.0.0.1 port, over a local
// KV persisted on disk (the same store `wrangler dev` uses) that scripts/seed.mjs seeds exactly as
// for `npm start`, in a temporary directory. It is not `npm start` itself, so that the run picks a
// free port, never touches the developer's .wrangler/state, and can set a short cacheTtl (through
// TOKENGATE_CONFIG, without writing a `config` key into anyone's KV) so a short run crosses
// several reloads. With --url it loads a running `npm start` (127.0.0.1 only), minting with the
// demo key it seeded in .wrangler/demo/; its cacheTtl is wrangler.toml's (60 s).
//
// Prints req/s, p50/p99 latency and the statuses per kind; exits 1 on any 5xx, any unexpected
// status or code, any socket error or timeout, or (own worker) fewer than two observed reloads.
// The exports are shared with tests/js/load.test.mjs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { parse as parseToml } from 'smol-toml';
import * as tg from '../js/node.js';
import { bundleWorker, startWorkerd } from '../tests/runtime/workerd.mjs';

const ROOT = new URL('../', import.meta.url).pathname;
const HEALTH = '/.well-known/tokengate/health';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** wrangler.toml's TOKENGATE_CONFIG, the demo configuration `npm start` serves. */
export function demoConfig() {
  const toml = parseToml(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'));
  // With every default filled in by the core, as the worker sees it.
  return tg.workerConfig(toml.vars.TOKENGATE_CONFIG);
}

/** Seeds a fresh local KV exactly as `npm start` does (scripts/seed.mjs), in a temporary directory. */
export function seedDemo() {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-load-'));
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/seed.mjs')], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`scripts/seed.mjs failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return { dir, ...readDemo(dir) };
}

/** The demo signing key and API key that scripts/seed.mjs keeps in DIR/.wrangler/demo/. */
export function readDemo(dir) {
  const priv = JSON.parse(readFileSync(join(dir, '.wrangler/demo/private.json'), 'utf8'));
  const { raw } = JSON.parse(readFileSync(join(dir, '.wrangler/demo/apikey.json'), 'utf8'));
  return { priv, apiKey: raw };
}

/**
 * Starts `script` (the worker, or a test wrapper of it) in workerd on a free 127.0.0.1 port with
 * the seeded demo KV and wrangler.toml's configuration plus `overrides`. Returns { url, mf, demo,
 * config, log, close }. `log` keeps the worker's stderr lines (bounded) for diagnostics.
 */
export async function startDemoWorker({ script = 'worker/index.js', name = 'load-worker', overrides = {}, seeded } = {}) {
  // `seeded`: another instance's seeded directory, reused (and left for its owner to remove).
  const demo = seeded ?? seedDemo();
  const remove = () => seeded || rmSync(demo.dir, { recursive: true, force: true });
  const config = { ...demoConfig(), ...overrides };
  const log = { lines: [], dropped: 0 };
  const keep = (stream) => {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop();
      for (const l of lines)
        if (log.lines.length < 2000) log.lines.push(l);
        else log.dropped++;
    });
  };
  let mf;
  try {
    mf = await startWorkerd(await bundleWorker(script, name), {
      port: 0,
      kvNamespaces: { TOKENGATE: 'tokengate-local' },
      kvPersist: join(demo.dir, '.wrangler/state/v3/kv'),
      bindings: { TOKENGATE_CONFIG: JSON.stringify(config) },
      handleRuntimeStdio: (stdout, stderr) => {
        keep(stdout);
        keep(stderr);
      },
    });
  } catch (e) {
    remove();
    throw e;
  }
  const url = new URL(await mf.ready).origin;
  return {
    url,
    mf,
    demo,
    config,
    log,
    async close() {
      await mf.dispose();
      remove();
    },
  };
}

/**
 * The credential mix: each kind with its request and what it must get. `expect.code` is the
 * body's `code` (or `error` when there is no code); `expect.subject` is the identity the echo
 * upstream must show on a 200, so a 200 from anything else is not mistaken for the worker's.
 */
export function tokenMix({ priv, apiKey }, config = demoConfig()) {
  const issuer = config.issuers[0];
  const now = Math.floor(Date.now() / 1000);
  const claims = (c) => ({
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 'user-1',
    type: 'access',
    tenant: 'acme',
    iat: now - 5,
    exp: now + 3600,
    jti: crypto.randomUUID(),
    scope: 'users:read',
    ...c,
  });
  const valid = tg.mint(priv, claims());
  const stranger = tg.generateKey('ES256', { kid: 'load-unknown-kid' });
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  const kinds = [
    ['valid', '/api/users', bearer(valid), 200, null, 'user-1'],
    ['no_scope', '/api/admin', bearer(valid), 403, 'insufficient_scope'],
    ['expired', '/api/users', bearer(tg.mint(priv, claims({ iat: now - 7200, exp: now - 3600 }))), 401, 'token_expired'],
    ['bad_signature', '/api/users', bearer(`${valid.slice(0, -6)}AAAAAA`), 401, 'signature_invalid'],
    ['unknown_kid', '/api/users', bearer(tg.mint(stranger, claims())), 401, 'key_not_found'],
    ['revoked', '/api/users', bearer(tg.mint(priv, claims({ jti: 'demo-revoked' }))), 401, 'token_revoked'],
    ['malformed_header', '/api/users', { Authorization: 'Basic dXNlcjpwYXNz' }, 400, 'invalid_request'],
    ['no_credential', '/api/users', {}, 401, 'credential_missing'],
    ['api_key', '/api/users', { 'X-API-Key': apiKey }, 200, null, 'svc-ci'],
    ['api_key_unknown', '/api/users', { 'X-API-Key': tg.apiKey.generate() }, 401, 'apikey_unknown'],
    ['anonymous', '/api/public/ping', {}, 200, null, null],
  ];
  return kinds.map(([kind, path, headers, status, code, subject]) => ({
    kind,
    method: 'GET',
    path,
    headers,
    expect: { status, code, subject },
  }));
}

/** Headers that show the health details (a token with the configured `healthScope`). */
export function healthHeaders({ priv }, config = demoConfig()) {
  const issuer = config.issuers[0];
  const now = Math.floor(Date.now() / 1000);
  const token = tg.mint(priv, {
    iss: issuer.issuer,
    aud: issuer.audience,
    sub: 'load-test',
    type: 'access',
    iat: now - 5,
    exp: now + 3600,
    jti: crypto.randomUUID(),
    scope: config.healthScope,
  });
  return { Authorization: `Bearer ${token}` };
}

/** What one response was: { status, code, error, subject, retryAfter[, text when not JSON] }. */
export function outcome(status, body, headers = {}) {
  let json = null;
  try {
    json = JSON.parse(body);
  } catch {
    // not JSON: no code, so it cannot match an expectation that names one
  }
  const header = (name) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
  return {
    status,
    code: json?.code ?? json?.error ?? null,
    error: json?.error ?? null,
    subject: json?.identity ? (json.identity['x-auth-subject'] ?? null) : undefined,
    retryAfter: header('retry-after') ?? null,
    ...(json ? {} : { text: String(body).slice(0, 120) }),
  };
}

/** The worker's 503 for unavailable data: never a 500, never an accept. */
export const UNAVAILABLE = { status: 503, code: 'data_unavailable' };

/** Whether an outcome is one of the allowed ones (`{status, code?, subject?}` each). */
export function matches(o, allowed) {
  return allowed.some((a) => {
    if (o.status !== a.status) return false;
    if (a.status === 200) return o.subject === (a.subject ?? null);
    if (a.status === 503) return o.error === 'temporarily_unavailable' && o.retryAfter !== null;
    return a.code == null || o.code === a.code;
  });
}

/**
 * Runs autocannon over the mix for `duration` seconds. `onOutcome(kind, outcome, { sentAt, at }, expect)` sees every
 * response (default: nothing); `until` (a promise) ends it early. Returns { result, kinds } with
 * status counts per kind.
 */
export async function runLoad({ url, mix, duration, connections, until, onOutcome = () => {} }) {
  const kinds = Object.fromEntries(mix.map((m) => [m.kind, { expect: m.expect, count: 0, statuses: {} }]));
  const requests = mix.map((m) => ({
    method: m.method,
    path: m.path,
    headers: m.headers,
    // Called as each request is built, right before it is written (one request in flight per
    // connection), so `context.sentAt` is when the response's request left.
    setupRequest(req, context) {
      context.sentAt = Date.now();
      return req;
    },
    onResponse(status, body, context, headers) {
      const k = kinds[m.kind];
      k.count++;
      k.statuses[status] = (k.statuses[status] ?? 0) + 1;
      onOutcome(m.kind, outcome(status, body, headers), { sentAt: context.sentAt, at: Date.now() }, m.expect);
    },
  }));
  const instance = autocannon({ url, connections, duration, requests, timeout: 10 });
  until?.then(() => instance.stop());
  const result = await instance;
  return { result, kinds };
}

/** Samples the health endpoint (with `headers` that show its details): counts key-set reloads (age resets) and KV reads until stopped. */
export function watchReloads(url, headers, everyMs = 200) {
  const seen = { reloads: 0, samples: 0, failures: 0, firstReads: null, lastReads: null };
  let prevAge = null;
  let stop = false;
  const done = (async () => {
    while (!stop) {
      try {
        const h = await (await fetch(`${url}${HEALTH}`, { headers })).json();
        const age = h.issuers?.[0]?.ageSeconds ?? null;
        if (age !== null && prevAge !== null && age < prevAge) seen.reloads++;
        if (age !== null) prevAge = age;
        seen.firstReads ??= h.kv?.reads ?? null;
        seen.lastReads = h.kv?.reads ?? null;
        seen.samples++;
      } catch {
        seen.failures++;
      }
      await sleep(everyMs);
    }
  })();
  return async () => {
    stop = true;
    await done;
    return seen;
  };
}

const LOOPBACK = (host) => host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);

function table(kinds, unexpected) {
  const rows = [['kind', 'expected', 'responses', 'statuses', 'unexpected']];
  for (const [kind, k] of Object.entries(kinds)) {
    const want = `${k.expect.status}${k.expect.code ? ` ${k.expect.code}` : ''}`;
    const got = Object.entries(k.statuses)
      .map(([s, n]) => `${s}×${n}`)
      .join(' ');
    rows.push([kind, want, String(k.count), got || '-', String(unexpected[kind] ?? 0)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => '  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n');
}

async function main() {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', short: 'd', default: '25' },
      connections: { type: 'string', short: 'c', default: '16' },
      url: { type: 'string', short: 'u' },
      'cache-ttl': { type: 'string', default: '3' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run load -- [--duration S (1-300)] [--connections N (1-256)] [--cache-ttl S] [--url http://127.0.0.1:PORT]');
    return 0;
  }
  const duration = Number(values.duration);
  const connections = Number(values.connections);
  const cacheTtl = Number(values['cache-ttl']);
  if (!(Number.isInteger(duration) && duration >= 1 && duration <= 300)) throw new Error('--duration: 1 to 300 seconds');
  if (!(Number.isInteger(connections) && connections >= 1 && connections <= 256)) throw new Error('--connections: 1 to 256');
  if (!(cacheTtl > 0 && cacheTtl <= 3600)) throw new Error('--cache-ttl: seconds, > 0');

  let target;
  let demo;
  let config;
  let own = null;
  if (values.url) {
    const u = new URL(values.url);
    if (u.protocol !== 'http:' || !LOOPBACK(u.hostname)) throw new Error('--url must be http:// on 127.0.0.0/8, localhost or [::1]');
    target = u.origin;
    demo = readDemo(ROOT);
    config = demoConfig();
  } else {
    process.stderr.write('tokengate load: seeding a local KV and starting the worker in workerd…\n');
    own = await startDemoWorker({ overrides: { cacheTtl } });
    ({ url: target, demo, config } = own);
  }
  try {
    const healthAuth = healthHeaders(demo, config);
    const health = await fetch(`${target}${HEALTH}`, { headers: healthAuth });
    const text = await health.text();
    if (!health.ok || JSON.parse(text).version !== tg.version())
      throw new Error(
        `${target} does not answer as this tokengate worker with the demo key (health ${health.status}: ${text.slice(0, 200)})`,
      );
    const mix = tokenMix(demo, config);
    const unexpected = {};
    const samples = [];
    const stopWatch = watchReloads(target, healthAuth);
    process.stderr.write(`tokengate load: ${duration} s, ${connections} connections on ${target}…\n`);
    const { result, kinds } = await runLoad({
      url: target,
      mix,
      duration,
      connections,
      onOutcome(kind, o, _at, expect) {
        if (matches(o, [expect])) return;
        unexpected[kind] = (unexpected[kind] ?? 0) + 1;
        if (samples.length < 10) samples.push({ kind, ...o });
      },
    });
    const reloads = await stopWatch();
    const five = Object.values(kinds).reduce((n, k) => n + Object.entries(k.statuses).reduce((m, [s, c]) => m + (s >= 500 ? c : 0), 0), 0);
    const bad = Object.values(unexpected).reduce((a, b) => a + b, 0);
    const served = own ? `own worker (workerd via Miniflare, seeded local KV, cacheTtl ${cacheTtl} s)` : `cacheTtl ${config.cacheTtl} s`;
    console.log(`
tokengate load: ${duration} s, ${connections} connections, ${target} — ${served}
  requests ${result.requests.total} (${Math.round(result.requests.average)} req/s), latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms
  socket errors ${result.errors}, timeouts ${result.timeouts}, 5xx ${five}, unexpected ${bad}
  key-set reloads observed ${reloads.reloads} (health age resets), KV reads ${reloads.lastReads - reloads.firstReads}

${table(kinds, unexpected)}
`);
    for (const s of samples) console.log(`  unexpected: ${JSON.stringify(s)}`);
    const problems = [];
    if (five) problems.push(`${five} 5xx`);
    if (bad) problems.push(`${bad} unexpected statuses`);
    if (result.errors || result.timeouts) problems.push(`${result.errors} socket errors, ${result.timeouts} timeouts`);
    for (const [kind, k] of Object.entries(kinds)) if (k.count === 0) problems.push(`no response for ${kind}`);
    if (own && reloads.reloads < 2)
      problems.push(`only ${reloads.reloads} cache reloads observed (need ≥ 2: run longer than 2 × cacheTtl)`);
    if (!own && reloads.reloads < 2)
      console.log(`  note: ${reloads.reloads} reloads observed; the target's cacheTtl is ${config.cacheTtl} s, run longer to cross two`);
    if (own && own.log.lines.some((l) => /hung|uncaught/i.test(l)))
      problems.push(`worker log: ${own.log.lines.filter((l) => /hung|uncaught/i.test(l)).length} hung/uncaught lines`);
    console.log(problems.length ? `FAIL: ${problems.join('; ')}` : 'OK: every response had its expected status, no 5xx, no socket errors');
    return problems.length ? 1 : 0;
  } finally {
    await own?.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (e) => {
      console.error(`tokengate load: ${e.message}`);
      process.exit(2);
    },
  );
}
