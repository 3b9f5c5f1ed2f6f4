// Signing-key lifecycle (seed 004): generate, rotate, list, retire, cleanup. Each key is its own KV
// entry `key:<jwks>:<kid>` (public JWK and status in metadata); `jwks:<name>` is compacted from
// them. Private JWKs go to files (mode 0600), never to KV.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tg from '../node.js';
import {
  PREFIX,
  REVOCATIONS,
  adoptJwks,
  compactJwks,
  compactRevocations,
  keyPlan,
  listAll,
  readDoc,
  readJwks,
  unreadable,
} from '../store.js';
import { DAY, NotFound, UsageError, duration, issuerPolicy, iso } from './context.js';
import { plural, shown } from '../cli/text.js';

export const KEY_OPTIONS = {
  issuer: { type: 'string' },
  alg: { type: 'string' },
  'max-active': { type: 'string' },
  'max-age': { type: 'string' },
  rebuild: { type: 'boolean' },
};

const slug = (issuer) => issuer.replace(/^https?:\/\//, '').replace(/[^A-Za-z0-9._-]+/g, '_');

export const privateKeyPath = (admin, issuer, kid) => join(admin.keysDir, slug(issuer.issuer), `${kid}.json`);

function writePrivate(admin, issuer, jwk) {
  const dir = join(admin.keysDir, slug(issuer.issuer));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = privateKeyPath(admin, issuer, jwk.kid);
  writeFileSync(file, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600); // the umask may have narrowed it further, never widened
  return file;
}

/**
 * The key set as the worker loads it (the core's `keySet` over the snapshot and the live entries),
 * and the keys its validator skips (`[kid, reason]`): `{ doc, skipped, error }`, `error` (the
 * core's words) when the worker cannot load it at all (it answers 503).
 */
export async function workerKeys(admin, issuer) {
  try {
    const { doc } = await readJwks(admin.kv, issuer.jwks, { now: admin.now });
    const v = new tg.Validator({ keys: { keys: doc.keys.map((k) => k?.jwk) } });
    return { doc, skipped: v.skipped, error: null };
  } catch (e) {
    return { doc: null, skipped: [], error: e instanceof tg.TokengateError ? `${e.code}: ${e.message}` : e.message };
  }
}

/** The stored keys of an issuer (entries), oldest first. */
export async function storedKeys(admin, issuer) {
  await adoptJwks(admin.kv, issuer.jwks);
  const listed = await listAll(admin.kv, PREFIX.key(issuer.jwks));
  return listed.map((k) => ({ name: k.name, ...k.metadata })).sort((a, b) => a.created_at - b.created_at);
}

async function putKey(admin, issuer, meta) {
  const { name: _, ...m } = meta;
  await admin.kv.put(`${PREFIX.key(issuer.jwks)}${m.jwk.kid}`, JSON.stringify(m), { metadata: m });
}

/** The core's key plan with this issuer's lifetimes and the configured schedule. */
export function plan(admin, issuer, keys, { maxActive, maxAge } = {}) {
  return keyPlan(keys, {
    now: admin.now,
    rotationDays: admin.config.rotationDays,
    maxActive: maxActive ?? admin.config.maxActiveKeys,
    maxAge,
    policy: issuerPolicy(issuer),
  });
}

async function publish(admin, issuer) {
  await admin.checkpoint('before-compact');
  const published = await compactJwks(admin.kv, issuer.jwks);
  // A new deployment's first key: the worker also needs a revocation list (it fails closed
  // without one), so an empty one is created.
  if ((await admin.kv.get(REVOCATIONS)) === null) await compactRevocations(admin.kv);
  return published;
}

/**
 * A new private JWK for `alg` and its public half, both from the core before anything is written:
 * a key the core will not publish (HMAC: its only JWK is the secret) stops the command here.
 */
function newKey(alg) {
  try {
    const jwk = tg.generateKey(alg);
    return { jwk, pub: tg.publicJwk(jwk) };
  } catch (e) {
    if (e instanceof tg.TokengateError) throw new UsageError(`--alg ${alg}: ${e.code}: ${e.message}`);
    throw e;
  }
}

/** Stores a generated private JWK (its `alg` set by the core) and publishes its public half. */
async function addKey(admin, issuer, { jwk, pub }) {
  const file = writePrivate(admin, issuer, jwk);
  // The core's creation time: after every stored key's, so the key added last is the newest.
  const created = plan(admin, issuer, await storedKeys(admin, issuer)).nextCreatedAt;
  const meta = { status: 'active', created_at: created, jwk: pub };
  await putKey(admin, issuer, meta);
  return { kid: jwk.kid, alg: jwk.alg, file };
}

async function generate(admin, v) {
  const issuer = admin.signingIssuer(v.issuer);
  const key = newKey(v.alg);
  const alg = key.jwk.alg;
  // A hand-written key set is adopted (or, when the core cannot read it, the command stops) first.
  await adoptJwks(admin.kv, issuer.jwks);
  await admin.audit('keys.generate', { issuer: issuer.issuer, alg });
  const added = await addKey(admin, issuer, key);
  const { doc } = await publish(admin, issuer);
  return {
    json: { issuer: issuer.issuer, added, version: doc.version },
    text: `new active ${alg} key ${added.kid} published in ${issuer.jwks} (version ${doc.version}); private key: ${added.file}`,
  };
}

async function rotate(admin, v) {
  const issuer = admin.signingIssuer(v.issuer);
  const key = newKey(v.alg);
  const alg = key.jwk.alg;
  const maxActive = v['max-active'] === undefined ? undefined : Number(v['max-active']);
  if (maxActive !== undefined && !(Number.isInteger(maxActive) && maxActive >= 1))
    throw new UsageError(`--max-active takes a whole number of keys, at least 1, got "${v['max-active']}"`);
  await adoptJwks(admin.kv, issuer.jwks);
  await admin.audit('keys.rotate', { issuer: issuer.issuer, alg });
  const added = await addKey(admin, issuer, key);
  await admin.checkpoint('after-key');
  const retired = [];
  for (const k of plan(admin, issuer, await storedKeys(admin, issuer), { maxActive }).excess) {
    await putKey(admin, issuer, { ...k, status: 'retired', retired_at: admin.now });
    retired.push(k.jwk.kid);
  }
  const { doc } = await publish(admin, issuer);
  const lines = [`rotated ${issuer.jwks}: new active ${alg} key ${added.kid} (private key: ${added.file})`];
  if (retired.length) lines.push(`retired (still published until their tokens expire): ${retired.join(', ')}`);
  lines.push(`published version ${doc.version}: ${plural(doc.keys.length, 'key')}`);
  return { json: { issuer: issuer.issuer, added, retired, version: doc.version }, text: lines.join('\n') };
}

async function list(admin, v) {
  const issuer = admin.signingIssuer(v.issuer);
  const problems = [];
  const stored = unreadable(issuer.jwks, await admin.kv.get(issuer.jwks));
  if (stored !== null)
    problems.push(`KV key "${issuer.jwks}" cannot be read by the core (${stored}): the worker answers 503; nothing was adopted from it`);
  // Adopting writes nothing when the stored set is unreadable; its entries are still listed.
  const keys =
    stored === null
      ? await storedKeys(admin, issuer)
      : (await listAll(admin.kv, PREFIX.key(issuer.jwks)))
          .map((k) => ({ name: k.name, ...k.metadata }))
          .sort((a, b) => a.created_at - b.created_at);
  const p = plan(admin, issuer, keys);
  const { doc } = await readDoc(admin.kv, issuer.jwks);
  const published = new Set((doc?.keys ?? []).map((k) => k.jwk?.kid));
  // What the worker uses: a key its validator skips does not verify anything.
  const loaded = stored === null ? await workerKeys(admin, issuer) : { skipped: [], error: null };
  if (loaded.error) problems.push(`the worker cannot load ${issuer.jwks}: ${loaded.error}`);
  const skipped = new Map(loaded.skipped);
  for (const [kid, why] of loaded.skipped) problems.push(`key ${kid} is skipped by the worker (it verifies nothing): ${why}`);
  const rows = keys.map((k) => ({
    kid: k.jwk.kid,
    alg: k.jwk.alg ?? null,
    status: k.status,
    created_at: k.created_at,
    retired_at: k.retired_at ?? null,
    ageDays: Math.floor((admin.now - k.created_at) / DAY),
    published: published.has(k.jwk.kid),
    privateKey: existsSync(privateKeyPath(admin, issuer, k.jwk.kid)),
    rotationDue: p.due.includes(k),
    removableAt: k.status === 'retired' ? p.removableAt(k) : null,
    skipped: skipped.get(k.jwk.kid) ?? null,
  }));
  const text = [
    `${issuer.jwks} (${issuer.issuer}): ${plural(rows.length, 'key')}`,
    ...rows.map(
      (r) =>
        `  ${shown(r.kid)}  ${r.alg ?? '?'}  ${r.status.padEnd(7)}  created ${iso(r.created_at)} (${r.ageDays} d)` +
        `${r.retired_at ? `  retired ${iso(r.retired_at)}, removable ${iso(r.removableAt)}` : ''}` +
        `${r.rotationDue ? '  ROTATION DUE' : ''}${r.published ? '' : '  NOT PUBLISHED'}${r.skipped ? '  SKIPPED BY THE WORKER' : ''}${r.privateKey ? '  [private key here]' : ''}`,
    ),
    ...problems.map((m) => `PROBLEM: ${m}`),
  ].join('\n');
  return { json: { issuer: issuer.issuer, jwks: issuer.jwks, keys: rows, problems }, text, code: problems.length ? 1 : 0 };
}

async function retire(admin, v, [kid]) {
  const issuer = admin.signingIssuer(v.issuer);
  if (!kid) throw new UsageError('keys retire needs the KID');
  const keys = await storedKeys(admin, issuer);
  const k = keys.find((x) => x.jwk.kid === kid);
  if (!k) throw new NotFound(`no key "${shown(kid)}" in ${issuer.jwks}`);
  await admin.audit('keys.retire', { issuer: issuer.issuer, kid });
  if (k.status !== 'retired') await putKey(admin, issuer, { ...k, status: 'retired', retired_at: admin.now });
  const { doc } = await publish(admin, issuer);
  const left = keys.filter((x) => x.status === 'active' && x.jwk.kid !== kid).length;
  return {
    json: { issuer: issuer.issuer, retired: kid, activeLeft: left, version: doc.version },
    text: `retired ${kid}: it still verifies tokens until ${iso(plan(admin, issuer, [{ ...k, status: 'retired', retired_at: admin.now }]).removableAt(k))}, then \`keys cleanup\` removes it${left === 0 ? '\nwarning: no active key is left; run `keys rotate` before minting' : ''}`,
  };
}

async function cleanup(admin, v) {
  const issuer = admin.signingIssuer(v.issuer);
  const maxAge = v['max-age'] === undefined ? undefined : duration(v['max-age'], '--max-age');
  let keys = await storedKeys(admin, issuer);
  let p = plan(admin, issuer, keys, { maxAge });
  // Nothing to retire or remove (an empty store included): nothing is written, not even the audit record.
  const othersActive = (k) => keys.some((x) => x.status === 'active' && x !== k);
  if (p.removable.length === 0 && !p.tooOld.some(othersActive)) {
    const { doc } = await readDoc(admin.kv, issuer.jwks);
    const what = keys.length === 0 ? `no keys in ${issuer.jwks}` : `no key can be removed or retired yet (${plural(keys.length, 'key')})`;
    return { json: { issuer: issuer.issuer, removed: [], retired: [], version: doc?.version ?? null }, text: `${what}; nothing written` };
  }
  await admin.audit('keys.cleanup', { issuer: issuer.issuer });
  // Active keys past the age limit are retired (not removed: tokens they signed are live), as
  // long as another active key remains to sign with.
  const retired = [];
  for (const k of p.tooOld) {
    const othersActive = keys.filter((x) => x.status === 'active' && !retired.includes(x.jwk.kid) && x !== k).length;
    if (othersActive === 0) continue;
    await putKey(admin, issuer, { ...k, status: 'retired', retired_at: admin.now });
    retired.push(k.jwk.kid);
  }
  if (retired.length) {
    keys = await storedKeys(admin, issuer);
    p = plan(admin, issuer, keys, { maxAge });
  }
  const removed = [];
  for (const k of p.removable) {
    await admin.kv.delete(k.name);
    rmSync(privateKeyPath(admin, issuer, k.jwk.kid), { force: true });
    removed.push(k.jwk.kid);
  }
  const { doc } = await publish(admin, issuer);
  const text = [
    removed.length
      ? `removed ${plural(removed.length, 'key')} whose tokens have all expired: ${removed.join(', ')}`
      : 'no key can be removed yet',
    ...(retired.length ? [`retired ${plural(retired.length, 'key')} older than the age limit: ${retired.join(', ')}`] : []),
    `published version ${doc.version}: ${plural(doc.keys.length, 'key')}`,
  ].join('\n');
  return { json: { issuer: issuer.issuer, removed, retired, version: doc.version }, text };
}

/** A leaked key: unpublished at once, so every token it signed stops verifying. */
async function remove(admin, v, [kid]) {
  const issuer = admin.signingIssuer(v.issuer);
  if (!kid) throw new UsageError('keys remove needs the KID');
  const k = (await storedKeys(admin, issuer)).find((x) => x.jwk.kid === kid);
  if (!k) throw new NotFound(`no key "${shown(kid)}" in ${issuer.jwks}`);
  await admin.audit('keys.remove', { issuer: issuer.issuer, kid });
  await admin.kv.delete(k.name);
  rmSync(privateKeyPath(admin, issuer, kid), { force: true });
  const { doc } = await publish(admin, issuer);
  const left = doc.keys.filter((x) => x.status === 'active').length;
  return {
    json: { issuer: issuer.issuer, removed: kid, activeLeft: left, version: doc.version },
    text: `removed ${kid}: tokens it signed stop verifying within the worker's cache TTL${left === 0 ? '\nwarning: no active key is left; run `keys rotate` before minting' : ''}`,
  };
}

/**
 * Rewrites the key set from its entries (adopting a hand-written one first). `--rebuild`: a
 * stored set the core cannot read is discarded on purpose (the audit record keeps its text).
 */
async function publishCommand(admin, v) {
  const issuer = admin.issuer(v.issuer);
  if (issuer.jwks === undefined) throw new UsageError(`${issuer.issuer} has remote keys (jwksUri or discovery): nothing to publish`);
  const text = await admin.kv.get(issuer.jwks);
  const problem = unreadable(issuer.jwks, text);
  const rebuild = !!v.rebuild && problem !== null;
  if (rebuild) await admin.audit('keys.rebuild', { issuer: issuer.issuer, problem, discarded: text });
  else await admin.audit('keys.publish', { issuer: issuer.issuer });
  const adopted = await adoptJwks(admin.kv, issuer.jwks, { rebuild });
  const { doc } = await compactJwks(admin.kv, issuer.jwks, { rebuild });
  return {
    json: { issuer: issuer.issuer, version: doc.version, keys: doc.keys.length, adopted, discarded: rebuild ? problem : null },
    text: `${rebuild ? `discarded the unreadable ${issuer.jwks} (${problem}); its text is in the audit log\n` : ''}published ${issuer.jwks} version ${doc.version}: ${plural(doc.keys.length, 'key')}${adopted ? `, ${plural(adopted, 'hand-written key')} adopted as entries` : ''}`,
  };
}

export const keys = { generate, rotate, list, retire, cleanup, remove, publish: publishCommand };

/** The newest active key of an issuer whose private JWK is here, and that is published. */
export async function signingKey(admin, issuer) {
  const all = await storedKeys(admin, issuer);
  const { doc } = await readDoc(admin.kv, issuer.jwks);
  const published = new Set((doc?.keys ?? []).map((k) => k.jwk?.kid));
  for (const k of all.filter((x) => x.status === 'active').reverse()) {
    const file = privateKeyPath(admin, issuer, k.jwk.kid);
    if (!existsSync(file)) continue;
    if (!published.has(k.jwk.kid)) await compactJwks(admin.kv, issuer.jwks);
    return JSON.parse(readFileSync(file, 'utf8'));
  }
  throw new UsageError(
    `no active signing key of ${issuer.issuer} has its private key in ${admin.keysDir}; run \`tokengate keys rotate --issuer ${issuer.issuer}\``,
  );
}
