// Package entry `tokengate/store` (types: store.d.ts), for the programs that read and write the
// worker's KV: the edge worker (its readers and cron) and the operator CLI (js/admin). Not for
// applications that only validate tokens: they need `tokengate` alone.
//
// The KV data model, shared by the admin CLI (Node, against local or remote KV) and the worker's
// cron. `kv` is anything with the Workers KV API: get, put(key, value, { metadata }), delete, list.
//
// Nothing lost: KV has no transactions, so every change is its own entry (a revocation, a signing
// key, a grant, an API key, an audit record), written under a name no other writer uses, with its
// content in the entry's metadata. The documents the worker reads (`revocations`, `jwks:<name>`,
// `grants`) are snapshots compacted from those entries and record a digest of them (`source`).
// A writer loops: read the snapshot, list the entries, and if the snapshot's source is not the
// listing's digest, rebuild and write it, then look again. The last writer to put a snapshot
// checks after its put, so once writers stop the snapshot covers every entry. A crash between the
// entry and the snapshot leaves the old snapshot (still valid) plus an entry the next write, or
// the cron, folds in; `status` reports it as pending.
// Built on the public API only, through the package's entry for this runtime (which loads the wasm).
import { RevocationList, TokengateError, grantsDocument, lifecycle, revocations as rev, rotation, sourceDigest } from 'tokengate';

// The worker configuration (the `config` document, or `TOKENGATE_CONFIG`) is part of the data model.
export { issuerPolicy, parseConfig } from './config.js';
// An identity provider's keys, fetched and kept in KV as `remote:<issuer>`.
export { RemoteKeysError, boundedFetch, fetchRemoteKeys, jwksUrl, remoteKeys } from './remote.js';

export const REVOCATIONS = 'revocations';
export const GRANTS = 'grants';
export const CONFIG = 'config';
export const MAINTENANCE = 'maintenance:last';
export const PREFIX = {
  revocation: 'revocation:',
  grant: 'grant:',
  apikey: 'apikey:',
  audit: 'audit:',
  /** Signing keys of one published key set (`jwks:<name>`). */
  key: (jwks) => `key:${jwks}:`,
};

