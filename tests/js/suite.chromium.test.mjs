// The shared suite in headless Chromium: sync path = wasm, async path = the browser's WebCrypto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { fixtures } from '../runtime/fixtures.mjs';
import { serve } from '../runtime/serve.mjs';
import { launch } from '../runtime/chromium.mjs';
import cases from '../suite/cases.js';

await fixtures();
const server = await serve(fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, ''));
const browser = await launch();
let results;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.address().port}/tests/runtime/page.html`);
  await page
    .waitForFunction(() => window.results || null, null, { timeout: 120_000 })
    .catch(() => {
      throw new Error(`suite did not finish in Chromium: ${errors.join('; ')}`);
    });
  results = await page.evaluate(() => window.results);
} finally {
  await browser.close();
  server.close();
}

assert.equal(results.length, cases.length);
for (const r of results) {
  test(`chromium: ${r.name}`, () => {
    if (!r.ok) assert.fail(r.error);
  });
}
