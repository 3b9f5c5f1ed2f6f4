// Per-tenant, per-module scope grants (seed 003). One entry per (tenant, module, scope), compacted
// into the `grants` document; the worker narrows a token's scopes to its tenant's grants.
import * as tg from '../node.js';
import { GRANTS, PREFIX, adoptGrants, compactGrants, grantName, listAll, unreadable } from '../store.js';
import { UsageError, iso } from './context.js';

export const GRANT_OPTIONS = {
  tenant: { type: 'string' },
  module: { type: 'string' },
  scope: { type: 'string', multiple: true },
};

function scopesOf(v) {
  if (!v.tenant || !v.module || !v.scope?.length) throw new UsageError('give --tenant T --module M --scope S (--scope may repeat)');
  try {
    // The core's scope grammar (wildcards allowed in grants).
    return tg.parseScopes(v.scope.join(' '));
  } catch (e) {
    throw new UsageError(e.message);
  }
}

/** Hand-written tenant grants become entries first; a document the core cannot read stops the command before any write. */
const adopt = (admin, rebuild = false) =>
  adoptGrants(admin.kv, { rebuild, now: admin.now, by: `${admin.actor} (adopted from the grants document)` });

async function grant(admin, v) {
  const scopes = scopesOf(v);
  await adopt(admin);
  await admin.audit('grants.grant', { tenant: v.tenant, module: v.module, scopes });
  for (const scope of scopes) {
    const meta = { tenant: v.tenant, module: v.module, scope, granted_by: admin.actor, granted_at: admin.now };
    await admin.kv.put(grantName(v.tenant, v.module, scope), JSON.stringify(meta), { metadata: meta });
  }
  await admin.checkpoint('before-compact');
  const { doc } = await compactGrants(admin.kv);
  return {
    json: { tenant: v.tenant, module: v.module, granted: scopes, now: doc.tenants[v.tenant]?.[v.module] ?? [], version: doc.version },
    text: `${v.tenant}/${v.module} now has: ${(doc.tenants[v.tenant]?.[v.module] ?? []).join(' ')} (grants version ${doc.version})`,
  };
}

async function revoke(admin, v) {
  const scopes = scopesOf(v);
  await adopt(admin);
  await admin.audit('grants.revoke', { tenant: v.tenant, module: v.module, scopes });
  for (const scope of scopes) await admin.kv.delete(grantName(v.tenant, v.module, scope));
  const { doc } = await compactGrants(admin.kv);
  const left = doc.tenants[v.tenant]?.[v.module] ?? [];
  return {
    json: { tenant: v.tenant, module: v.module, revoked: scopes, now: left, version: doc.version },
    text: `${v.tenant}/${v.module} now has: ${left.join(' ') || '(nothing)'} (grants version ${doc.version})`,
  };
}

/** A grant entry the core refuses (its reason), or null: each checked as the builder checks it. */
export function refusedGrant(k, now) {
  try {
    tg.lifecycle.buildGrants([{ name: k.name, entry: k.metadata ?? null }], null, { now, source: '-' });
    return null;
  } catch (e) {
    if (e instanceof tg.TokengateError) return e.message;
    throw e;
  }
}

async function list(admin, v) {
  const text0 = await admin.kv.get(GRANTS);
  const problems = [];
  const bad = unreadable(GRANTS, text0);
  if (bad !== null) problems.push(`KV key "grants" cannot be read by the core (${bad}): the worker answers 503 for tenant-granted routes`);
  // Hand-written tenant grants count: they become entries (not when the document is unreadable).
  if (bad === null) await adopt(admin);
  const doc = bad === null && text0 !== null ? tg.grantsDocument(text0) : null;
  const rows = [];
  for (const k of await listAll(admin.kv, PREFIX.grant)) {
    const m = k.metadata ?? {};
    if ((v.tenant !== undefined && m.tenant !== v.tenant) || (v.module !== undefined && m.module !== v.module)) continue;
    const refused = refusedGrant(k, admin.now);
    if (refused) problems.push(refused);
    rows.push({ ...m, name: k.name, refused });
  }
  const text = [
    `grants: ${bad !== null ? 'UNREADABLE' : doc ? `version ${doc.version}` : 'none'}; ${rows.length} grant(s)`,
    ...rows.map(
      (r) => `  ${r.tenant}/${r.module}  ${r.scope}  by ${r.granted_by} at ${iso(r.granted_at)}${r.refused ? '  REFUSED BY THE CORE' : ''}`,
    ),
    ...problems.map((p) => `PROBLEM: ${p}`),
  ].join('\n');
  return { json: { grants: rows, problems }, text, code: problems.length ? 1 : 0 };
}

/** Rewrites the grants document from its entries; `--rebuild` discards one the core cannot read (audited, its text kept). */
async function compact(admin, v) {
  const text = await admin.kv.get(GRANTS);
  const problem = unreadable(GRANTS, text);
  const rebuild = !!v.rebuild && problem !== null;
  if (rebuild) await admin.audit('grants.rebuild', { problem, discarded: text });
  else await admin.audit('grants.compact');
  const adopted = await adopt(admin, rebuild);
  const { doc } = await compactGrants(admin.kv, { rebuild });
  return {
    json: { version: doc.version, adopted, discarded: rebuild ? problem : null },
    text: `${rebuild ? `discarded the unreadable grants document (${problem}); its text is in the audit log\n` : ''}grants document version ${doc.version}${adopted ? `; ${adopted} hand-written grant(s) adopted as entries` : ''}`,
  };
}

export const grants = { grant, revoke, list, compact };
