// A test-only wrapper around the real edge worker: the same `fetch`/`scheduled`, called with an
// `env` whose TOKENGATE KV binding injects faults per document, switchable at runtime.
//
//   POST /__faults  {"jwks:*": {"mode": "fail"}, "revocations": {"mode": "slow", "ms": 300}}
//                   replaces the fault set ({} clears it); answers like GET
//   GET  /__faults  {"faults": {...}, "reads": {"jwks:demo": 12, "revocations": 9, ...}}
//
// Documents: an exact KV key (`revocations`, `grants`, `config`, `jwks:demo`) or a prefix ending in
// `*` (`jwks:*`, `apikey:*`); a `list` is matched by its prefix (`key:jwks:*`, the entries a
// document is built from). Modes: `fail` (the KV call throws), `slow` (waits `ms`, then reads),
// `corrupt` (returns `text`, default a truncated JSON document; a list: one entry with it as
// metadata), `missing` (returns null; a list: no keys).
// `reads` counts every KV get (by key) and list (by prefix), faulted or not, so a test can prove
// reloads happened.
// Only this wrapper answers /__faults; the real worker never sees that path.
import worker from '../../worker/index.js';

const CONTROL = '/__faults';
let faults = {};
const reads = {};

function faultFor(key) {
  if (Object.hasOwn(faults, key)) return faults[key];
  for (const [pattern, fault] of Object.entries(faults)) {
    if (pattern.endsWith('*') && key.startsWith(pattern.slice(0, -1))) return fault;
  }
  return null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function inject(key) {
  reads[key] = (reads[key] ?? 0) + 1;
  const f = faultFor(key);
  if (!f) return { pass: true };
  if (f.mode === 'fail') throw new Error(`injected KV failure for "${key}"`);
  if (f.mode === 'slow') {
    await sleep(f.ms ?? 250);
    return { pass: true };
  }
  if (f.mode === 'corrupt') return { value: f.text ?? '{"schema":1,"version":' };
  if (f.mode === 'missing') return { value: null };
  throw new Error(`unknown fault mode ${JSON.stringify(f.mode)}`);
}

function wrapKv(kv) {
  return {
    async get(key, options) {
      const r = await inject(key);
      if (r.pass) return kv.get(key, options);
      if (r.value === null) return null;
      const type = typeof options === 'string' ? options : options?.type;
      return type === 'json' ? JSON.parse(r.value) : r.value;
    },
    async getWithMetadata(key, options) {
      const r = await inject(key);
      if (r.pass) return kv.getWithMetadata(key, options);
      return { value: r.value, metadata: null };
    },
    // A list is faulted by its prefix (the live entries behind a document, e.g. `key:jwks:*`).
    async list(options) {
      const prefix = options?.prefix ?? '';
      const r = await inject(prefix);
      if (r.pass) return kv.list(options);
      const keys = r.value === null ? [] : [{ name: `${prefix}corrupt`, metadata: r.value }];
      return { keys, list_complete: true, cacheStatus: null };
    },
    put: (...args) => kv.put(...args),
    delete: (...args) => kv.delete(...args),
  };
}

// The worker keeps its per-isolate caches per `env` object: hand it the same wrapped env every time.
const wrapped = new WeakMap();
function envFor(env) {
  let w = wrapped.get(env);
  if (!w) {
    w = { ...env, TOKENGATE: env.TOKENGATE ? wrapKv(env.TOKENGATE) : env.TOKENGATE };
    wrapped.set(env, w);
  }
  return w;
}

const state = () => Response.json({ faults, reads }, { headers: { 'cache-control': 'no-store' } });

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === CONTROL) {
      if (request.method === 'POST') {
        const body = await request.json();
        if (!body || typeof body !== 'object' || Array.isArray(body)) return new Response('faults must be a JSON object', { status: 400 });
        faults = body;
      }
      return state();
    }
    return worker.fetch(request, envFor(env), ctx);
  },

  scheduled(controller, env, ctx) {
    return worker.scheduled(controller, envFor(env), ctx);
  },
};
