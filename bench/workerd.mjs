// Runs bench/worker.js in workerd (Miniflare) and times its requests from outside.
import { mkdirSync, copyFileSync } from 'node:fs';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { ALGS } from './setup.mjs';

const root = new URL('../', import.meta.url);

async function timed(mf, query) {
  const t0 = performance.now();
  const res = await mf.dispatchFetch(`http://localhost/run?${query}`);
  if (!res.ok) throw new Error(`${query}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function workerdBench(m) {
  mkdirSync(new URL('artifacts/pkg/', root), { recursive: true });
  copyFileSync(new URL('pkg/tokengate_bg.wasm', root), new URL('artifacts/pkg/tokengate_bg.wasm', root));
  const script = new URL('artifacts/bench/worker.js', root).pathname;
  await build({
    entryPoints: [new URL('bench/worker.js', root).pathname],
    outfile: script,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['*.wasm'],
    logLevel: 'error',
  });
  const mf = new Miniflare({
    modules: true,
    scriptPath: script,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    host: '127.0.0.1',
  });
  const out = {};
  try {
    await mf.ready;
    const names = await (await mf.dispatchFetch('http://localhost/setup', { method: 'POST', body: JSON.stringify(m) })).json();
    for (const alg of ALGS) {
      out[alg] = {};
      for (const impl of names) {
        const q = (n) => `alg=${alg}&impl=${encodeURIComponent(impl)}&n=${n}`;
        await timed(mf, q(50)); // warm up
        // Grow n until a request takes at least 100 ms; then time n and 2n back to back, so the
        // difference is n iterations without the dispatch cost. Median of 5 pairs.
        let n = 50;
        while ((await timed(mf, q(n))) < 100 && n < 1e7) n *= 2;
        const diffs = [];
        for (let i = 0; i < 5; i++) {
          const one = await timed(mf, q(n));
          const two = await timed(mf, q(2 * n));
          diffs.push(two - one);
        }
        out[alg][impl] = (n / Math.max(median(diffs), 1e-3)) * 1000;
        process.stderr.write(`  workerd ${alg} ${impl}: ${Math.round(out[alg][impl])} ops/s\n`);
      }
    }
  } finally {
    await mf.dispose();
  }
  return out;
}
