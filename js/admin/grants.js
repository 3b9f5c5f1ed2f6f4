// Per-tenant, per-module scope grants (seed 003). One entry per (tenant, module, scope), compacted
// into the `grants` document; the worker narrows a token's scopes to its tenant's grants.
import * as tg from '../node.js';
import { GRANTS, PREFIX, compactGrants, grantName, listAll, readDoc } from '../store.js';
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

async function grant(admin, v) {
  const scopes = scopesOf(v);
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
  await admin.audit('grants.revoke', { tenant: v.tenant, module: v.module, scopes });
  for (const scope of scopes) await admin.kv.delete(grantName(v.tenant, v.module, scope));
  const { doc } = await compactGrants(admin.kv);
  const left = doc.tenants[v.tenant]?.[v.module] ?? [];
  return {
    json: { tenant: v.tenant, module: v.module, revoked: scopes, now: left, version: doc.version },
    text: `${v.tenant}/${v.module} now has: ${left.join(' ') || '(nothing)'} (grants version ${doc.version})`,
  };
}

async function list(admin, v) {
  const rows = (await listAll(admin.kv, PREFIX.grant))
    .map((k) => k.metadata)
    .filter((m) => m && (v.tenant === undefined || m.tenant === v.tenant) && (v.module === undefined || m.module === v.module));
  const { doc, error } = await readDoc(admin.kv, GRANTS);
  const text = [
    `grants: ${error ?? (doc ? `version ${doc.version}` : 'none')}; ${rows.length} grant(s)`,
    ...rows.map((r) => `  ${r.tenant}/${r.module}  ${r.scope}  by ${r.granted_by} at ${iso(r.granted_at)}`),
  ].join('\n');
  return { json: { grants: rows }, text };
}

export const grants = { grant, revoke, list };
