// The worker under load (autocannon, 16 connections) in real workerd over the seeded demo KV,
// across cache reloads, with KV faults injected per document by tests/runtime/faulty-worker.js
// (the real worker with a wrapped TOKENGATE binding). Counts, not timings: no 5xx ever, nothing
// accepted that should not be, last-known-good within the bound, 503 temporarily_unavailable past
// it or when the data was never loaded, and back to normal when KV recovers.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { UNAVAILABLE, matches, outcome, runLoad, seedDemo, startDemoWorker, tokenMix } from '../../bench/load.mjs';
import { rmSync } from 'node:fs';
import { waitFor } from '../runtime/helpers.mjs';

const TTL = 1; // cacheTtl, seconds
const MAX_STALE = 3; // keysMaxStale: the last-known-good bound for keys, revocations and grants
// The configuration's own cache in worker/index.js: ttl 60 s, last known good for 3600 s.
const CONFIG_BOUNDS = { ttl: 60, maxStale: 3600 };
// Seconds of slack on the bound's edges: the last reload may land one KV read late.
const SLACK = 0.5;
const CONNECTIONS = 16;
// How long each phase of the load profile lasts (the load runs throughout; not a wait for a state).
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const seeded = seedDemo();
const instances = [];
after(async () => {
  await Promise.all(instances.map((w) => w.close()));
  rmSync(seeded.dir, { recursive: true, force: true });
});

async function start() {
  const w = await startDemoWorker({
    script: 'tests/runtime/faulty-worker.js',
    name: 'faulty-worker',
    overrides: { cacheTtl: TTL, keysMaxStale: MAX_STALE },
    seeded,
  });
  instances.push(w);
  const control = async (init) => {
    const res = await fetch(`${w.url}/__faults`, init);
    assert.equal(res.status, 200);
    return res.json();
  };
  return {
    ...w,
    mix: tokenMix(seeded, w.config),
    faults: (f) => control({ method: 'POST', body: JSON.stringify(f) }),
    reads: async () => (await control()).reads,
  };
}

const JWT = ['valid', 'no_scope', 'expired', 'bad_signature', 'unknown_kid', 'revoked'];
const KEYED = ['api_key', 'api_key_unknown'];
const ALL = [...JWT, ...KEYED, 'malformed_header', 'no_credential', 'anonymous'];
// Which kinds need each document to be decided (`needs`: never accepted without it), and which
// may or may not be refused without it (`coupled`: API keys are checked against the revocation
// list, but neither need an issuer's keys nor take issuer grants).
const DOCS = {
  'jwks:*': { needs: JWT, coupled: KEYED },
  revocations: { needs: [...JWT, ...KEYED] },
  grants: { needs: JWT, coupled: KEYED },
  'apikey:*': { needs: KEYED },
  config: { needs: ALL },
};

/** Allowed outcomes for a kind while `doc` is unavailable: never an accept, only 503 or its own rejection. */
function unavailable(kind, expect, doc) {
  const d = DOCS[doc];
  if (d.needs.includes(kind)) return expect.status < 300 ? [UNAVAILABLE] : [expect, UNAVAILABLE];
  if (d.coupled?.includes(kind)) return [expect, UNAVAILABLE];
  return [expect];
}

/**
 * Phases: `exact` (the expected status only), `bounded` (doc failing since the phase began: exact
 * while the last good copy is surely within its bound, unavailable once it is surely past it,
 * either in between), `immediate` (an uncached doc failing: unavailable), `recovering` (either,
 * until a probe passes). A phase begins (`start`) when its faults are sent to the wrapper and is
 * surely in force (`sure`) once the wrapper answered; the previous one lasts until then.
 */
function allowedIn(phase, kind, expect, t) {
  if (phase.type === 'exact') return [expect];
  if (phase.type === 'immediate') return unavailable(kind, expect, phase.doc);
  if (phase.type === 'recovering') return [expect, ...unavailable(kind, expect, phase.doc)];
  const { ttl, maxStale } = phase.doc === 'config' ? CONFIG_BOUNDS : { ttl: TTL, maxStale: MAX_STALE };
  // Under load the last good read was at most ttl (plus one read) before the fault began, and
  // none succeeded after it.
  if ((t - phase.start) / 1000 < maxStale - ttl - SLACK) return [expect];
  if ((t - phase.sure) / 1000 >= maxStale + SLACK) return unavailable(kind, expect, phase.doc);
  return [expect, ...unavailable(kind, expect, phase.doc)];
}

