// The admin half of the CLI: lifecycle commands over the worker's KV (local by default).
import { parseArgs } from 'node:util';
import { TokengateError } from '../node.js';
import { COMMON_OPTIONS, UsageError, duration, instant, openAdmin } from './context.js';
import { KEY_OPTIONS, keys } from './keys.js';
import { TOKEN_OPTIONS, mint, revoke, revocations } from './tokens.js';
import { APIKEY_OPTIONS, apikey } from './apikeys.js';
import { GRANT_OPTIONS, grants } from './grants.js';
import { auditList, status } from './status.js';

export const ADMIN_USAGE = `lifecycle (KV: --local, the default, is npm start's .wrangler/state; --remote uses wrangler):
  tokengate keys generate|rotate|list|retire KID|remove KID|cleanup --issuer ISS [--alg ES256] [--max-active N] [--max-age 180d]
  tokengate mint --issuer ISS --sub USER [--scope S] [--ttl 1h] [--type access|refresh|service]
                 [--claim NAME=VALUE]... [--one-per-user]
  tokengate revoke (--token JWT | --jti ID --issuer ISS | --subject USER [--issuer ISS] [--before TIME]) [--reason TEXT]
  tokengate revocations list|prune|compact
  tokengate apikey create --name N --owner U [--scopes "a b"] [--expires 90d] [--one-per-owner]
  tokengate apikey rotate ID | revoke ID [--purge] | list [--state active|expired|revoked|purged] [--owner U]
  tokengate grants grant|revoke|list --tenant T --module M --scope S
  tokengate status | health        (exit 1 when anything is wrong)
  tokengate audit list [--since TIME|24h]
  every command: [--json] [--actor NAME] [--local | --remote [--namespace-id ID]] [--persist-to DIR]
                 [--config FILE] [--keys-dir DIR]`;

const GROUPS = {
  keys: { options: KEY_OPTIONS, subs: keys },
  revocations: { options: {}, subs: revocations },
  apikey: { options: { ...APIKEY_OPTIONS, owner: { type: 'string' } }, subs: apikey },
  grants: { options: GRANT_OPTIONS, subs: grants },
  audit: { options: { since: { type: 'string' } }, subs: { list: auditList } },
};
const SINGLE = {
  mint: { options: TOKEN_OPTIONS, run: mint },
  revoke: { options: TOKEN_OPTIONS, run: revoke },
  status: { options: {}, run: status },
  health: { options: {}, run: status },
};

export const isAdminCommand = (command, rest) =>
  command in GROUPS || (command in SINGLE && (command !== 'mint' || rest.some((a) => a === '--issuer' || a.startsWith('--issuer='))));

/** Runs one admin command; returns the exit code. */
export async function runAdmin(command, rest) {
  let run, options, args;
  if (command in GROUPS) {
    const [sub, ...more] = rest;
    run = GROUPS[command].subs[sub];
    if (!run) throw new UsageError(`${command} needs one of: ${Object.keys(GROUPS[command].subs).join(', ')}`);
    options = GROUPS[command].options;
    args = more;
  } else {
    ({ run, options } = SINGLE[command]);
    args = rest;
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e.message);
  }
  const v = parsed.values;
  if (v.since !== undefined) {
    const rel = /^\d+[smhd]$/.test(v.since) ? Math.floor(Date.now() / 1000) - duration(v.since, '--since') : instant(v.since, '--since');
    v.since = new Date(rel * 1000).toISOString();
  }
  const admin = await openAdmin(v);
  try {
    const r = await run(admin, v, parsed.positionals);
    process.stdout.write(v.json ? `${JSON.stringify(r.json)}\n` : `${r.text}\n`);
    return r.code ?? 0;
  } catch (e) {
    // Input the core rejects is caught (as a usage error) where it is read; a core error here
    // comes from stored data: a failure, exit 1.
    if (e instanceof TokengateError) throw new Error(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await admin.close();
  }
}
