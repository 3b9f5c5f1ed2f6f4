// `npm run bench`: tokengate (pure wasm, native path, cache) against jose, fast-jwt and
// jsonwebtoken in one Node process, on the same tokens and keys; then decode speed, wasm size,
// instantiate time, and the jose comparison inside workerd. Prints markdown tables.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { createPublicKey, createSecretKey } from 'node:crypto';
import os from 'node:os';
import * as jose from 'jose';
import { createVerifier, createDecoder } from 'fast-jwt';
import jsonwebtoken from 'jsonwebtoken';
import * as tg from '../js/node.js';
import { ALGS, AUD, ISS, SCOPE, hasScope, material } from './setup.mjs';
import { opsPerSecond } from './measure.mjs';
import { workerdBench } from './workerd.mjs';

const fmt = (n) =>
  n === undefined ? '–' : n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`;
const ratio = (a, b) => (a === undefined || b === undefined ? '–' : `${(a / b).toFixed(2)}×`);

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
  results[alg] = {};
  for (const [name, fn, isAsync] of await contenders(alg, m[alg])) {
    results[alg][name] = await opsPerSecond(fn, { isAsync });
    process.stderr.write(`  ${alg} ${name}: ${fmt(results[alg][name])} ops/s\n`);
  }
}

const names = Object.keys(results.HS256);
const lines = [];
lines.push(`Machine: ${os.cpus()[0].model}, ${os.cpus().length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
lines.push('');
lines.push('Full validation (signature + exp + iss + aud + one scope), ops/s, ratio to jose / to fast-jwt:');
lines.push('');
lines.push(`| | ${ALGS.join(' | ')} |`);
lines.push(`|---|${ALGS.map(() => '---').join('|')}|`);
for (const name of names) {
  const cells = ALGS.map((alg) => {
    const v = results[alg][name];
    if (v === undefined) return '–';
    if (name === 'jose' || name.startsWith('fast-jwt')) return fmt(v);
    const vsFj = name.includes('cache') ? results[alg]['fast-jwt cache hit'] : results[alg]['fast-jwt'];
    return `${fmt(v)} (${ratio(v, results[alg].jose)} / ${ratio(v, vsFj)})`;
  });
  lines.push(`| ${name} | ${cells.join(' | ')} |`);
}

// Decode only (no signature): what an inspector does.
const es = m.ES256.token;
const decode = createDecoder();
const dec = {
  'tokengate inspect': await opsPerSecond(() => tg.inspect(es)),
  'jose decodeJwt': await opsPerSecond(() => jose.decodeJwt(es)),
  'fast-jwt decoder': await opsPerSecond(() => decode(es)),
  'jsonwebtoken decode': await opsPerSecond(() => jsonwebtoken.decode(es, { complete: true })),
};
lines.push('');
lines.push('Decode / inspect (ES256 token), ops/s:');
lines.push('');
lines.push('| | ops/s |');
lines.push('|---|---|');
for (const [k, v] of Object.entries(dec)) lines.push(`| ${k} | ${fmt(v)} |`);

// Size and instantiate time.
const wasmBytes = readFileSync(new URL('../pkg/tokengate_bg.wasm', import.meta.url));
const inst = [];
for (let i = 0; i < 7; i++) {
  const t0 = performance.now();
  await WebAssembly.instantiate(await WebAssembly.compile(wasmBytes), { './tokengate_bg.js': new Proxy({}, { get: () => () => {} }) });
  inst.push(performance.now() - t0);
}
inst.sort((a, b) => a - b);
lines.push('');
lines.push(
  `wasm: ${(wasmBytes.length / 1024).toFixed(0)} KiB raw, ${(gzipSync(wasmBytes, { level: 9 }).length / 1024).toFixed(0)} KiB gzipped; compile + instantiate median ${inst[3].toFixed(1)} ms (Node)`,
);

// Inside workerd: jose vs tokengate (fast-jwt and jsonwebtoken need Node's crypto).
lines.push('');
lines.push('Inside workerd (Miniflare, same machine), ops/s, ratio to jose:');
lines.push('');
const wd = await workerdBench(m);
lines.push(`| | ${ALGS.join(' | ')} |`);
lines.push(`|---|${ALGS.map(() => '---').join('|')}|`);
for (const name of Object.keys(wd.HS256)) {
  lines.push(
    `| ${name} | ${ALGS.map((a) => (name === 'jose' ? fmt(wd[a][name]) : `${fmt(wd[a][name])} (${ratio(wd[a][name], wd[a].jose)})`)).join(' | ')} |`,
  );
}
console.log(lines.join('\n'));
