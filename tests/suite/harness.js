// A tiny assertion kit with no runtime dependencies, so the suite runs unchanged in Node,
// workerd and Chromium.
export class AssertionError extends Error {}

const show = (v) => {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

export function ok(value, what = 'expected a truthy value') {
  if (!value) throw new AssertionError(what);
}

export function eq(actual, expected, what = '') {
  if (show(actual) !== show(expected)) throw new AssertionError(`${what} expected ${show(expected)}, got ${show(actual)}`);
}

/** Runs `fn` (sync or async) and expects a TokengateError with `code`; returns the error. */
export async function rejects(fn, code, what = '') {
  let result;
  try {
    result = await fn();
  } catch (e) {
    if (e?.name !== 'TokengateError') throw new AssertionError(`${what} expected TokengateError ${code}, got ${e?.stack ?? e}`);
    if (e.code !== code) throw new AssertionError(`${what} expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  throw new AssertionError(`${what} expected ${code}, but it succeeded: ${show(result)?.slice(0, 200)}`);
}

/** Outcome of a call as a comparable string: `ok` or the error code. */
export async function outcome(fn) {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e?.name === 'TokengateError' ? e.code : `threw ${e?.name}: ${e?.message}`;
  }
}

/** Runs every case; never throws. `[{ name, ok, error, ms }]`. */
export async function runAll(cases, env) {
  const results = [];
  for (const [name, fn] of cases) {
    const t = Date.now();
    try {
      await fn(env);
      results.push({ name, ok: true, ms: Date.now() - t });
    } catch (e) {
      results.push({ name, ok: false, error: String(e?.stack ?? e), ms: Date.now() - t });
    }
  }
  return results;
}
