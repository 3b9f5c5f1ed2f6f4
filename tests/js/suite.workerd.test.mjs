// The shared suite in workerd (Miniflare): sync path = wasm, async path = workerd's WebCrypto.
// The worker is bundled by esbuild with the `workerd` export condition, as wrangler does, and
// the wasm stays a separate precompiled module (CompiledWasm), as workerd requires.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { fixtures } from '../runtime/fixtures.mjs';
import cases from '../suite/cases.js';

const root = new URL('../../', import.meta.url);
const out = new URL('artifacts/workerd/', root);
await fixtures();
mkdirSync(new URL('artifacts/pkg/', root), { recursive: true });
copyFileSync(new URL('pkg/tokengate_bg.wasm', root), new URL('artifacts/pkg/tokengate_bg.wasm', root));
await build({
  entryPoints: [new URL('tests/runtime/worker.js', root).pathname],
  outfile: new URL('worker.js', out).pathname,
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  conditions: ['workerd', 'worker', 'browser'],
  external: ['*.wasm'],
  logLevel: 'error',
});

const mf = new Miniflare({
  modules: true,
  scriptPath: new URL('worker.js', out).pathname,
  modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
  compatibilityDate: '2026-04-01',
  host: '127.0.0.1',
});
let results;
try {
  await mf.ready;
  const res = await mf.dispatchFetch('http://localhost/');
  results = await res.json();
} finally {
  await mf.dispose();
}

assert.equal(results.length, cases.length);
for (const r of results) {
  test(`workerd: ${r.name}`, () => {
    if (!r.ok) assert.fail(r.error);
  });
}
