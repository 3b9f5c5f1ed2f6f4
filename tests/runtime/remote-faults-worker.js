// A test-only wrapper around the real edge worker for the remote key copies: the same
// `fetch`/`scheduled`, called with an `env` whose TOKENGATE KV binding (the real local KV) throws
// on `get` and/or `put` of `remote:*` keys, switchable at runtime, as a KV outage or KV's 429 on
// more than one write per second per key would.
//
//   POST /__remote-faults  {"get": true, "put": false}  sets the faults; answers like GET
//   GET  /__remote-faults  {"faults": {...}, "calls": {"get": 3, "getFailed": 2, "put": 1, "putFailed": 1}}
//
// `calls` counts the `remote:*` gets and puts reaching this wrapper (faulted or not). Faults and
// counts are this isolate's: a restarted worker starts with none. Only this wrapper answers the
// control path; the real worker never sees it.
import worker from '../../worker/index.js';

const CONTROL = '/__remote-faults';
let faults = { get: false, put: false };
const calls = { get: 0, getFailed: 0, put: 0, putFailed: 0 };
const remote = (key) => typeof key === 'string' && key.startsWith('remote:');

function wrapKv(kv) {
  return {
    async get(key, options) {
      if (remote(key)) {
        calls.get++;
        if (faults.get) {
          calls.getFailed++;
          throw new Error(`injected KV get failure for "${key}"`);
        }
      }
      return kv.get(key, options);
    },
    getWithMetadata: (key, options) => kv.getWithMetadata(key, options),
    list: (options) => kv.list(options),
    async put(key, ...args) {
      if (remote(key)) {
        calls.put++;
        if (faults.put) {
          calls.putFailed++;
          throw new Error(`injected KV put failure for "${key}": 429 Too Many Requests`);
        }
      }
      return kv.put(key, ...args);
    },
    delete: (...args) => kv.delete(...args),
  };
}

// The worker keeps its per-isolate state per `env` object: hand it the same wrapped env every time.
const wrapped = new WeakMap();
function envFor(env) {
  let w = wrapped.get(env);
  if (!w) {
    w = { ...env, TOKENGATE: wrapKv(env.TOKENGATE) };
    wrapped.set(env, w);
  }
  return w;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === CONTROL) {
      if (request.method === 'POST') faults = { get: false, put: false, ...(await request.json()) };
      return Response.json({ faults, calls }, { headers: { 'cache-control': 'no-store' } });
    }
    return worker.fetch(request, envFor(env), ctx);
  },

  scheduled(controller, env, ctx) {
    return worker.scheduled(controller, envFor(env), ctx);
  },
};
