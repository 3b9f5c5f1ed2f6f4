// `npm run bench`: tokengate (pure wasm, native path, cache) against jose, fast-jwt and
// jsonwebtoken in one Node process, on the same tokens and keys; then decode speed, both wasm
// modules' sizes and compile + instantiate time (fresh processes), the jose comparison inside
// workerd (warm), and cold start: the first 100 / 1,000 / 10,000 validations in fresh workerd
// isolates. Rules (bench/measure.mjs): ≥ 3k warm-up calls, interleaved rounds, median ± spread.
// Prints markdown tables.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createPublicKey, createSecretKey } from 'node:crypto';
import os from 'node:os';
import * as jose from 'jose';
import { createVerifier, createDecoder } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import * as tg from '../js/node.js';
import { ALGS, AUD, ISS, SCOPE, hasScope, material } from './setup.mjs';
import { WARM_CALLS, ROUNDS, fmtRate, interleaved, ratio } from './measure.mjs';
import { coldStart, workerdBench } from './workerd.mjs';

function nodeKey(jwk) {
  return jwk.kty === 'oct' ? createSecretKey(Buffer.from(jwk.k, 'base64url')) : createPublicKey({ key: jwk, format: 'jwk' });
}

async function contenders(alg, m) {
  const keys = { keys: [m.publicJwk] };
  const opts = { keys, issuer: ISS, audience: AUD };
  const wasmV = new tg.Validator({ ...opts, native: false });
  const nativeV = new tg.Validator(opts);
  const cachedV = new tg.Validator({ ...opts, cache: true });
  const call = { scope: SCOPE };
  const joseKey = await jose.importJWK(m.publicJwk, alg);
  const keyObject = nodeKey(m.publicJwk);
  const pem = m.publicJwk.kty === 'oct' ? Buffer.from(m.publicJwk.k, 'base64url') : keyObject.export({ type: 'spki', format: 'pem' });
  const fjOpts = { key: pem, algorithms: [alg], allowedIss: ISS, allowedAud: AUD };
  const fj = createVerifier(fjOpts);
  const fjCache = createVerifier({ ...fjOpts, cache: true });
  const check = (p) => {
    if (!hasScope(p)) throw new Error('scope');
  };
  const t = m.token;
  const list = [
    ['tokengate wasm', () => wasmV.validate(t, call)],
    ['tokengate native', () => nativeV.validate(t, call)],
    ['tokengate async (WebCrypto)', () => nativeV.validateAsync(t, call), true],
    ['tokengate cache hit', () => cachedV.validate(t, call)],
    ['jose', async () => check((await jose.jwtVerify(t, joseKey, { issuer: ISS, audience: AUD, algorithms: [alg] })).payload), true],
    ['fast-jwt', () => check(fj(t))],
    ['fast-jwt cache hit', () => check(fjCache(t))],
  ];
  // jsonwebtoken has no EdDSA.
  if (alg !== 'EdDSA')
    list.push(['jsonwebtoken', () => check(jsonwebtoken.verify(t, pem, { algorithms: [alg], issuer: ISS, audience: AUD }))]);
  return list;
}

const m = await material();
const results = {};
for (const alg of ALGS) {
  process.stderr.write(`  Node ${alg}…\n`);
  results[alg] = await interleaved(await contenders(alg, m[alg]));
}

