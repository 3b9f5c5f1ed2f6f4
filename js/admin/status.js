// `status` / `health`: what the worker will read, checked the way the worker checks it, plus the
// lifecycle questions an operator asks (keys due for rotation, pending entries, API keys by
// state). Exit code 1 when anything is wrong, for monitoring.
import { existsSync } from 'node:fs';
import * as tg from '../node.js';
import {
  GRANTS,
  MAINTENANCE,
  PREFIX,
  REVOCATIONS,
  digestOf,
  listAll,
  readDoc,
  readRevocations,
  remoteKeys,
  revocationEntries,
} from '../store.js';
import { iso } from './context.js';
import { plural, shown } from '../cli/text.js';
import { plan, workerKeys } from './keys.js';
import { records } from './apikeys.js';
import { refusedGrant } from './grants.js';

// Every document is judged by the core functions the worker reads it with (never a JSON.parse
// here): key sets by `lifecycle.keySet` and a validator built from their keys (skipped keys
// named), revocations by the worker's own read, grants by `grantsDocument`, API-key records by
// the core's record check (value and metadata one record, its hash its KV key's).

/**
 * A remote issuer (jwksUri, discovery): where its keys come from and the copy kept in KV
 * (`remote:<issuer>`), summarised by the core. No copy yet is no problem (the first request or
 * the cron fetches it); a copy the core refuses, or one without usable keys, is.
 */
async function remoteSet(admin, issuer, problems) {
  const key = remoteKeys.kvKey(issuer.issuer);
  const source = issuer.jwksUri ?? remoteKeys.discoveryUrls(issuer.issuer)[0];
  // `from`/`url`: the configured source; the core's summary adds `source`, where the copy came from.
  const out = { issuer: issuer.issuer, remote: { key, from: issuer.jwksUri !== undefined ? 'jwksUri' : 'discovery', url: source } };
  const text = await admin.kv.get(key);
  out.remote.stored = text !== null;
  let set;
  try {
    set = remoteKeys.open(issuer.issuer, text, issuer.jwksUri ?? null);
  } catch (e) {
    problems.push(`KV key "${key}" is refused by the core (${e.message}): the worker fetches ${issuer.issuer}'s keys again`);
    return out;
  }
  const s = JSON.parse(set.summary(admin.now * 1000, admin.config.kidCooldown, admin.config.keysMaxStale));
  out.remote = { ...out.remote, ...s, ignored: set.ignored ?? null };
  if (text !== null && !set.ignored && !s.usable)
    problems.push(
      `${key}: no usable keys for ${issuer.issuer}${s.lastError ? ` (last error: ${s.lastError.reason}: ${s.lastError.message})` : ''}: the worker answers 503 for its tokens until a fetch succeeds (\`keys fetch --issuer ${issuer.issuer}\`)`,
    );
  return out;
}

async function keySet(admin, issuer, problems) {
  if (issuer.jwks === undefined) return remoteSet(admin, issuer, problems);
  const out = { issuer: issuer.issuer, jwks: issuer.jwks };
  const listed = await listAll(admin.kv, PREFIX.key(issuer.jwks));
  const { doc, text } = await readDoc(admin.kv, issuer.jwks);
  if (text === null)
    problems.push(
      `KV key "${issuer.jwks}" is missing: every token of ${issuer.issuer} is rejected (run \`keys rotate --issuer ${issuer.issuer}\`)`,
    );
  else {
    const loaded = await workerKeys(admin, issuer);
    if (loaded.error)
      problems.push(
        `KV key "${issuer.jwks}" is refused by the core (${loaded.error}): the worker answers 503 for ${issuer.issuer} once its last good copy ages out`,
      );
    else {
      out.version = loaded.doc.version;
      out.skipped = loaded.skipped.map(([kid, reason]) => ({ kid, reason }));
      for (const [kid, why] of loaded.skipped)
        problems.push(`${issuer.jwks}: key ${kid} is skipped by the worker (it verifies no token): ${why}`);
      if (doc?.source !== undefined && doc.source !== digestOf(listed))
        problems.push(
          `${issuer.jwks}: stored key changes are not all published yet (an interrupted command?); run \`keys list\` or any keys command to publish`,
        );
    }
  }
  const keys = listed.map((k) => ({ name: k.name, ...k.metadata }));
  const bad = [];
  for (const k of listed) {
    try {
      tg.rotation.entry(k.metadata ?? null);
    } catch (e) {
      bad.push(keys[listed.indexOf(k)]);
      problems.push(`key entry "${k.name}" is invalid: ${e.message}`);
    }
  }
  const good = keys.filter((k) => !bad.includes(k)).sort((a, b) => a.created_at - b.created_at);
  const p = plan(admin, issuer, good);
  out.keys = {
    active: p.active.length,
    retired: good.length - p.active.length,
    newestAgeDays: p.newestAgeDays,
    rotationDue: p.due.map((k) => k.jwk.kid),
    removable: p.removable.map((k) => k.jwk.kid),
  };
  if (good.length && p.active.length === 0) problems.push(`${issuer.issuer} has no active signing key`);
  if (p.rotationDue)
    problems.push(
      `${issuer.issuer}: key rotation is due (newest active key is ${p.newestAgeDays} days old; schedule ${admin.config.rotationDays} days)`,
    );
  if (p.excess.length) problems.push(`${issuer.issuer}: ${plural(p.active.length, 'active key')}, more than ${admin.config.maxActiveKeys}`);
  return out;
}

