// `npm run bench:cli`: wall time of each lifecycle command on local KV, as an operator runs it (a
// fresh `node bin/tokengate.js …` process per run, in a scratch project seeded with keys,
// revocations, API keys, grants and audit records), through each local KV path:
//  - miniflare: Miniflare starts workerd for the command (TOKENGATE_LOCAL_KV=miniflare, the
//    only path before the direct one, and the fallback);
//  - direct: the CLI starts workerd itself with Miniflare's own KV storage worker (the default).
// Prints the median of 5 runs per command and path (`--runs N`, `--only direct|miniflare`,
// `--json`). Progress goes to stderr.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const BIN = new URL('../bin/tokengate.js', import.meta.url).pathname;
const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, only: { type: 'string' }, json: { type: 'boolean' }, keep: { type: 'boolean' } },
});
const RUNS = Number(opts.runs);
const ISS = 'https://bench.example';
const config = {
  issuers: [{ issuer: ISS, audience: 'api', jwks: 'jwks:bench', tenantGrants: { tenantClaim: 'tenant', moduleClaim: 'module' } }],
};
const dir = mkdtempSync(join(tmpdir(), 'tokengate-bench-cli-'));
writeFileSync(join(dir, 'wrangler.toml'), `name = "bench"\n[vars]\nTOKENGATE_CONFIG = '''\n${JSON.stringify(config)}\n'''\n`);

function run(args, mode) {
  const env = { ...process.env, TOKENGATE_ACTOR: 'bench' };
  if (mode === 'miniflare') env.TOKENGATE_LOCAL_KV = 'miniflare';
  else delete env.TOKENGATE_LOCAL_KV;
  const t = performance.now();
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      const ms = performance.now() - t;
      if (code !== 0 && !(args[0] === 'status' && code === 1))
        reject(new Error(`tokengate ${args.join(' ')} exited ${code}\n${out}${err}`));
      else resolve({ ms, out });
    }),
  );
}

const log = (s) => process.stderr.write(`${s}\n`);

// A store like a project's after some use: keys, revocations, API keys, grants, audit records.
log(`seeding ${dir}`);
for (let i = 0; i < 3; i++) await run(['keys', 'rotate', '--issuer', ISS], 'direct');
for (let i = 0; i < 5; i++) await run(['revoke', '--jti', `seed-${i}`, '--issuer', ISS], 'direct');
await run(['revoke', '--subject', 'seed-user'], 'direct');
for (let i = 0; i < 5; i++)
  await run(['apikey', 'create', '--name', `seed ${i}`, '--owner', `svc-${i}`, '--scopes', 'users:read'], 'direct');
await run(['grants', 'grant', '--tenant', 'acme', '--module', 'music', '--scope', 'users:read', '--scope', 'billing:read'], 'direct');
const AK = JSON.parse((await run(['apikey', 'create', '--name', 'bench', '--owner', 'svc-bench', '--json'], 'direct')).out).record.id;
const TOKEN = (await run(['mint', '--issuer', ISS, '--sub', 'user-1', '--ttl', '1h'], 'direct')).out.trim();

let n = 0;
const COMMANDS = [
  ['read', ['status']],
  ['read', ['keys', 'list', '--issuer', ISS]],
  ['read', ['revocations', 'list']],
  ['read', ['apikey', 'list']],
  ['read', ['audit', 'list']],
  ['read', ['grants', 'list', '--tenant', 'acme']],
  ['write', ['mint', '--issuer', ISS, '--sub', 'user-2']],
  ['write', () => ['revoke', '--jti', `bench-${n++}`, '--issuer', ISS]],
  ['write', ['revoke', '--token', TOKEN]],
  ['write', ['revocations', 'compact']],
  ['write', ['revocations', 'prune']],
  ['write', ['keys', 'rotate', '--issuer', ISS]],
  ['write', ['keys', 'cleanup', '--issuer', ISS]],
  ['write', () => ['apikey', 'create', '--name', `bench ${n++}`, '--owner', 'svc-bench']],
  ['write', ['apikey', 'rotate', AK]],
  ['write', ['grants', 'grant', '--tenant', 'acme', '--module', 'video', '--scope', 'users:read']],
  ['write', ['grants', 'revoke', '--tenant', 'acme', '--module', 'video', '--scope', 'users:read']],
];
const MODES = opts.only ? [opts.only] : ['miniflare', 'direct'];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
for (const [kind, spec] of COMMANDS) {
  const label = (typeof spec === 'function' ? spec() : spec).join(' ').replace(ISS, 'ISS').replace(AK, 'ID').replace(TOKEN, 'TOKEN');
  const row = { command: label, kind };
  // Alternate the paths run by run, so both see the same machine load and store size.
  const times = Object.fromEntries(MODES.map((m) => [m, []]));
  for (let i = 0; i < RUNS; i++) for (const m of MODES) times[m].push((await run(typeof spec === 'function' ? spec() : spec, m)).ms);
  for (const m of MODES) row[m] = Math.round(median(times[m]));
  log(`${label}: ${MODES.map((m) => `${m} ${row[m]} ms`).join(', ')}`);
  rows.push(row);
}
if (!opts.keep) rmSync(dir, { recursive: true, force: true });

if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
else {
  const names = { miniflare: 'through Miniflare (before), ms', direct: 'direct workerd (now), ms' };
  const head = ['command', 'kind', ...MODES.map((m) => names[m]), ...(MODES.length === 2 ? ['speed-up'] : [])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows)
    lines.push(
      `| \`${r.command}\` | ${r.kind} | ${MODES.map((m) => r[m]).join(' | ')}${MODES.length === 2 ? ` | ${(r.miniflare / r.direct).toFixed(1)}× |` : ' |'}`,
    );
  process.stdout.write(
    `Lifecycle commands on local KV, wall time per process, median of ${RUNS} (Node ${process.version}, ${process.platform}):\n\n${lines.join('\n')}\n`,
  );
}
