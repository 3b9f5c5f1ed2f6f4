// API-key lifecycle (seed 000): create (raw key shown once), rotate, revoke/purge, list. Each key
// is one KV entry `apikey:<sha256>` holding its record (also as metadata, for listing), which is
// exactly what the worker looks up: no shared document, so concurrent creates never collide.
import * as tg from '../node.js';
import { PREFIX, listAll } from '../store.js';
import { NotFound, UsageError, duration, iso } from './context.js';
import { plural, shown } from '../cli/text.js';

export const APIKEY_OPTIONS = {
  name: { type: 'string' },
  owner: { type: 'string' },
  scopes: { type: 'string' },
  expires: { type: 'string' },
  description: { type: 'string' },
  'one-per-owner': { type: 'boolean' },
  purge: { type: 'boolean' },
  state: { type: 'string' },
};

const STATES = ['active', 'expired', 'revoked', 'purged'];

/** Stores a record, also as metadata for listing (`apikey create` checked with the core that it fits). */
async function put(admin, record, name = `${PREFIX.apikey}${record.hash}`) {
  await admin.kv.put(name, JSON.stringify(record), { metadata: record });
}

/**
 * Every stored record, with its entry name: the record the worker enforces (its value), checked
 * by the core as one record with its metadata (`lifecycle.apiKeyRecord`: valid, its hash its
 * KV key's, metadata the same record). One the core refuses has `error` (the worker answers 503
 * for that key), and `record` as far as it can be read (the value, else the metadata).
 */
export async function records(admin) {
  const out = [];
  for (const k of await listAll(admin.kv, PREFIX.apikey)) {
    const text = await admin.kv.get(k.name);
    if (text === null) continue; // deleted since the listing (a rotation)
    try {
      out.push({ entry: k.name, record: JSON.parse(tg.lifecycle.apiKeyRecord(k.name, text, k.metadata ?? null)), error: null });
    } catch (e) {
      if (!(e instanceof tg.TokengateError)) throw e;
      let record = k.metadata ?? null;
      try {
        record = JSON.parse(text);
      } catch {
        // not JSON: the metadata, if any, is all there is to show
      }
      out.push({ entry: k.name, record, error: e.message });
    }
  }
  return out;
}

async function byId(admin, id) {
  if (!id) throw new UsageError('give the key ID (ak_…; see `apikey list`)');
  const found = (await records(admin)).filter((r) => r.record?.id === id);
  if (found.length === 0) throw new NotFound(`no API key with id "${shown(id)}"`);
  return found;
}

/** Revokes every record of an id until none is left active (a racing rotate may add one). */
async function revokeId(admin, id, purge) {
  for (let i = 0; i < 20; i++) {
    // A record the core refuses is rewritten too (value and metadata then agree, revoked).
    const live = (await byId(admin, id)).filter((r) => r.error || r.record.state === 'active' || (purge && r.record.state !== 'purged'));
    if (live.length === 0) return;
    for (const r of live) await put(admin, tg.apiKey.revoke(r.record, { now: admin.now, purge }), r.entry);
  }
  throw new Error(`API key ${id} kept changing while being revoked; run the command again`);
}

async function create(admin, v) {
  if (!v.name || !v.owner) throw new UsageError('apikey create needs --name and --owner');
  const ttl = v.expires === undefined ? undefined : duration(v.expires, '--expires');
  let created;
  try {
    created = tg.apiKey.create({ name: v.name, owner: v.owner, scopes: v.scopes ?? [], ttl, description: v.description, now: admin.now });
    // Every check before anything (the audit record included) is written: the record must fit
    // in KV metadata, in bytes, in every state it can reach.
    tg.lifecycle.checkApiKeyRecord(created.record);
  } catch (e) {
    throw new UsageError(e.message);
  }
  const { raw, record } = created;
  await admin.audit('apikey.create', {
    id: record.id,
    name: record.name,
    owner: record.owner,
    scopes: record.scopes,
    onePerOwner: !!v['one-per-owner'],
  });
  await put(admin, record);
  // The new key exists before the old ones stop working: the owner is never left without one.
  const revoked = [];
  if (v['one-per-owner']) {
    for (const r of await records(admin)) {
      if (r.record?.owner === record.owner && r.record.id !== record.id && r.record.state === 'active') {
        // Each key revoked here has its own audit record, as with apikey revoke.
        await admin.audit('apikey.revoke', { id: r.record.id, reason: `one per owner: replaced by ${record.id}` });
        await revokeId(admin, r.record.id, false);
        revoked.push(r.record.id);
      }
    }
  }
  return {
    json: { raw, record, revoked },
    text: `${raw}\n\nAPI key ${record.id} for ${record.owner} (${record.scopes.join(' ') || 'no scopes'}), expires ${iso(record.expires_at)}.\nThe key is shown once; only its SHA-256 is stored.${revoked.length ? `\nrevoked earlier keys of ${record.owner}: ${revoked.join(', ')}` : ''}`,
  };
}

