// Ops/s by repeated timed rounds until the median of the last three rounds is stable.
const ROUND_MS = 150;

async function round(fn, isAsync) {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ROUND_MS) {
    if (isAsync) for (let i = 0; i < 50; i++) await fn();
    else for (let i = 0; i < 50; i++) fn();
    n += 50;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Median ops/s; rounds repeat (5 to 15) until the last three medians agree within 3%. */
export async function opsPerSecond(fn, { isAsync = false } = {}) {
  const first = fn();
  if (isAsync) await first;
  const rounds = [];
  const medians = [];
  while (rounds.length < 15) {
    rounds.push(await round(fn, isAsync));
    if (rounds.length >= 3) medians.push(median(rounds));
    if (rounds.length >= 5) {
      const last = medians.slice(-3);
      if ((Math.max(...last) - Math.min(...last)) / median(last) < 0.03) break;
    }
  }
  return median(rounds);
}
