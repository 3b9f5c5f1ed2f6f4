// How the benchmark measures, in one place (Node and workerd use the same rules):
// - every contender is warmed with at least WARM_CALLS calls before anything is timed, so V8 has
//   had the chance to tier its code up (a fresh wasm module starts in Liftoff);
// - contenders are interleaved round by round (A B C, B C A, C A B, …), so a slow phase of the
//   machine (another process, a GC, frequency scaling) lands on all of them, not on one;
// - the figure is the median of the rounds, reported with its spread (max−min over median).
export const WARM_CALLS = 3000;
export const ROUNDS = 7;
const ROUND_MS = 60;

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** `{ median, spread }`: spread is (max − min) / median, as a fraction. */
export function summary(xs) {
  const m = median(xs);
  return { median: m, spread: m > 0 ? (Math.max(...xs) - Math.min(...xs)) / m : 0, samples: xs.length };
}

const wallClock = () => performance.now();

/** Milliseconds of this process's CPU (all threads): steadier than wall time on a loaded machine. */
export const cpuClock = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function batch(fn, isAsync, n, clock = wallClock) {
  const start = clock();
  if (isAsync) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) fn();
  return clock() - start;
}

/**
 * Interleaved rounds over `contenders` (`[[name, fn, isAsync]]`): each is warmed (≥ WARM_CALLS
 * calls, and a batch size found that takes about ROUND_MS), then ROUNDS rounds time one batch of
 * each, the order rotating every round. Returns `{ name: { median, spread, samples } }` in ops/s.
 */
export async function interleaved(contenders, { rounds = ROUNDS, onProgress = () => {}, clock = wallClock } = {}) {
  const sizes = [];
  for (const [, fn, isAsync] of contenders) {
    await batch(fn, isAsync, WARM_CALLS);
    let n = 64;
    while ((await batch(fn, isAsync, n, clock)) < ROUND_MS && n < 1 << 22) n *= 2;
    sizes.push(n);
  }
  const rates = contenders.map(() => []);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < contenders.length; j++) {
      const i = (j + r) % contenders.length;
      const [, fn, isAsync] = contenders[i];
      const ms = await batch(fn, isAsync, sizes[i], clock);
      rates[i].push((sizes[i] / ms) * 1000);
    }
    onProgress(r + 1, rounds);
  }
  return Object.fromEntries(contenders.map(([name], i) => [name, summary(rates[i])]));
}

/** `12.3k ±4%` */
export function fmtRate(s) {
  if (s === undefined) return '–';
  const n = s.median;
  const v = n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n)}`;
  return `${v} ±${Math.round((s.spread * 100) / 2)}%`;
}

export const ratio = (a, b) => (a === undefined || b === undefined ? '–' : `${(a.median / b.median).toFixed(2)}×`);
