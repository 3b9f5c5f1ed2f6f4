// Runs bench/worker.js in workerd (Miniflare) and times its requests from outside: workerd
// freezes its clocks during a request, so the worker cannot time itself.
import { bundleWorker, startWorkerd } from '../tests/runtime/workerd.mjs';
import { ALGS } from './setup.mjs';
import { ROUNDS, WARM_CALLS, median, summary } from './measure.mjs';

async function timed(mf, query) {
  const t0 = performance.now();
  const res = await mf.dispatchFetch(`http://localhost/run?${query}`);
  if (!res.ok) throw new Error(`${query}: ${await res.text()}`);
  await res.arrayBuffer();
  return performance.now() - t0;
}

const q = (alg, impl, n) => `alg=${alg}&impl=${encodeURIComponent(impl)}&n=${n}`;

async function setup(mf, m, only) {
  const res = await mf.dispatchFetch(`http://localhost/setup${only ? `?only=${encodeURIComponent(only)}` : ''}`, {
    method: 'POST',
    body: JSON.stringify(m),
  });
  if (!res.ok) throw new Error(`setup: ${await res.text()}`);
  return res.json();
}

/**
 * Warm: per algorithm, every implementation gets WARM_CALLS calls, then ROUNDS interleaved
 * rounds; a round times n and 2n iterations back to back, so the difference is n iterations
 * without the dispatch cost. `{ alg: { impl: { median, spread } } }` in ops/s.
 */
export async function workerdBench(m) {
  const mf = await startWorkerd(await bundleWorker('bench/worker.js', 'bench'));
  const out = {};
  try {
    const names = await setup(mf, m);
    for (const alg of ALGS) {
      const sizes = [];
      for (const impl of names) {
        await timed(mf, q(alg, impl, WARM_CALLS));
        let n = 64;
        while ((await timed(mf, q(alg, impl, n))) < 40 && n < 1e7) n *= 2;
        sizes.push(n);
      }
      const rates = names.map(() => []);
      for (let r = 0; r < ROUNDS; r++) {
        for (let j = 0; j < names.length; j++) {
          const i = (j + r) % names.length;
          const one = await timed(mf, q(alg, names[i], sizes[i]));
          const two = await timed(mf, q(alg, names[i], 2 * sizes[i]));
          rates[i].push((sizes[i] / Math.max(two - one, 1e-3)) * 1000);
        }
      }
      out[alg] = Object.fromEntries(names.map((impl, i) => [impl, summary(rates[i])]));
      process.stderr.write(`  workerd ${alg}: ${names.map((n) => `${n} ${Math.round(out[alg][n].median)}`).join(', ')} ops/s\n`);
    }
  } finally {
    await mf.dispose();
  }
  return out;
}

export const COLD_ALGS = ['HS256', 'RS256', 'ES256'];
export const COLD_IMPLS = ['tokengate WebCrypto', 'jose'];
const COLD_RUNS = 3;

/**
 * Cold: for each implementation and algorithm, COLD_RUNS fresh workerd processes (so fresh
 * isolates, the module compiled anew); in each, one setup request builds only that
 * implementation, then requests of 100, 900 and 9,000 validations are timed. The cumulative
 * times less the dispatch cost of an empty request: ms for the first 100 / 1,000 / 10,000.
 */
export async function coldStart(m) {
  const script = await bundleWorker('bench/worker.js', 'bench');
  const table = {};
  for (const impl of COLD_IMPLS) {
    for (const alg of COLD_ALGS) {
      const runs = [];
      for (let r = 0; r < COLD_RUNS; r++) {
        const mf = await startWorkerd(script);
        try {
          await setup(mf, { [alg]: m[alg] }, impl);
          const ms = [];
          for (const n of [100, 900, 9000]) ms.push(await timed(mf, q(alg, impl, n)));
          const empty = [];
          for (let i = 0; i < 5; i++) empty.push(await timed(mf, q(alg, impl, 0)));
          const base = median(empty);
          let sum = 0;
          runs.push(ms.map((t) => (sum += Math.max(t - base, 0))));
        } finally {
          await mf.dispose();
        }
      }
      table[`${impl} ${alg}`] = [0, 1, 2].map((k) => median(runs.map((x) => x[k])));
      process.stderr.write(`  cold ${impl} ${alg}: ${table[`${impl} ${alg}`].map((x) => x.toFixed(0)).join(' / ')} ms\n`);
    }
  }
  return { runs: COLD_RUNS, table };
}