async function revocationStatus(admin, problems) {
  const listed = await listAll(admin.kv, PREFIX.revocation);
  const { doc, text } = await readDoc(admin.kv, REVOCATIONS);
  const entries = await revocationEntries(admin.kv, listed);
  const out = { entries: entries.length, expiredEntries: tg.lifecycle.expiredRevocations(entries, { now: admin.now }).length };
  if (text === null) {
    if (listed.length) problems.push('KV key "revocations" is missing but revocations are stored: run `tokengate revocations compact`');
    else problems.push('KV key "revocations" is missing: the worker answers 503 (run `tokengate revocations compact` to create it)');
  } else {
    let list;
    try {
      // What the worker enforces: the snapshot merged by the core with any entry it is behind.
      list = new tg.RevocationList((await readRevocations(admin.kv, { now: admin.now })).text);
    } catch (e) {
      problems.push(`KV key "revocations" is refused by the core (${e.code ? `${e.code}: ` : ''}${e.message}): the worker answers 503`);
    }
    if (list) {
      out.version = list.version;
      out.size = list.size;
      out.ageSeconds = admin.now - list.generatedAt;
      const max = admin.config?.maxRevocationAge;
      if (max && out.ageSeconds > max)
        problems.push(
          `revocation list is ${out.ageSeconds} s old, over maxRevocationAge ${max} s: the worker answers 503 revocation_data_stale`,
        );
      if (doc?.source !== undefined && doc.source !== digestOf(listed)) {
        out.pending = true;
        problems.push(
          'stored revocations are not all in the stored list yet (an interrupted command?; the worker merges them in meanwhile): run `tokengate revocations compact`',
        );
      }
    }
  }
  for (const { name, entry } of entries) {
    try {
      tg.revocations.entry(entry);
    } catch (e) {
      problems.push(`revocation entry "${name}" is invalid: ${e.message}`);
    }
  }
  return out;
}

async function apikeyStatus(admin, problems) {
  const counts = { active: 0, expired: 0, revoked: 0, purged: 0 };
  for (const { entry, record, error } of await records(admin)) {
    if (error) {
      problems.push(`API key entry "${entry}" is refused by the core (the worker answers 503 for that key): ${error}`);
      continue;
    }
    counts[tg.apiKey.state(record, { now: admin.now })]++;
  }
  return counts;
}

export async function status(admin) {
  const problems = [];
  if (!admin.config)
    problems.push(
      admin.configError ??
        (existsSync('wrangler.toml')
          ? 'no worker configuration (TOKENGATE_CONFIG in wrangler.toml or KV "config")'
          : `no worker configuration: no wrangler.toml in ${process.cwd()}, no --config FILE, and no KV key "config"`),
    );
  const issuers = [];
  for (const issuer of admin.config?.issuers ?? []) issuers.push(await keySet(admin, issuer, problems));
  const revocations = await revocationStatus(admin, problems);
  const apikeys = await apikeyStatus(admin, problems);
  const grants = await readDoc(admin.kv, GRANTS);
  const grantEntries = await listAll(admin.kv, PREFIX.grant);
  let handWritten = 0;
  if (grants.text !== null) {
    try {
      tg.grantsDocument(grants.text);
      handWritten = tg.lifecycle.adoptableGrants(
        grants.text,
        grantEntries.map((k) => ({ name: k.name, entry: k.metadata ?? null })),
      ).length;
      if (grants.doc?.source !== undefined && grants.doc.source !== digestOf(grantEntries))
        problems.push('stored grants are not all in the grants document: run `tokengate grants compact`');
    } catch (e) {
      problems.push(
        `KV key "grants" is refused by the core (${e.code ? `${e.code}: ` : ''}${e.message}): the worker answers 503 for tokens it narrows`,
      );
    }
  }
  for (const k of grantEntries) {
    const refused = refusedGrant(k, admin.now);
    if (refused) problems.push(refused);
  }
  const audit = await listAll(admin.kv, PREFIX.audit);
  const maintenance = (await readDoc(admin.kv, MAINTENANCE)).doc;
  const report = {
    ok: problems.length === 0,
    problems,
    at: admin.now,
    issuers,
    revocations,
    apikeys,
    grants: { entries: grantEntries.length, handWritten, version: grants.doc?.version ?? null },
    audit: { entries: audit.length, last: audit.at(-1)?.metadata ?? null },
    maintenance,
  };
  const lines = [`tokengate status at ${iso(admin.now)}: ${report.ok ? 'OK' : plural(problems.length, 'problem')}`];
  for (const i of issuers) {
    if (i.remote) {
      const r = i.remote;
      lines.push(
        `  remote keys (${i.issuer}) from ${r.from === 'jwksUri' ? r.url : `discovery (${r.url})`}: ` +
          (!r.stored || r.ignored
            ? `${r.ignored ? `the copy in KV is ignored (${shown(r.ignored)})` : 'no copy in KV yet'} (fetched on the first request or by the cron; \`keys fetch\` fetches now)`
            : `${r.key}: ${plural(r.keys ?? 0, 'key')}${r.kids?.length ? ` (${shown(r.kids.join(', '))})` : ''}, ` +
              `${r.ageSeconds ?? '-'} s old, next refresh in ${r.nextRefreshSeconds ?? '-'} s` +
              `${r.lastError ? `; last error: ${r.lastError.reason}: ${shown(r.lastError.message)}` : ''}`),
      );
      continue;
    }
    lines.push(
      `  keys ${i.jwks} (${i.issuer}): ${i.keys.active} active, ${i.keys.retired} retired; newest ${i.keys.newestAgeDays ?? '-'} d old` +
        `${i.keys.rotationDue.length ? `; due for rotation: ${i.keys.rotationDue.join(', ')}` : ''}${i.keys.removable.length ? `; removable: ${i.keys.removable.join(', ')}` : ''}`,
    );
  }
  lines.push(
    `  revocations: ${revocations.size === undefined ? 'no list' : `${plural(revocations.size, 'entry', 'entries')} in the list (version ${revocations.version}, ${revocations.ageSeconds} s old)`}; ${revocations.entries} stored, ${revocations.expiredEntries} expired${revocations.expiredEntries ? ' (prune with `revocations prune`)' : ''}`,
  );
  lines.push(
    `  API keys: ${Object.entries(apikeys)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ')}`,
  );
  lines.push(
    `  grants: ${grantEntries.length}${handWritten ? ` (+${handWritten} hand-written in the document, adopted by the next grants command)` : ''}; audit log: ${plural(audit.length, 'record')}${report.audit.last ? `, last ${report.audit.last.action} by ${shown(report.audit.last.actor)} at ${report.audit.last.at}` : ''}`,
  );
  if (maintenance) lines.push(`  last maintenance run: ${iso(maintenance.at)} (pruned ${maintenance.pruned})`);
  for (const p of problems) lines.push(`PROBLEM: ${p}`);
  return { code: report.ok ? 0 : 1, json: report, text: lines.join('\n') };
}