class Timeline {
  phases = [];
  responses = [];
  /** Switches to `phase`, setting the wrapper's faults first when `faults` is given. */
  async begin(phase, w, faults) {
    const next = { ...phase, start: Date.now(), end: Infinity };
    const last = this.phases.at(-1);
    this.phases.push(next);
    if (faults) await w.faults(faults);
    next.sure = Date.now();
    if (last) last.end = next.sure;
  }
  record = (kind, o, { sentAt, at }, expect) => this.responses.push({ kind, o, sentAt, at, expect });
  /**
   * Every response checked against every phase in force between its request leaving and its
   * answer arriving (the worker decided somewhere in there); counts per phase of arrival.
   */
  judge() {
    const bad = [];
    const byPhase = this.phases.map((p) => ({ name: p.name, counts: {} }));
    const inForce = (t) => this.phases.filter((p) => p.start <= t && t < p.end);
    for (const r of this.responses) {
      const from = Math.min(r.sentAt ?? r.at, r.at) - 20;
      const to = r.at + 20;
      const points = [from, to];
      for (let t = from + 50; t < to; t += 50) points.push(t);
      for (const p of this.phases) for (const b of [p.start, p.sure, p.end]) if (b > from && b < to) points.push(b, b - 1);
      const allowed = [];
      for (const t of points) for (const p of inForce(t)) allowed.push(...allowedIn(p, r.kind, r.expect, t));
      const home = Math.max(
        0,
        this.phases.findLastIndex((p) => p.start <= r.at),
      );
      const key = `${r.kind} ${r.o.status}${r.o.status === 200 ? '' : ` ${r.o.code}`}`;
      byPhase[home].counts[key] = (byPhase[home].counts[key] ?? 0) + 1;
      if (!matches(r.o, allowed)) bad.push({ phase: this.phases[home].name, kind: r.kind, ...r.o });
    }
    return { bad, byPhase };
  }
}

function summarize(bad) {
  const groups = {};
  for (const b of bad) {
    const k = `${b.phase}: ${b.kind} got ${b.status} ${b.code ?? ''}`.trim();
    groups[k] = (groups[k] ?? 0) + 1;
  }
  return Object.entries(groups)
    .map(([k, n]) => `${n}× ${k}`)
    .join('\n');
}

function assertClean({ result }, bad) {
  assert.equal(result.errors, 0, 'socket errors');
  assert.equal(result.timeouts, 0, 'timeouts');
  assert.equal(bad.length, 0, `${bad.length} responses outside what was allowed:\n${summarize(bad)}`);
}

const count = (byPhase, name, key) => byPhase.filter((p) => p.name === name).reduce((n, p) => n + (p.counts[key] ?? 0), 0);

/** Waits (bounded) until a request of `kind` gets exactly what it expects. */
async function recovered(w, kind, ms = 8000) {
  const m = w.mix.find((x) => x.kind === kind);
  let last;
  await waitFor(
    async () => {
      const res = await fetch(`${w.url}${m.path}`, { headers: m.headers });
      last = { status: res.status, body: await res.text() };
      return matches(outcome(res.status, last.body, Object.fromEntries(res.headers)), [m.expect]);
    },
    { timeout: ms, message: () => `${kind} did not recover: ${last.status} ${last.body}` },
  );
}

test('under load across cache reloads: every response has its expected status, no 5xx', { timeout: 120_000 }, async () => {
  const w = await start();
  const before = await w.reads();
  const t = new Timeline();
  await t.begin({ name: 'clean', type: 'exact' });
  const run = await runLoad({ url: w.url, mix: w.mix, duration: 10, connections: CONNECTIONS, onOutcome: t.record });
  const after = await w.reads();
  const { bad } = t.judge();
  assertClean(run, bad);
  for (const [kind, k] of Object.entries(run.kinds)) assert.ok(k.count > 0, `no response for ${kind}`);
  // With a 1 s TTL over 10 s, each cached document was read again several times.
  for (const doc of ['jwks:demo', 'revocations', 'grants'])
    assert.ok((after[doc] ?? 0) - (before[doc] ?? 0) >= 3, `${doc}: ${(after[doc] ?? 0) - (before[doc] ?? 0)} reloads, want ≥ 3`);
  assert.equal(
    Object.values(run.kinds).reduce((n, k) => n + Object.keys(k.statuses).filter((s) => s >= 500).length, 0),
    0,
  );
});

