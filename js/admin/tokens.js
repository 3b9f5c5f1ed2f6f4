// Tokens: mint with an issuer's current key (TTL capped, optionally one active token per user),
// revoke (one token, a jti, or every token of a subject), and the revocation list.
import { randomUUID } from 'node:crypto';
import * as tg from '../node.js';
import {
  PREFIX,
  REVOCATIONS,
  adoptRevocations,
  compactRevocations,
  listAll,
  putRevocation,
  readDoc,
  revocationEntries,
  unreadable,
} from '../store.js';
import { UsageError, duration, instant, iso } from './context.js';
import { signingKey } from './keys.js';
import { plural, shown } from '../cli/text.js';

export const TOKEN_OPTIONS = {
  issuer: { type: 'string' },
  sub: { type: 'string' },
  scope: { type: 'string' },
  ttl: { type: 'string' },
  type: { type: 'string' },
  aud: { type: 'string' },
  'one-per-user': { type: 'boolean' },
  claim: { type: 'string', multiple: true },
  token: { type: 'string' },
  jti: { type: 'string' },
  subject: { type: 'string' },
  before: { type: 'string' },
  reason: { type: 'string' },
};

const TYPES = ['access', 'refresh', 'service'];

/**
 * Stores checked entries, then brings the list the worker reads up to date. A stored list the
 * core cannot read stops this before anything is stored (it is never rebuilt over).
 */
async function record(admin, entries) {
  await adoptRevocations(admin.kv);
  const names = [];
  for (const e of entries) names.push(await putRevocation(admin.kv, e));
  await admin.checkpoint('before-compact');
  const { doc } = await compactRevocations(admin.kv);
  return { names, version: doc.version };
}

export async function mint(admin, v) {
  const issuer = admin.signingIssuer(v.issuer);
  if (v.sub === undefined) throw new UsageError('mint --issuer needs --sub USER');
  const type = v.type ?? 'access';
  if (!TYPES.includes(type)) throw new UsageError(`--type must be one of ${TYPES.join(', ')}`);
  const limits = admin.lifetimes(issuer);
  let ttl = v.ttl === undefined ? limits.mintTtl : duration(v.ttl, '--ttl');
  const warnings = [];
  const cap = limits.mintTtlCap;
  if (ttl > cap) {
    const capText = cap % 3600 === 0 ? `${cap / 3600} h` : `${cap} s`;
    const whose =
      limits.maxLifetime === null ? `mint's limit for an issuer without a lifetime cap` : `the maximum token lifetime of ${issuer.issuer}`;
    warnings.push(`--ttl ${v.ttl} is longer than ${whose}; capped at ${capText}`);
    ttl = cap;
  }
  const now = admin.now;
  let exp;
  try {
    exp = tg.lifecycle.tokenExpiry(now, ttl);
  } catch (e) {
    if (e instanceof tg.TokengateError) throw new UsageError(e.message);
    throw e;
  }
  const key = await signingKey(admin, issuer);
  const aud = v.aud ?? (Array.isArray(issuer.audience) ? issuer.audience[0] : issuer.audience);
  const claims = { iss: issuer.issuer, sub: v.sub, iat: now, exp, jti: randomUUID(), type };
  if (aud !== undefined) claims.aud = aud;
  if (v.scope !== undefined) claims.scope = v.scope;
  for (const c of v.claim ?? []) {
    const eq = c.indexOf('=');
    const name = c.slice(0, eq);
    if (eq < 1 || name in claims || ['nbf', 'scope', 'aud'].includes(name))
      throw new UsageError(`--claim takes NAME=VALUE for a claim mint does not set itself, got "${c}"`);
    const value = c.slice(eq + 1);
    try {
      claims[name] = JSON.parse(value);
    } catch {
      claims[name] = value;
    }
  }
  await admin.audit('mint', { issuer: issuer.issuer, sub: v.sub, jti: claims.jti, type, ttl, onePerUser: !!v['one-per-user'] });
  let cutOff = null;
  if (v['one-per-user']) {
    // Every earlier token of this user stops working; this one (iat = the cut-off) stays valid.
    // Recorded before the token is printed, so no earlier token outlives the command.
    cutOff = await record(admin, [
      { kind: 'subject', iss: issuer.issuer, sub: v.sub, before: now, until: admin.until(issuer, { kind: 'subject', before: now }) },
    ]);
  }
  const token = tg.mint(key, claims);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  return {
    json: { token, claims, kid: key.kid, warnings, revokedEarlier: cutOff !== null },
    text: token,
  };
}

