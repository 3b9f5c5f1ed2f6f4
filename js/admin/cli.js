// The admin half of the CLI: lifecycle commands over the worker's KV (local by default).
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { TokengateError } from '../node.js';
import { UsageError, algName, closest, instant, parseArgv, pastedToken } from '../cli/argv.js';
import { subcommands } from '../cli/help.js';
import { TAKES, others } from '../cli/takes.js';
import { COMMON_OPTIONS, openAdmin } from './context.js';
import { KEY_OPTIONS, keys } from './keys.js';
import { fetchKeys } from './remote.js';
import { TOKEN_OPTIONS, mint, revoke, revocations } from './tokens.js';
import { APIKEY_OPTIONS, apikey } from './apikeys.js';
import { GRANT_OPTIONS, grants } from './grants.js';
import { auditList, status } from './status.js';

const GROUPS = {
  keys: { options: KEY_OPTIONS, subs: { ...keys, fetch: fetchKeys } },
  revocations: { options: { rebuild: { type: 'boolean' } }, subs: revocations },
  apikey: { options: { ...APIKEY_OPTIONS, owner: { type: 'string' } }, subs: apikey },
  grants: { options: { ...GRANT_OPTIONS, rebuild: { type: 'boolean' } }, subs: grants },
  audit: { options: { since: { type: 'string' } }, subs: { list: auditList } },
};
const SINGLE = {
  mint: { options: TOKEN_OPTIONS, run: mint },
  revoke: { options: TOKEN_OPTIONS, run: revoke },
  status: { options: {}, run: status },
  health: { options: {}, run: status },
};

/**
 * Local KV and the configuration live in the project directory: outside one (no wrangler.toml,
 * no --config, no --persist-to), nothing is opened or created.
 */
function checkProject(command, v) {
  if (existsSync('wrangler.toml') || v.config !== undefined || (v['persist-to'] !== undefined && !v.remote)) return;
  if (command === 'mint')
    throw new UsageError(
      `mint needs --key FILE (a private JWK), or a project directory (no wrangler.toml in ${process.cwd()}) to sign with an issuer's key in KV`,
    );
  throw new UsageError(
    `no wrangler.toml in ${process.cwd()}: run lifecycle commands from the project directory (or give --config FILE${v.remote ? ' and --namespace-id ID' : ' and --persist-to DIR'})`,
  );
}

/** Commands that only read: they never create a store. */
const readsOnly = (name) => name === 'status' || name === 'health' || name.endsWith(' list');

/**
 * `--persist-to` names a directory: a file on its path is a usage error, not ENOTDIR. A write
 * makes it if missing; a read of a directory that does not exist is a usage error, so a typo
 * is not answered by an empty store created there.
 */
function checkPersistTo(name, v) {
  if (v['persist-to'] === undefined || v.remote) return;
  const given = resolve(v['persist-to']);
  let p = given;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  if (!statSync(p).isDirectory())
    throw new UsageError(`--persist-to ${v['persist-to']}: ${p} is not a directory (give the directory wrangler dev --persist-to uses)`);
  if (readsOnly(name) && p !== given)
    throw new UsageError(
      `--persist-to ${v['persist-to']}: no such directory, so no local KV to read (npm start or a write command creates it)`,
    );
}

/** Runs one admin command; returns the exit code. */
export async function runAdmin(command, rest) {
  let run, options, args, name;
  if (command in GROUPS) {
    const [sub, ...more] = rest;
    if (sub === undefined || sub.startsWith('-')) throw new UsageError(`${command} needs a subcommand:\n${subcommands(command)}`);
    run = Object.hasOwn(GROUPS[command].subs, sub) ? GROUPS[command].subs[sub] : undefined;
    if (!run) {
      const near = closest(sub, Object.keys(GROUPS[command].subs));
      throw new UsageError(
        `unknown subcommand "${command} ${sub}"; ${near ? `did you mean ${command} ${near}?` : `one of: ${Object.keys(GROUPS[command].subs).join(', ')}`}`,
      );
    }
    name = `${command} ${sub}`;
    options = GROUPS[command].options;
    args = more;
  } else {
    ({ run, options } = SINGLE[command]);
    name = command;
    args = rest;
  }
  const taken = Object.fromEntries(TAKES[name].map((n) => [n, options[n]]));
  const parsed = parseArgv(args, { ...COMMON_OPTIONS, ...taken }, { help: `tokengate help ${name}`, command: name, others: others(name) });
  const v = parsed.values;
  // Times relative to the command's clock (--now, itself relative to the wall clock).
  const wall = Math.floor(Date.now() / 1000);
  if (v.now !== undefined) v.now = String(instant(v.now, '--now', wall));
  const now = v.now === undefined ? wall : Number(v.now);
  if (v.before !== undefined) v.before = String(instant(v.before, '--before', now));
  if (v.since !== undefined) v.since = new Date(instant(v.since, '--since', now) * 1000).toISOString();
  if (v.alg !== undefined) v.alg = algName(v.alg);
  if (v.token !== undefined) v.token = pastedToken(v.token);
  checkProject(command, v);
  checkPersistTo(name, v);
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