test(
  'KV faults per document under load: last known good within the bound, then 503, never an accept or a 500',
  { timeout: 180_000 },
  async () => {
    const w = await start();
    const t = new Timeline();
    const slow = { mode: 'slow', ms: 300 };
    let stop;
    const done = new Promise((r) => (stop = r));
    const drive = async () => {
      try {
        await t.begin({ name: 'clean', type: 'exact' });
        await sleep(1500);
        // Every read slow: no request may wait on (or be cancelled with) another request's read.
        await t.begin({ name: 'slow KV', type: 'exact' }, w, { 'jwks:*': slow, revocations: slow, grants: slow, 'apikey:*': slow });
        await sleep(4000);
        await t.begin({ name: 'clean', type: 'exact' }, w, {});
        await sleep(1200);
        // [phase, faults, type, document, the kind whose success shows recovery]
        const cases = [
          ['jwks:* fail', { 'jwks:*': { mode: 'fail' } }, 'bounded', 'jwks:*', 'valid'],
          ['revocations corrupt', { revocations: { mode: 'corrupt' } }, 'bounded', 'revocations', 'valid'],
          ['grants fail', { grants: { mode: 'fail' } }, 'bounded', 'grants', 'valid'],
          // The snapshot and the live key entries it is rebuilt from: both gone, or the list failing.
          ['jwks:* missing', { 'jwks:*': { mode: 'missing' }, 'key:jwks:*': { mode: 'missing' } }, 'bounded', 'jwks:*', 'valid'],
          ['jwks:* entries fail', { 'jwks:*': { mode: 'missing' }, 'key:jwks:*': { mode: 'fail' } }, 'bounded', 'jwks:*', 'valid'],
          ['apikey:* fail', { 'apikey:*': { mode: 'fail' } }, 'immediate', 'apikey:*', 'api_key'],
          ['config fail', { config: { mode: 'fail' } }, 'bounded', 'config', 'valid'],
        ];
        for (const [name, faults, type, doc, probe] of cases) {
          await t.begin({ name, type, doc }, w, faults);
          await sleep(type === 'bounded' ? (MAX_STALE + 2) * 1000 : 2500);
          await t.begin({ name: `${name}: recovering`, type: 'recovering', doc }, w, {});
          await recovered(w, probe);
          await t.begin({ name: 'clean', type: 'exact' });
          await sleep(1200);
        }
      } finally {
        stop();
      }
    };
    const [run] = await Promise.all([
      runLoad({ url: w.url, mix: w.mix, duration: 150, connections: CONNECTIONS, until: done, onOutcome: t.record }),
      drive(),
    ]);
    const { bad, byPhase } = t.judge();
    assertClean(run, bad);
    // The phases did what they say: accepted while within the bound, 503 past it.
    for (const name of ['jwks:* fail', 'revocations corrupt', 'grants fail', 'jwks:* missing', 'jwks:* entries fail']) {
      assert.ok(count(byPhase, name, 'valid 200') > 0, `${name}: no 200 within the bound`);
      assert.ok(count(byPhase, name, 'valid 503 data_unavailable') > 0, `${name}: no 503 past the bound`);
    }
    assert.ok(count(byPhase, 'slow KV', 'valid 200') > 0);
    assert.ok(count(byPhase, 'apikey:* fail', 'api_key 503 data_unavailable') > 0, 'apikey:* fail: no 503 for the API key');
  },
);

test(
  'a corrupt API-key record under load is a 503 temporarily_unavailable (invalid KV data), never a 200 or a 500',
  { timeout: 60_000 },
  async () => {
    const w = await start();
    const t = new Timeline();
    await t.begin({ name: 'apikey:* corrupt', type: 'immediate', doc: 'apikey:*' }, w, { 'apikey:*': { mode: 'corrupt' } });
    const run = await runLoad({ url: w.url, mix: w.mix, duration: 3, connections: CONNECTIONS, onOutcome: t.record });
    const { bad, byPhase } = t.judge();
    assertClean(run, bad);
    assert.ok(count(byPhase, 'apikey:* corrupt', 'api_key 503 data_unavailable') > 0);
  },
);

test(
  'data never loaded: 503 temporarily_unavailable for what needs it, the rest exact; then normal once KV answers',
  { timeout: 180_000 },
  async () => {
    // A fresh worker each (its own isolate and Cache API, so no copy of any document exists yet).
    for (const [doc, mode] of [
      ['config', 'fail'],
      ['config', 'corrupt'],
      ['jwks:*', 'fail'],
      ['revocations', 'missing'],
      ['grants', 'corrupt'],
    ]) {
      const w = await start();
      await w.faults({ [doc]: { mode } });
      const t = new Timeline();
      await t.begin({ name: `${doc} ${mode} from the start`, type: 'immediate', doc });
      const down = await runLoad({ url: w.url, mix: w.mix, duration: 2, connections: CONNECTIONS, onOutcome: t.record });
      const { bad, byPhase } = t.judge();
      assertClean(down, bad);
      assert.ok(count(byPhase, `${doc} ${mode} from the start`, 'valid 503 data_unavailable') > 0);
      await w.faults({});
      await recovered(w, 'valid');
      const u = new Timeline();
      await u.begin({ name: `${doc} recovered`, type: 'exact' });
      const up = await runLoad({ url: w.url, mix: w.mix, duration: 1, connections: CONNECTIONS, onOutcome: u.record });
      assertClean(up, u.judge().bad);
      await w.close();
      instances.splice(instances.indexOf(w), 1);
    }
  },
);