async function rotate(admin, v, [id]) {
  const found = await byId(admin, id);
  const current = found.find((r) => !r.error && r.record.state === 'active');
  if (!current) throw new UsageError(`API key ${id} is not active (${found[0].record.state}); only an active key can be rotated`);
  await admin.audit('apikey.rotate', { id });
  const { raw, record } = tg.apiKey.rotate(current.record, { now: admin.now });
  await put(admin, record);
  await admin.checkpoint('after-new-secret');
  // A revoke that ran meanwhile wins: the new secret is revoked too.
  const old = (await byId(admin, id)).find((r) => r.entry === current.entry);
  if (old && old.record.state !== 'active') {
    await revokeId(admin, id, old.record.state === 'purged');
    throw new UsageError(`API key ${id} was revoked while rotating; the new secret is revoked too`);
  }
  await admin.kv.delete(current.entry);
  return {
    json: { raw, record },
    text: `${raw}\n\nAPI key ${id} rotated: the old secret no longer works. The key is shown once.`,
  };
}

async function revoke(admin, v, [id]) {
  await byId(admin, id);
  await admin.audit(v.purge ? 'apikey.purge' : 'apikey.revoke', { id });
  await revokeId(admin, id, !!v.purge);
  return { json: { id, state: v.purge ? 'purged' : 'revoked' }, text: `API key ${id} ${v.purge ? 'revoked and purged' : 'revoked'}` };
}

async function list(admin, v) {
  if (v.state !== undefined && !STATES.includes(v.state)) throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
  const rows = [];
  const problems = [];
  for (const { entry, record, error } of await records(admin)) {
    if (error) {
      // Listed whatever --state asks: the worker answers 503 for it.
      problems.push(`API key entry "${entry}" is refused by the core (the worker answers 503 for that key): ${error}`);
      if (v.owner !== undefined && record?.owner !== v.owner) continue;
      rows.push({
        id: record?.id ?? null,
        name: record?.name ?? '',
        owner: record?.owner ?? '?',
        scopes: Array.isArray(record?.scopes) ? record.scopes : [],
        expires_at: record?.expires_at ?? null,
        created_at: record?.created_at ?? 0,
        entry,
        state: 'invalid',
        error,
      });
      continue;
    }
    const state = tg.apiKey.state(record, { now: admin.now });
    if (v.state !== undefined && state !== v.state) continue;
    if (v.owner !== undefined && record.owner !== v.owner) continue;
    const { hash: _, ...shown } = record;
    rows.push({ ...shown, state });
  }
  rows.sort((a, b) => a.created_at - b.created_at);
  const text = [
    plural(rows.length, 'API key'),
    ...rows.map(
      (r) =>
        `  ${shown(r.id)}  ${r.state.padEnd(7)}  ${shown(r.owner)}  "${shown(r.name)}"  ${shown(r.scopes.join(' ')) || '-'}  expires ${iso(r.expires_at)}`,
    ),
    ...problems.map((p) => `PROBLEM: ${p}`),
  ].join('\n');
  return { json: { keys: rows, problems }, text, code: problems.length ? 1 : 0 };
}

export const apikey = { create, rotate, revoke, list };
