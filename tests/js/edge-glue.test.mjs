// The edge module's glue as the workerd and browser entries install it (js/edge-glue.js): the
// full module's extra bindings are exactly the ones it names, and each throws an Error naming the
// full module. (The shared suite checks the same through the real entries in workerd and
// Chromium.) And a size guard: the edge module holds none of the full module's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import * as fullGlue from '../../pkg/tokengate.js';
import * as edgeGlueModule from '../../pkg-edge/tokengate.js';
import { edgeGlue, fullOnly } from '../../js/edge-glue.js';

test('the full-only list is what the full module has beyond the edge module', () => {
  const extra = Object.keys(fullGlue).filter((k) => !(k in edgeGlueModule));
  assert.deepEqual([...fullOnly()].sort(), extra.sort());
});

test('a full-only binding on the edge glue throws an Error naming the full module', () => {
  const g = edgeGlue(edgeGlueModule);
  assert.throws(
    () => g.mint('{}', '{}'),
    (e) => {
      assert.equal(e.constructor, Error);
      assert.equal(e.message, "mint is in the full module: import 'tokengate' under Node");
      return true;
    },
  );
  assert.throws(() => g.apiKeyCreate(), { message: "apiKey.create is in the full module: import 'tokengate' under Node" });
  // The edge module's own bindings are its own, untouched.
  assert.equal(g.Validator, edgeGlueModule.Validator);
  assert.equal(g.inspect, edgeGlueModule.inspect);
});

test('the full glue is never altered by the edge filler', () => {
  const g = edgeGlue(fullGlue);
  for (const k of fullOnly()) assert.equal(g[k], fullGlue[k], k);
});

test('the edge module is under 60% of the full module gzipped', () => {
  // 49% when this was written (size-optimised, no RSA/P-256/384/521/Ed25519 signing, key
  // generation or KV writers); the full-only code or the full module's opt-level 3 would take it
  // past 60%.
  const gz = (dir) => gzipSync(readFileSync(new URL(`../../${dir}/tokengate_bg.wasm`, import.meta.url)), { level: 9 }).length;
  const [edge, full] = [gz('pkg-edge'), gz('pkg')];
  assert.ok(edge < 0.6 * full, `edge ${edge} B, full ${full} B gzipped`);
});
