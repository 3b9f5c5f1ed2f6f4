// The edge module's hot path and start-up in Node, for comparing builds of pkg-edge/ (size work):
// `node bench/edge.mjs [DIR…]` (default pkg-edge; paths relative to the repo). Each
// module gets its own copy of the JS layer (js/*.js), so several builds run in one process and
// bench/measure.mjs interleaves them round by round: validations per second through the package
// API on the edge glue (HS256 and ES256K in wasm; RS256 and ES256 with WebCrypto, the wasm doing
// parse, key choice and claims), a cache hit and `inspect`; then size, compile + instantiate and
// how much code V8 tiers up (TurboFan) over a fresh process's first 10,000 HS256 validations
// (fresh processes). Prints a markdown table; rates are per CPU second of this process.
import { copyFileSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { ISS, AUD, SCOPE } from './setup.mjs';
import { cpuClock, fmtRate, interleaved, median } from './measure.mjs';

const root = new URL('..', import.meta.url).pathname;
const TIER_PROBE = '--tier-probe';
const dirs = process.argv.length > 2 ? process.argv.slice(2) : ['pkg-edge'];

// Keys and tokens from the full module (the edge module has no signing), in a child process so
// that this one loads only edge modules, as workerd does (no node:crypto primitive either).
const MINT = `
import * as tg from './js/node.js';
const [iss, aud] = process.argv.slice(1);
const now = Math.floor(Date.now() / 1000);
const claims = { iss, aud, sub: 'user-1', iat: now, exp: now + 7200, jti: 'bench-1', scope: 'users:read billing:read' };
const out = {};
for (const alg of ['HS256', 'ES256K', 'RS256', 'ES256']) {
  const key = tg.generateKey(alg, { kid: 'b' });
  // An HMAC key verifies with its secret (it has no public part).
  out[alg] = { keys: { keys: [alg.startsWith('HS') ? key : tg.publicJwk(key)] }, token: tg.mint(key, claims) };
}
console.log(JSON.stringify(out));`;
const material =
  process.argv[2] === TIER_PROBE
    ? JSON.parse(process.env.TOKENGATE_BENCH_MATERIAL)
    : JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', MINT, ISS, AUD], { cwd: root, encoding: 'utf8' }));
const token = (alg) => material[alg].token;
const call = { scope: SCOPE };

/** The package API over the module in `dir`, with a JS layer of its own. */
async function load(dir) {
  const js = mkdtempSync(join(tmpdir(), 'tokengate-bench-'));
  for (const f of readdirSync(join(root, 'js'))) if (f.endsWith('.js')) copyFileSync(join(root, 'js', f), join(js, f));
  const glue = await import(pathToFileURL(join(dir, 'tokengate.js')));
  glue.initSync({ module: readFileSync(join(dir, 'tokengate_bg.wasm')) });
  (await import(pathToFileURL(join(js, 'glue.js')))).setGlue(glue);
  return import(pathToFileURL(join(js, 'core.js')));
}

// The tier-up probe (a child of this script, run with --trace-wasm-compilation-times): HS256
// validations in a fresh process; the parent sums the functions V8 re-compiled with TurboFan.
// V8 optimises a hot function whole, cold branches too, so this is code size that costs a fresh
// isolate CPU, measured without a clock.
const PROBE_CALLS = 10000;
if (process.argv[2] === TIER_PROBE) {
  const tg = await load(resolve(root, process.argv[3]));
  const hs = new tg.Validator({ keys: material.HS256.keys, issuer: ISS, audience: AUD });
  for (let i = 0; i < PROBE_CALLS; i++) hs.validate(token('HS256'), call);
  process.exit(0);
}

function tieredUp(dir) {
  const trace = execFileSync(process.execPath, ['--trace-wasm-compilation-times', process.argv[1], TIER_PROBE, dir], {
    encoding: 'utf8',
    env: { ...process.env, TOKENGATE_BENCH_MATERIAL: JSON.stringify(material) },
    maxBuffer: 64 << 20,
  });
  let bytes = 0;
  let functions = 0;
  for (const m of trace.matchAll(/using TurboFan, .*? bodysize (\d+)/g)) {
    bytes += Number(m[1]);
    functions++;
  }
  return `${(bytes / 1000).toFixed(1)} KB in ${functions} functions`;
}

const contenders = [];
for (const d of dirs) {
  const tg = await load(resolve(root, d));
  const v = (alg, extra) => new tg.Validator({ keys: material[alg].keys, issuer: ISS, audience: AUD, ...extra });
  const [hs, k1, rs, es, cached] = [v('HS256'), v('ES256K'), v('RS256'), v('ES256'), v('HS256', { cache: true })];
  contenders.push(
    [`${d}|HS256 validate`, () => hs.validate(token('HS256'), call)],
    [`${d}|ES256K validate`, () => k1.validate(token('ES256K'), call)],
    [`${d}|RS256 validateAsync`, () => rs.validateAsync(token('RS256'), call), true],
    [`${d}|ES256 validateAsync`, () => es.validateAsync(token('ES256'), call), true],
    [`${d}|HS256 cache hit`, () => cached.validate(token('HS256'), call)],
    [`${d}|inspect`, () => tg.inspect(token('ES256'))],
  );
}
// Per CPU millisecond of this process (env ROUNDS, default 7): the machine this is run on is
// often shared, and wall time would charge other processes' load to whichever module ran then.
const rounds = Number(process.env.ROUNDS ?? 7);
const rates = await interleaved(contenders, {
  rounds,
  clock: cpuClock,
  onProgress: (r, n) => process.stderr.write(`  round ${r}/${n}\n`),
});

// V8 caches compiled modules within an isolate: a fresh process for each sample.
const COMPILE = `
const bytes = require('fs').readFileSync(process.argv[1]);
const stub = new Proxy({}, { get: () => new Proxy({}, { get: () => () => {} }) });
const t0 = performance.now();
WebAssembly.instantiate(new WebAssembly.Module(bytes), stub).then(() => console.log(performance.now() - t0));`;
const names = [...new Set(contenders.map(([n]) => n.split('|')[1]))];
console.log(`| module | raw | gzip -9 | compile + instantiate | tiered up, HS256 ×${PROBE_CALLS / 1000}k | ${names.join(' | ')} |`);
console.log(`|---|---|---|---|---|${names.map(() => '---|').join('')}`);
for (const d of dirs) {
  const file = join(resolve(root, d), 'tokengate_bg.wasm');
  const bytes = readFileSync(file);
  const ms = [];
  for (let i = 0; i < 7; i++) ms.push(Number(execFileSync(process.execPath, ['-e', COMPILE, file], { encoding: 'utf8' })));
  const cells = names.map((n) => fmtRate(rates[`${d}|${n}`]));
  console.log(
    `| ${d} | ${bytes.length} B | ${gzipSync(bytes, { level: 9 }).length} B | ${median(ms).toFixed(1)} ms | ${tieredUp(resolve(root, d))} | ${cells.join(' | ')} |`,
  );
}
