// Runs bench/worker.js in workerd (Miniflare) and times its requests from outside: workerd
// freezes its clocks during a request, so the worker cannot time itself.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
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

// CPU by thread of the workerd processes this one started (Linux /proc; null elsewhere): the
// isolate's thread, which runs the requests, and V8's background threads (its optimising
// compiler, for wasm and JS alike, and GC helpers).
const PROC = existsSync('/proc/self/task');

function descendants(pid, out = []) {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    let kids = '';
    try {
      kids = readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    for (const c of kids.split(' ').filter(Boolean)) {
      out.push(Number(c));
      descendants(Number(c), out);
    }
  }
  return out;
}

function workerdPids() {
  if (!PROC) return [];
  return descendants(process.pid).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0].endsWith('workerd');
    } catch {
      return false;
    }
  });
}

/** `{ isolate, background }` ms of CPU so far (schedstat: nanoseconds on the CPU). */
function threadCpu(pids) {
  const ms = { isolate: 0, background: 0 };
  for (const pid of pids) {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const on = Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
        const name = readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim();
        if (task === String(pid)) ms.isolate += on;
        else if (name.startsWith('V8 ')) ms.background += on;
      } catch {
        // the thread ended
      }
    }
  }
  return ms;
}

/** The CPU once V8's background threads are done with what the last request started. */
async function settledCpu(pids) {
  let last = threadCpu(pids);
  for (let i = 0; i < 50; i++) {
    await sleep(20);
    const now = threadCpu(pids);
    if (now.background - last.background < 0.05) return now;
    last = now;
  }
  return last;
}

/**
 * Cold: for each implementation and algorithm, COLD_RUNS fresh workerd processes (so fresh
 * isolates, the module compiled anew); in each, one setup request builds only that
 * implementation, then requests of 100, 900 and 9,000 validations are timed. The cumulative
 * times less the dispatch cost of an empty request: ms for the first 100 / 1,000 / 10,000.
 * Where /proc is readable, the same for the CPU of the isolate's thread and of V8's
 * background threads (each read once the background threads are idle again).
 */
export async function coldStart(m) {
  const script = await bundleWorker('bench/worker.js', 'bench');
  const wall = {};
  const isolate = PROC ? {} : null;
  const background = PROC ? {} : null;
  for (const impl of COLD_IMPLS) {
    for (const alg of COLD_ALGS) {
      const runs = [];
      for (let r = 0; r < COLD_RUNS; r++) {
        const before = new Set(workerdPids());
        const mf = await startWorkerd(script);
        try {
          const pids = workerdPids().filter((p) => !before.has(p));
          await setup(mf, { [alg]: m[alg] }, impl);
          const start = PROC ? await settledCpu(pids) : null;
          const steps = [];
          for (const n of [100, 900, 9000]) {
            const ms = await timed(mf, q(alg, impl, n));
            steps.push({ ms, cpu: PROC ? await settledCpu(pids) : null });
          }
          const empty = [];
          const emptyFrom = PROC ? await settledCpu(pids) : null;
          for (let i = 0; i < 5; i++) empty.push(await timed(mf, q(alg, impl, 0)));
          const emptyTo = PROC ? await settledCpu(pids) : null;
          const base = median(empty);
          let sum = 0;
          runs.push({
            wall: steps.map((s) => (sum += Math.max(s.ms - base, 0))),
            cpu: PROC
              ? steps.map((s, k) => {
                  // Less the dispatch of k + 1 requests, as the wall times are.
                  const d = (what) => Math.max(s.cpu[what] - start[what] - ((k + 1) * (emptyTo[what] - emptyFrom[what])) / 5, 0);
                  return { isolate: d('isolate'), background: d('background') };
                })
              : null,
          });
        } finally {
          await mf.dispose();
        }
      }
      const name = `${impl} ${alg}`;
      wall[name] = [0, 1, 2].map((k) => median(runs.map((x) => x.wall[k])));
      let cpu = '';
      if (PROC) {
        isolate[name] = [0, 1, 2].map((k) => median(runs.map((x) => x.cpu[k].isolate)));
        background[name] = [0, 1, 2].map((k) => median(runs.map((x) => x.cpu[k].background)));
        cpu = `; isolate CPU ${isolate[name].map((x) => x.toFixed(0)).join(' / ')}, background ${background[name].map((x) => x.toFixed(0)).join(' / ')}`;
      }
      process.stderr.write(`  cold ${name}: ${wall[name].map((x) => x.toFixed(0)).join(' / ')} ms${cpu}\n`);
    }
  }
  return { runs: COLD_RUNS, table: wall, isolate, background };
}