/** What an audit record changed (its target) and why, in one line of text. */
function auditTarget(r) {
  const parts = [];
  if (r.issuer) parts.push(r.issuer);
  for (const e of Array.isArray(r.entries) ? r.entries : [])
    parts.push(
      e?.kind === 'jti'
        ? `jti ${e.jti} of ${e.iss}`
        : e?.kind === 'subject'
          ? `every token of ${e.sub} (${e.iss}) before ${iso(e.before)}`
          : `${e?.kind ?? 'entry'} ${e?.hash ?? ''}`.trim(),
    );
  if (r.kid) parts.push(`key ${r.kid}`);
  if (r.alg) parts.push(r.alg);
  if (r.sub !== undefined) parts.push(`sub ${r.sub}${r.jti ? `, jti ${r.jti}` : ''}${r.ttl ? `, ttl ${r.ttl} s` : ''}`);
  if (r.id) parts.push(`API key ${r.id}${r.name !== undefined ? ` "${r.name}"` : ''}${r.owner !== undefined ? ` of ${r.owner}` : ''}`);
  if (r.tenant !== undefined) parts.push(`${r.tenant}/${r.module}${Array.isArray(r.scopes) ? ` ${r.scopes.join(' ')}` : ''}`);
  else if (Array.isArray(r.scopes) && r.scopes.length) parts.push(`scopes ${r.scopes.join(' ')}`);
  if (r.onePerUser) parts.push('one per user');
  if (r.onePerOwner) parts.push('one per owner');
  if (r.problem) parts.push(`discarded: ${r.problem}`);
  if (r.ok === false) parts.push('failed');
  if (r.reason !== undefined) parts.push(`reason: ${r.reason}`);
  return parts.map(shown).join('; ');
}

export async function auditList(admin, v) {
  const since = v.since === undefined ? null : v.since;
  // The record's own KV key is `key`: `name` is a field of the records themselves (an API key's).
  let rows = (await listAll(admin.kv, PREFIX.audit)).map((k) => ({ key: k.name, ...k.metadata }));
  if (since !== null) rows = rows.filter((r) => r.at >= since);
  // A record too large for KV metadata is listed as a summary; its value holds all of it.
  const records = [];
  for (const r of rows) {
    let full = r;
    if (r.truncated) {
      try {
        full = { key: r.key, ...JSON.parse((await admin.kv.get(r.key)) ?? '{}') };
      } catch {
        // an unreadable value: the summary is all there is
      }
    }
    records.push(full);
  }
  return {
    json: { records: rows },
    text: [
      plural(rows.length, 'audit record'),
      ...records.map((r) => {
        const target = auditTarget(r);
        return `  ${r.at}  ${shown(r.actor)}  ${r.action}${target ? `  ${target}` : ''}`;
      }),
    ].join('\n'),
  };
}