/** Time-ordered unique entry names: `<prefix><ms, base36, fixed width>-<random>`. */
export function uniqueName(prefix, now = Date.now()) {
  const rand = Array.from(crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${prefix}${now.toString(36).padStart(9, '0')}-${rand}`;
}

/** Every key under a prefix, with metadata, across list pages. */
export async function listAll(kv, prefix) {
  const keys = [];
  let cursor;
  do {
    const page = await kv.list({ prefix, cursor });
    keys.push(...page.keys);
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

/** The digest a snapshot built from these listed entries records. */
export const digestOf = (listed) => sourceDigest(listed.map((k) => `${k.name}\n${JSON.stringify(k.metadata ?? null)}`));

/** Reads a JSON document; `{ doc, error }`, where a missing key is `doc: null` and bad JSON an error. */
export async function readDoc(kv, key) {
  const text = await kv.get(key);
  if (text === null) return { doc: null, text };
  try {
    return { doc: JSON.parse(text), text };
  } catch (e) {
    return { doc: null, text, error: `KV key "${key}" is not JSON: ${e.message}` };
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let checkpoint = async () => {};
/** Fault injection (the admin CLI's consistency tests): `fn(step)` runs at each named step. */
export function onCheckpoint(fn) {
  checkpoint = fn;
}

/**
 * A stored document the core cannot read (`problem`, the core's words). No write replaces it:
 * what an operator wrote is never dropped silently. The worker fails closed on it (503) until it
 * is repaired by hand, or discarded on purpose with the command's `--rebuild` (audited).
 */
export class UnreadableDocument extends Error {
  constructor(key, problem) {
    super(
      `KV key "${key}" cannot be read by the core: ${problem}. Nothing was written over it (the worker answers 503 until it is fixed): ${fixFor(key)}`,
    );
    this.name = 'UnreadableDocument';
    this.key = key;
    this.problem = problem;
  }
}

function fixFor(key) {
  const how = `repair it by hand (\`wrangler kv key get/put "${key}"\`), or discard it and rebuild it from the stored entries with`;
  if (key === REVOCATIONS) return `${how} \`tokengate revocations compact --rebuild\` (items only the document holds are lost)`;
  if (key === GRANTS) return `${how} \`tokengate grants compact --rebuild\` (grants only the document holds are lost)`;
  return `${how} \`tokengate keys publish --issuer ISS --rebuild\` (keys only the document holds are lost)`;
}

/** What the core finds wrong in a stored document's text (each read as the worker reads it), or null. */
export function unreadable(key, text) {
  if (text === null) return null;
  try {
    if (key === REVOCATIONS) new RevocationList(text);
    else if (key === GRANTS) grantsDocument(text);
    else lifecycle.adoptableKeys(key, text, []);
    return null;
  } catch (e) {
    if (e instanceof TokengateError) return `${e.code}: ${e.message}`;
    throw e;
  }
}

/**
 * Brings a snapshot up to date with its entries (the loop described at the top). `build(listed,
 * prev, now, source)` returns the new document. `refreshAfter` (seconds) rewrites an up-to-date
 * snapshot whose `generated_at` is older, so readers can bound its age. A stored document the
 * core cannot read is never replaced (`UnreadableDocument`), unless `rebuild` says to discard it.
 * Returns `{ doc, writes }`.
 */
export async function converge(kv, { key, prefix, build, refreshAfter, attempts = 40, rebuild = false }) {
  let writes = 0;
  for (let i = 0; i < attempts; i++) {
    let { doc: prev, text } = await readDoc(kv, key);
    const problem = unreadable(key, text);
    if (problem !== null) {
      if (!rebuild) throw new UnreadableDocument(key, problem);
      prev = null;
    }
    const listed = await listAll(kv, prefix);
    await checkpoint('after-list');
    const source = digestOf(listed);
    // Seconds with their fraction: a document rebuilt with no readable predecessor takes its
    // version from the clock in milliseconds (the core's rule), above the chain it replaces.
    const now = Date.now() / 1000;
    const fresh = refreshAfter === undefined || writes > 0 || (prev && now - (prev.generated_at ?? 0) < refreshAfter);
    if (prev && prev.source === source && fresh) return { doc: prev, writes };
    const doc = await build(listed, prev, now, source);
    await kv.put(key, JSON.stringify(doc));
    await checkpoint('after-put');
    writes++;
    // Back off a little so racing writers interleave instead of colliding again.
    await sleep(5 + Math.random() * 20 * Math.min(i + 1, 10));
  }
  throw new Error(`KV key "${key}" did not settle after ${attempts} attempts (heavy concurrent writes?); run the command again`);
}

/**
 * The content of listed revocation entries, `[{ name, entry }]`: the metadata, or, for an entry
 * too large for KV metadata (the core's marker `{"stored":"value"}`), its value. An entry deleted
 * since the listing (pruned: expired) is left out.
 */
export async function revocationEntries(kv, listed) {
  const out = [];
  for (const k of listed) {
    if (k.metadata?.stored !== 'value') {
      out.push({ name: k.name, entry: k.metadata ?? null });
      continue;
    }
    const text = await kv.get(k.name);
    if (text === null) continue;
    let entry;
    try {
      entry = JSON.parse(text);
    } catch (e) {
      throw new Error(`revocation entry "${k.name}" is not JSON: ${e.message}`);
    }
    out.push({ name: k.name, entry });
  }
  return out;
}

/** Revocation list builder: the core merges, prunes and validates every entry. */
export async function buildRevocations(kv, listed, prev, now, source) {
  return rev.snapshot(await revocationEntries(kv, listed), { prevVersion: prev?.version ?? 0, now, source });
}

/**
 * The revocation list the worker enforces, `{ text, behind }`. The stored snapshot alone is not
 * trusted: a writer that listed the entries before a revoke completed may have put its older
 * snapshot after the revoke's last check, and been killed before correcting it. So the entries
 * are listed too, and unless the snapshot's `source` is the digest of that listing (`behind`
 * false), the core merges every listed entry into it. A revoke that reported success has its
 * entry stored, so every read after it enforces it. A missing snapshot is an error (fail closed).
 */
export async function readRevocations(kv, { now = Math.floor(Date.now() / 1000) } = {}) {
  const text = await kv.get(REVOCATIONS);
  if (text === null) throw new Error('KV key "revocations" is missing');
  const listed = await listAll(kv, PREFIX.revocation);
  const entries = await revocationEntries(kv, listed);
  return lifecycle.effectiveRevocations(text, entries, { source: digestOf(listed), now });
}

/**
 * The key set the worker publishes, `{ doc, behind }`. As for revocations, the snapshot is
 * trusted only when its `source` is the digest of the live `key:<name>:` listing. Otherwise the
 * set is rebuilt from the listed entries alone, so a key whose entry `keys remove` deleted is not
 * published even if an older snapshot holding it was written afterwards. A document written by
 * hand (no `source`) keeps the keys no entry has until they are adopted.
 */
export async function readJwks(kv, name, { now = Math.floor(Date.now() / 1000) } = {}) {
  const { text, error } = await readDoc(kv, name);
  if (error) throw new Error(error);
  const listed = await listAll(kv, PREFIX.key(name));
  return lifecycle.keySet(name, text, named(listed), { source: digestOf(listed), now });
}

/** Listed KV entries as the core reads them: `[{ name, entry }]`, `entry` their metadata. */
const named = (listed) => listed.map((k) => ({ name: k.name, entry: k.metadata ?? null }));

/** Published key set builder (the core's): every stored key, active and retired, oldest first. */
export const buildJwks = (listed, prev, now, source) => lifecycle.buildKeySet(named(listed), { prevVersion: prev?.version, now, source });

/** Grants builder (the core's): `tenants[tenant][module]` = granted scopes; hand-written issuer grants kept. */
export const buildGrants = (listed, prev, now, source) => lifecycle.buildGrants(named(listed), prev, { now, source });

/**
 * The core's lifecycle plan for stored key entries (what is due, beyond the cap, too old,
 * removable), with the entries themselves in place of their kids. `policy`: the issuer's
 * `{ leeway, maxLifetime }`.
 */
export function keyPlan(keys, { now, rotationDays, maxActive, maxAge, policy }) {
  const byKid = new Map(keys.map((k) => [k.jwk.kid, k]));
  const entries = keys.map(({ name: _, ...k }) => k);
  const p = rotation.plan(entries, { now, rotationDays, maxActive, maxAge }, policy);
  const pick = (kids) => kids.map((kid) => byKid.get(kid));
  return {
    active: pick(p.active),
    due: pick(p.due),
    rotationDue: p.rotationDue,
    newestAgeDays: p.newestAgeDays,
    excess: pick(p.excess),
    nextCreatedAt: p.nextCreatedAt,
    tooOld: pick(p.tooOld),
    removable: pick(p.removable),
    removableAt: (k) => p.removableAt[k.jwk.kid] ?? null,
  };
}

export const grantName = (tenant, module, scope) => `${PREFIX.grant}${[tenant, module, scope].map(encodeURIComponent).join('/')}`;

/**
 * Converges the revocation list; with `prune`, first deletes entries past their `until`. Items
 * of the stored document no entry covers are adopted first. A stored list the core cannot read
 * is an `UnreadableDocument` error (nothing is written), unless `rebuild` discards it.
 */
export async function compactRevocations(kv, { prune = false, refreshAfter, rebuild = false } = {}) {
  await adoptRevocations(kv, { rebuild });
  let pruned = 0;
  if (prune) {
    const entries = await revocationEntries(kv, await listAll(kv, PREFIX.revocation));
    for (const name of lifecycle.expiredRevocations(entries)) {
      await kv.delete(name);
      pruned++;
    }
  }
  const build = (listed, prev, now, source) => buildRevocations(kv, listed, prev, now, source);
  const r = await converge(kv, { key: REVOCATIONS, prefix: PREFIX.revocation, build, refreshAfter, rebuild });
  return { ...r, pruned };
}

/** Converges a key set, adopting a hand-written one's keys first (`rebuild`: as for revocations). */
export async function compactJwks(kv, jwks, { rebuild = false } = {}) {
  await adoptJwks(kv, jwks, { rebuild });
  return converge(kv, { key: jwks, prefix: PREFIX.key(jwks), build: buildJwks, rebuild });
}

/** Converges the grants document, adopting hand-written tenant grants first (`rebuild`: as for revocations). */
export async function compactGrants(kv, { rebuild = false } = {}) {
  await adoptGrants(kv, { rebuild });
  return converge(kv, { key: GRANTS, prefix: PREFIX.grant, build: buildGrants, rebuild });
}

/** The stored text of a document, or an `UnreadableDocument` error (null: missing, or discarded with `rebuild`). */
async function readable(kv, key, rebuild) {
  const text = await kv.get(key);
  const problem = unreadable(key, text);
  if (problem === null) return text;
  if (rebuild) return null;
  throw new UnreadableDocument(key, problem);
}

/**
 * Keys a snapshot holds that were never stored as entries (a document written by hand or by an
 * older version) become entries first, so the first compaction does not drop them. A document
 * the core cannot read is an `UnreadableDocument` error (with `rebuild`: nothing to adopt).
 */
export async function adoptJwks(kv, jwks, { rebuild = false } = {}) {
  const text = await readable(kv, jwks, rebuild);
  if (text === null) return 0;
  const adopt = lifecycle.adoptableKeys(jwks, text, named(await listAll(kv, PREFIX.key(jwks))));
  for (const meta of adopt) await kv.put(`${PREFIX.key(jwks)}${meta.jwk.kid}`, JSON.stringify(meta), { metadata: meta });
  return adopt.length;
}

/**
 * The same for the revocation list: every item of the stored document that no entry covers (the
 * core decides) becomes an entry, whether the document was written by hand, edited by hand after
 * compactions, or predates entries. A document the core cannot read is an `UnreadableDocument`
 * error, never "nothing to adopt" (with `rebuild`: nothing to adopt).
 */
export async function adoptRevocations(kv, { rebuild = false } = {}) {
  const text = await readable(kv, REVOCATIONS, rebuild);
  if (text === null) return 0;
  const missing = lifecycle.uncoveredRevocations(text, await revocationEntries(kv, await listAll(kv, PREFIX.revocation)));
  for (const e of missing) await putRevocation(kv, e);
  return missing.length;
}

/**
 * The same for grants: the tenant grants of a hand-written `grants` document (no `source`) that
 * no `grant:` entry holds become entries (the core decides), so a compaction keeps them.
 * Issuer-wide grants stay in the document (the builder keeps them).
 */
export async function adoptGrants(
  kv,
  { rebuild = false, by = 'adopted from the grants document', now = Math.floor(Date.now() / 1000) } = {},
) {
  const text = await readable(kv, GRANTS, rebuild);
  if (text === null) return 0;
  const adopt = lifecycle.adoptableGrants(text, named(await listAll(kv, PREFIX.grant)));
  for (const g of adopt) {
    const meta = { ...g, granted_by: by, granted_at: now };
    await kv.put(grantName(g.tenant, g.module, g.scope), JSON.stringify(meta), { metadata: meta });
  }
  return adopt.length;
}

/**
 * Stores one revocation entry (checked by the core) under a fresh name: its content in the value,
 * and in the metadata too when it fits there (the core decides; see `revocationEntries`).
 */
export async function putRevocation(kv, entry) {
  const { value, metadata } = lifecycle.storedEntry(entry);
  const name = uniqueName(PREFIX.revocation);
  await kv.put(name, value, { metadata: JSON.parse(metadata) });
  return name;
}
