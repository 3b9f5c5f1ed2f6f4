// Per-tenant, per-module scope grants (seed 003). One entry per (tenant, module, scope), compacted
// into the `grants` document; the worker narrows a token's scopes to its tenant's grants.
import * as tg from '../node.js';
import { GRANTS, PREFIX, adoptGrants, compactGrants, grantName, listAll, unreadable } from '../store.js';
import { NotFound, UsageError, iso } from './context.js';
import { kvLimitProblem } from './kv.js';
import { plural, shown } from '../cli/text.js';

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

/**
 * Tenant grants narrow only the tokens of issuers with `tenantGrants` (the claims naming the
 * tenant and module): with none configured, a warning that the grants have no effect.
 */
function warnWithoutTenantIssuer(admin) {
  if (!admin.config || admin.config.issuers.some((i) => i.tenantGrants !== undefined)) return null;
  const w = `no configured issuer has tenantGrants, so the worker narrows no token by these grants (they have no effect until an issuer sets tenantGrants: { tenantClaim, moduleClaim })`;
  process.stderr.write(`warning: ${w}\n`);
  return w;
}

/** Hand-written tenant grants become entries first; a document the core cannot read stops the command before any write. */
const adopt = (admin, rebuild = false) =>
  adoptGrants(admin.kv, { rebuild, now: admin.now, by: `${admin.actor} (adopted from the grants document)` });

async function grant(admin, v) {
  const scopes = scopesOf(v);
  const entries = scopes.map((scope) => ({
    name: grantName(v.tenant, v.module, scope),
    meta: { tenant: v.tenant, module: v.module, scope, granted_by: admin.actor, granted_at: admin.now },
  }));
  for (const { meta, name } of entries) {
    const problem = kvLimitProblem(name, meta);
    if (problem)
      throw new UsageError(`the grant of ${shown(meta.scope)} to ${shown(v.tenant)}/${shown(v.module)} cannot be stored: ${problem}`);
  }
  const warning = warnWithoutTenantIssuer(admin);
  await adopt(admin);
  await admin.audit('grants.grant', { tenant: v.tenant, module: v.module, scopes });
  for (const { name, meta } of entries) await admin.kv.put(name, JSON.stringify(meta), { metadata: meta });
  await admin.checkpoint('before-compact');
  const { doc } = await compactGrants(admin.kv);
  return {
    json: {
      tenant: v.tenant,
      module: v.module,
      granted: scopes,
      now: doc.tenants[v.tenant]?.[v.module] ?? [],
      version: doc.version,
      warnings: warning ? [warning] : [],
    },
    text: `${shown(v.tenant)}/${shown(v.module)} now has: ${(doc.tenants[v.tenant]?.[v.module] ?? []).join(' ')} (grants version ${doc.version})`,
  };
}

async function revoke(admin, v) {
  const scopes = scopesOf(v);
  const warning = warnWithoutTenantIssuer(admin);
  await adopt(admin);
  // A grant that does not exist is a not-found (exit 1), before anything is written.
  const missing = [];
  for (const scope of scopes) if ((await admin.kv.get(grantName(v.tenant, v.module, scope))) === null) missing.push(scope);
  if (missing.length)
    throw new NotFound(`${shown(v.tenant)}/${shown(v.module)} has no grant of ${missing.map(shown).join(' ')}; nothing revoked`);
  await admin.audit('grants.revoke', { tenant: v.tenant, module: v.module, scopes });
  for (const scope of scopes) await admin.kv.delete(grantName(v.tenant, v.module, scope));
  const { doc } = await compactGrants(admin.kv);
  const left = doc.tenants[v.tenant]?.[v.module] ?? [];
  return {
    json: { tenant: v.tenant, module: v.module, revoked: scopes, now: left, version: doc.version, warnings: warning ? [warning] : [] },
    text: `${shown(v.tenant)}/${shown(v.module)} now has: ${left.join(' ') || '(nothing)'} (grants version ${doc.version})`,
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
  const warning = warnWithoutTenantIssuer(admin);
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
    `grants: ${bad !== null ? 'UNREADABLE' : doc ? `version ${doc.version}` : 'none'}; ${plural(rows.length, 'grant')}`,
    ...rows.map(
      (r) =>
        `  ${shown(r.tenant)}/${shown(r.module)}  ${shown(r.scope)}  by ${shown(r.granted_by)} at ${iso(r.granted_at)}${r.refused ? '  REFUSED BY THE CORE' : ''}`,
    ),
    ...problems.map((p) => `PROBLEM: ${p}`),
  ].join('\n');
  return { json: { grants: rows, problems, warnings: warning ? [warning] : [] }, text, code: problems.length ? 1 : 0 };
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
    text: `${rebuild ? `discarded the unreadable grants document (${problem}); its text is in the audit log\n` : ''}grants document version ${doc.version}${adopted ? `; ${plural(adopted, 'hand-written grant')} adopted as entries` : ''}`,
  };
}

export const grants = { grant, revoke, list, compact };
