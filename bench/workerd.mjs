// Runs bench/worker.js in workerd (Miniflare) and times its requests from outside.
import { bundleWorker, startWorkerd } from '../tests/runtime/workerd.mjs';
import { ALGS } from './setup.mjs';

async function timed(mf, query) {
  const t0 = performance.now();
  const res = await mf.dispatchFetch(`http://localhost/run?${query}`);
  if (!res.ok) throw new Error(`${query}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function workerdBench(m) {
  const mf = await startWorkerd(await bundleWorker('bench/worker.js', 'bench'));
  const out = {};
  try {
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
