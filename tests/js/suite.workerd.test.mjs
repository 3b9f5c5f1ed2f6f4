// The shared suite in workerd (Miniflare): sync path = wasm, async path = workerd's WebCrypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixtures } from '../runtime/fixtures.mjs';
import { bundleWorker, startWorkerd } from '../runtime/workerd.mjs';
import cases from '../suite/cases.js';

await fixtures();
const mf = await startWorkerd(await bundleWorker('tests/runtime/worker.js', 'suite'));
let results;
try {
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