const names = Object.keys(results.HS256);
const lines = [];
const machine = `${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
lines.push(`Machine: ${machine}`);
lines.push('');
lines.push(
  `Node, full validation (signature + exp + iss + aud + one scope), ops/s: median of ${ROUNDS} interleaved rounds ± half their spread, after ${WARM_CALLS} warm-up calls each; ratio to jose / to fast-jwt:`,
);
lines.push('');
lines.push(`| | ${ALGS.join(' | ')} |`);
lines.push(`|---|${ALGS.map(() => '---').join('|')}|`);
for (const name of names) {
  const cells = ALGS.map((alg) => {
    const v = results[alg][name];
    if (v === undefined) return '–';
    if (name === 'jose' || name.startsWith('fast-jwt')) return fmtRate(v);
    const vsFj = name.includes('cache') ? results[alg]['fast-jwt cache hit'] : results[alg]['fast-jwt'];
    return `${fmtRate(v)} (${ratio(v, results[alg].jose)} / ${ratio(v, vsFj)})`;
  });
  lines.push(`| ${name} | ${cells.join(' | ')} |`);
}

// Decode only (no signature): what an inspector does.
const es = m.ES256.token;
const decode = createDecoder();
const dec = await interleaved([
  ['tokengate inspect', () => tg.inspect(es)],
  ['jose decodeJwt', () => jose.decodeJwt(es)],
  ['fast-jwt decoder', () => decode(es)],
  ['jsonwebtoken decode', () => jsonwebtoken.decode(es, { complete: true })],
]);
lines.push('');
lines.push('Decode / inspect (ES256 token), ops/s:');
lines.push('');
lines.push('| | ops/s |');
lines.push('|---|---|');
for (const [k, v] of Object.entries(dec)) lines.push(`| ${k} | ${fmtRate(v)} |`);

// Size, and compile + instantiate in a fresh Node process each time (V8 caches compiled modules
// within an isolate, so repeating it in this one would time the cache).
const COMPILE = `
const bytes = require('fs').readFileSync(process.argv[1]);
const stub = new Proxy({}, { get: () => new Proxy({}, { get: () => () => {} }) });
const t0 = performance.now();
WebAssembly.instantiate(new WebAssembly.Module(bytes), stub).then(() => console.log(performance.now() - t0));`;
lines.push('');
lines.push('| module | raw | gzip -9 | compile + instantiate (fresh Node process, median of 7) |');
lines.push('|---|---|---|---|');
for (const [name, dir] of [
  ['full (`pkg/`: Node, CLI)', 'pkg'],
  ['edge (`pkg-edge/`: workerd, browsers)', 'pkg-edge'],
]) {
  const file = new URL(`../${dir}/tokengate_bg.wasm`, import.meta.url).pathname;
  const bytes = readFileSync(file);
  const ms = [];
  for (let i = 0; i < 7; i++) ms.push(Number(execFileSync(process.execPath, ['-e', COMPILE, file], { encoding: 'utf8' })));
  ms.sort((a, b) => a - b);
  const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
  lines.push(`| ${name} | ${kib(bytes.length)} | ${kib(gzipSync(bytes, { level: 9 }).length)} | ${ms[3].toFixed(1)} ms |`);
}

// Inside workerd: jose vs tokengate (fast-jwt and jsonwebtoken need Node's crypto).
lines.push('');
lines.push(
  `Inside workerd (Miniflare, edge module), warm, ops/s: median of ${ROUNDS} interleaved rounds ± half their spread, ratio to jose; \`crypto.subtle.verify alone\` is the signature check alone on bytes split beforehand, no parsing and no claims, the floor of any validator built on WebCrypto:`,
);
lines.push('');
const wd = await workerdBench(m);
lines.push(`| | ${ALGS.join(' | ')} |`);
lines.push(`|---|${ALGS.map(() => '---').join('|')}|`);
for (const name of Object.keys(wd.HS256)) {
  lines.push(
    `| ${name} | ${ALGS.map((a) => (name === 'jose' ? fmtRate(wd[a][name]) : `${fmtRate(wd[a][name])} (${ratio(wd[a][name], wd[a].jose)})`)).join(' | ')} |`,
  );
}

// Cold start: fresh isolates.
const cold = await coldStart(m);
lines.push('');
lines.push(
  `Cold start in workerd: ms for the first 100 / 1,000 / 10,000 validations in a fresh isolate (after its one setup request), median of ${cold.runs} isolates each; tokengate is validateAsync (WebCrypto):`,
);
lines.push('');
lines.push('| | first 100 | first 1,000 | first 10,000 |');
lines.push('|---|---|---|---|');
for (const [name, r] of Object.entries(cold.table)) {
  lines.push(`| ${name} | ${r.map((x) => x.toFixed(0)).join(' | ')} |`);
}
if (cold.isolate) {
  lines.push('');
  lines.push(
    "The same validations' CPU in ms, by workerd thread: the isolate's (where the requests run) + V8's background threads (its optimising compiler and GC helpers), each read once the background threads were idle again:",
  );
  lines.push('');
  lines.push('| | first 100 | first 1,000 | first 10,000 |');
  lines.push('|---|---|---|---|');
  for (const name of Object.keys(cold.table)) {
    lines.push(
      `| ${name} | ${[0, 1, 2].map((k) => `${cold.isolate[name][k].toFixed(0)} + ${cold.background[name][k].toFixed(0)}`).join(' | ')} |`,
    );
  }
}
console.log(lines.join('\n'));
