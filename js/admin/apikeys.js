// API-key lifecycle (seed 000): create (raw key shown once), rotate, revoke/purge, list. Each key
// is one KV entry `apikey:<sha256>` holding its record (also as metadata, for listing), which is
// exactly what the worker looks up: no shared document, so concurrent creates never collide.
import * as tg from '../node.js';
import { PREFIX, listAll } from '../store.js';
import { UsageError, duration, iso } from './context.js';

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
async function put(admin, record) {
  await admin.kv.put(`${PREFIX.apikey}${record.hash}`, JSON.stringify(record), { metadata: record });
}

/**
 * Every stored record, with its entry name. A record written without metadata (by hand, or by
 * an older version) is read from its value.
 */
export async function records(admin) {
  const out = [];
  for (const k of await listAll(admin.kv, PREFIX.apikey)) {
    let record = k.metadata;
    if (record === undefined || record === null) {
      const text = await admin.kv.get(k.name);
      try {
        record = JSON.parse(text);
      } catch {
        record = text;
      }
    }
    out.push({ entry: k.name, record });
  }
  return out;
}

async function byId(admin, id) {
  if (!id) throw new UsageError('give the key ID (ak_…; see `apikey list`)');
  const found = (await records(admin)).filter((r) => r.record?.id === id);
  if (found.length === 0) throw new UsageError(`no API key with id "${id}"`);
  return found;
}

/** Revokes every record of an id until none is left active (a racing rotate may add one). */
async function revokeId(admin, id, purge) {
  for (let i = 0; i < 20; i++) {
    const live = (await byId(admin, id)).filter((r) => r.record.state === 'active' || (purge && r.record.state !== 'purged'));
    if (live.length === 0) return;
    for (const r of live) await put(admin, tg.apiKey.revoke(r.record, { now: admin.now, purge }));
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
  const current = found.find((r) => r.record.state === 'active');
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
  for (const { record } of await records(admin)) {
    const state = tg.apiKey.state(record, { now: admin.now });
    if (v.state !== undefined && state !== v.state) continue;
    if (v.owner !== undefined && record.owner !== v.owner) continue;
    const { hash: _, ...shown } = record;
    rows.push({ ...shown, state });
  }
  rows.sort((a, b) => a.created_at - b.created_at);
  const text = [
    `${rows.length} API key(s)`,
    ...rows.map(
      (r) => `  ${r.id}  ${r.state.padEnd(7)}  ${r.owner}  "${r.name}"  ${r.scopes.join(' ') || '-'}  expires ${iso(r.expires_at)}`,
    ),
  ].join('\n');
  return { json: { keys: rows }, text };
}

export const apikey = { create, rotate, revoke, list };