export async function revoke(admin, v) {
  const given = ['token', 'jti', 'subject'].filter((k) => v[k] !== undefined);
  if (given.length !== 1) throw new UsageError('revoke needs exactly one of --token JWT, --jti ID --issuer ISS, --subject USER');
  const now = admin.now;
  const entries = [];
  if (v.token !== undefined) {
    const t = tg.inspect(v.token.trim(), { now });
    if (t.kind !== 'jwt' || !t.claims) throw new UsageError(`--token is not a readable JWT${t.error ? ` (${t.error[1]})` : ''}`);
    const { iss, jti, exp } = t.claims;
    if (typeof iss !== 'string' || typeof jti !== 'string')
      throw new UsageError('the token has no "iss" and "jti" to revoke it by; revoke its subject instead (--subject)');
    // As with --jti: an issuer the configuration does not name is refused (the worker accepts
    // none of its tokens, so there is nothing to revoke), exit 2 and nothing written.
    const issuer = admin.issuer(iss);
    const until = admin.until(issuer, { kind: 'token', exp: typeof exp === 'number' ? exp : null, now });
    entries.push({ kind: 'jti', iss, jti, until });
  } else if (v.jti !== undefined) {
    const issuer = admin.issuer(v.issuer);
    entries.push({ kind: 'jti', iss: issuer.issuer, jti: v.jti, until: admin.until(issuer, { kind: 'jti', now }) });
  } else {
    const before = v.before === undefined ? now : instant(v.before, '--before');
    if (before > now)
      process.stderr.write(
        `warning: --before ${iso(before)} is in the future: every token of ${shown(v.subject)} issued until then is refused, new logins included\n`,
      );
    const issuers = v.issuer === undefined ? (admin.config?.issuers ?? []) : [admin.issuer(v.issuer)];
    if (issuers.length === 0) admin.issuer(undefined); // explains the missing configuration
    for (const issuer of issuers)
      entries.push({
        kind: 'subject',
        iss: issuer.issuer,
        sub: v.subject,
        before,
        until: admin.until(issuer, { kind: 'subject', before }),
      });
  }
  // The core checks each entry before anything is written.
  const checked = entries.map((e) => {
    try {
      return tg.revocations.entry(e);
    } catch (err) {
      throw new UsageError(err.message);
    }
  });
  // An entry already past its `until` (the core's judgement: e.g. a token that has expired)
  // covers nothing the core would still accept by time; the next prune drops it.
  const past = new Set(
    tg.lifecycle.expiredRevocations(
      checked.map((entry, i) => ({ name: String(i), entry })),
      { now },
    ),
  );
  const describe = (e) =>
    shown(e.kind === 'jti' ? `token ${e.jti} of ${e.iss}` : `every token of ${e.sub} (${e.iss}) issued before ${iso(e.before)}`);
  const warnings = checked
    .filter((_, i) => past.has(String(i)))
    .map(
      (e) =>
        `the revocation of ${describe(e)} is already past its end (${iso(e.until)}): the tokens it covers are refused by time already, and the next prune drops it`,
    );
  await admin.audit('revoke', { entries: checked, reason: v.reason });
  const { names, version } = await record(admin, checked);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  return {
    json: { revoked: checked, entries: names, version, warnings },
    text: `${checked.map((e) => `revoked ${describe(e)}`).join('\n')}\nrevocation list version ${version}; ${admin.config ? `the worker applies it within its cache TTL (${admin.config.cacheTtl} s)` : 'the worker applies it within its cache TTL'}`,
  };
}

async function list(admin) {
  const listed = await revocationEntries(admin.kv, await listAll(admin.kv, PREFIX.revocation));
  const { doc, error } = await readDoc(admin.kv, REVOCATIONS);
  const now = admin.now;
  const expired = new Set(tg.lifecycle.expiredRevocations(listed, { now }));
  const rows = listed.map((k) => ({ name: k.name, ...k.entry, expired: expired.has(k.name) }));
  const text = [
    `revocation list: ${error ?? (doc ? `version ${doc.version}, generated ${iso(doc.generated_at)}` : 'none')}; ${plural(rows.length, 'stored entry', 'stored entries')}`,
    ...rows.map(
      (r) =>
        `  ${r.kind.padEnd(7)} ${shown(r.kind === 'jti' ? `${r.iss} ${r.jti}` : r.kind === 'subject' ? `${r.iss} ${r.sub} before ${iso(r.before)}` : r.hash)}` +
        `  until ${iso(r.until)}${r.expired ? ' (expired)' : ''}`,
    ),
  ].join('\n');
  return { json: { snapshot: doc ? { version: doc.version, generated_at: doc.generated_at } : null, entries: rows }, text };
}

async function prune(admin) {
  await admin.audit('revocations.prune');
  await adoptRevocations(admin.kv);
  // Rewritten even when nothing changed, so its age (generated_at) starts over.
  const { doc, pruned } = await compactRevocations(admin.kv, { prune: true, refreshAfter: 0 });
  return {
    json: { pruned, version: doc.version },
    text: `pruned ${plural(pruned, 'expired entry', 'expired entries')}; revocation list version ${doc.version}`,
  };
}

async function compact(admin, v) {
  // --rebuild: a stored list the core cannot read is discarded on purpose (the audit record
  // keeps its text), and rebuilt from the entries.
  const text = await admin.kv.get(REVOCATIONS);
  const problem = unreadable(REVOCATIONS, text);
  const rebuild = !!v.rebuild && problem !== null;
  if (rebuild) await admin.audit('revocations.rebuild', { problem, discarded: text });
  else await admin.audit('revocations.compact');
  const adopted = await adoptRevocations(admin.kv, { rebuild });
  // Rewritten even when nothing changed, so its age (generated_at) starts over.
  const { doc, writes } = await compactRevocations(admin.kv, { refreshAfter: 0, rebuild });
  return {
    json: { version: doc.version, generated_at: doc.generated_at, writes, adopted, discarded: rebuild ? problem : null },
    text: `${rebuild ? `discarded the unreadable revocation list (${problem}); its text is in the audit log\n` : ''}revocation list rewritten: version ${doc.version}, ${plural(writes, 'write')}${adopted ? `, ${plural(adopted, 'hand-written item')} adopted as entries` : ''}`,
  };
}

export const revocations = { list, prune, compact };
