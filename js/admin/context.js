// What every admin command shares: where KV is, the worker configuration (issuers, lifetimes),
// who is acting, the clock, and the audit log.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { lifecycle } from '../node.js';
import { CONFIG, PREFIX, issuerPolicy, onCheckpoint, parseConfig, readDoc, remoteKeys, uniqueName } from '../store.js';
import { openLocalKv, WranglerKv } from './kv.js';

// The usage error and the duration and time syntax are the CLI's one argv vocabulary.
import { UsageError, instant } from '../cli/argv.js';
export { UsageError, duration, instant } from '../cli/argv.js';

export const DAY = 86400;

/** What a command names (a key, an API key) is not stored: the command failed, exit 1 (not a usage error). */
export class NotFound extends Error {}

export const iso = (secs) =>
  typeof secs !== 'number' ? '-' : secs >= 253402300799 ? 'never' : new Date(secs * 1000).toISOString().replace('.000Z', 'Z');

/**
 * An issuer's policy options as the worker passes them to its validator (the time limits:
 * `leeway`, `maxLifetime`); the core fills in its defaults.
 */
export { issuerPolicy };

/** The options every admin command takes. */
export const COMMON_OPTIONS = {
  local: { type: 'boolean' },
  remote: { type: 'boolean' },
  'persist-to': { type: 'string' },
  'namespace-id': { type: 'string' },
  config: { type: 'string' },
  actor: { type: 'string' },
  'keys-dir': { type: 'string' },
  now: { type: 'string' },
  json: { type: 'boolean' },
};

/** The text of `--config FILE`, read before KV is opened so a bad path starts nothing. */
function configFile(v) {
  if (v.config === undefined) return null;
  try {
    return readFileSync(v.config, 'utf8');
  } catch (e) {
    throw new UsageError(e.code === 'ENOENT' ? `no such file: ${v.config}` : `cannot read --config ${v.config}: ${e.code ?? e.message}`);
  }
}

function configText(v, kvConfig, fileText) {
  if (fileText !== null) return [fileText, v.config];
  if (kvConfig !== null) return [kvConfig, 'KV key "config"'];
  if (existsSync('wrangler.toml')) {
    let toml;
    try {
      toml = parseToml(readFileSync('wrangler.toml', 'utf8'));
    } catch (e) {
      throw new UsageError(`wrangler.toml: ${e.message}`);
    }
    if (typeof toml.vars?.TOKENGATE_CONFIG === 'string') return [toml.vars.TOKENGATE_CONFIG, 'wrangler.toml [vars] TOKENGATE_CONFIG'];
  }
  return [null, null];
}

/** Opens KV and reads the configuration the worker uses (KV `config`, else wrangler.toml). */
export async function openAdmin(v) {
  if (v.local && v.remote) throw new UsageError('give --local or --remote, not both');
  // Every usage error that needs no KV comes first: nothing is started or created for it.
  const now = v.now === undefined ? Math.floor(Date.now() / 1000) : instant(v.now, '--now');
  const fileText = configFile(v);
  const kv = v.remote
    ? new WranglerKv({ target: 'remote', namespaceId: v['namespace-id'] })
    : await openLocalKv({ persistTo: v['persist-to'] });
  const actor = v.actor ?? process.env.TOKENGATE_ACTOR ?? safeUser();
  let config = null;
  let configError = null;
  try {
    const { text: kvConfig } = await readDoc(kv, CONFIG);
    const [text, source] = configText(v, kvConfig, fileText);
    if (text !== null) config = parseConfig(text, source);
  } catch (e) {
    if (e instanceof UsageError) {
      await kv.close?.();
      throw e;
    }
    configError = e.message;
  }
  const admin = new Admin({ kv, config, configError, now, actor, keysDir: v['keys-dir'] ?? '.tokengate/keys' });
  // The store's own steps (a snapshot's listing, its put) are checkpoints too.
  onCheckpoint((step) => admin.checkpoint(step));
  return admin;
}

function safeUser() {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export class Admin {
  constructor({ kv, config, configError, now, actor, keysDir }) {
    Object.assign(this, { kv, config, configError, now, actor, keysDir });
    this.paused = new Set();
  }

  /** The configured issuer named by `--issuer` (or the only one). */
  issuer(name) {
    if (!this.config)
      throw new UsageError(
        this.configError ?? 'no worker configuration: pass --config FILE, or set TOKENGATE_CONFIG in wrangler.toml or the KV key "config"',
      );
    const all = this.config.issuers;
    if (name === undefined) {
      if (all.length === 1) {
        if (!this.issuerNoted) process.stderr.write(`tokengate: no --issuer given; using the only configured issuer, ${all[0].issuer}\n`);
        this.issuerNoted = true;
        return all[0];
      }
      throw new UsageError(`${all.length} issuers are configured; give --issuer (one of: ${all.map((i) => i.issuer).join(', ')})`);
    }
    const found = all.find((i) => i.issuer === name);
    if (!found) throw new UsageError(`unknown issuer "${name}"; configured: ${all.map((i) => i.issuer).join(', ')}`);
    return found;
  }

  /**
   * The issuer named by `--issuer` when tokengate signs for it (its keys in KV, `jwks`); one whose
   * keys are fetched (jwksUri, discovery) is refused in one line: it has no key of ours.
   */
  signingIssuer(name) {
    const issuer = this.issuer(name);
    if (issuer.jwks === undefined)
      throw new UsageError(
        `issuer ${issuer.issuer} takes its keys from ${issuer.jwksUri ?? remoteKeys.discoveryUrls(issuer.issuer)[0]}; tokengate does not sign for it`,
      );
    return issuer;
  }

  /**
   * The core's time limits for an issuer's effective policy: `{ leeway, maxLifetime, keyGrace,
   * mintTtlCap }` (an issuer the configuration does not name: the core's defaults). Invalid
   * limits in the configuration are a usage error.
   */
  lifetimes(issuer) {
    try {
      return lifecycle.lifetimes(issuerPolicy(issuer));
    } catch (e) {
      throw new UsageError(`issuer ${issuer?.issuer}: ${e.message}`);
    }
  }

  /** A revocation entry's `until`, derived by the core from the issuer's effective policy. */
  until(issuer, what) {
    try {
      return lifecycle.until(issuerPolicy(issuer), what);
    } catch (e) {
      throw new UsageError(`issuer ${issuer?.issuer}: ${e.message}`);
    }
  }

  /**
   * Appends to the audit log before the change it describes, so every change has a record of
   * who made it (a change that then fails leaves a record of the attempt).
   */
  async audit(action, detail = {}) {
    const at = Date.now();
    const record = { at: new Date(at).toISOString(), actor: this.actor, action, ...detail };
    const metadata = lifecycle.auditMetadata(record);
    await this.kv.put(uniqueName(PREFIX.audit, at), JSON.stringify(record), { metadata });
    return record;
  }

  /**
   * Fault injection for the consistency tests, at a named step:
   *  - TOKENGATE_CRASH_AT=step exits abruptly (as a kill would);
   *  - TOKENGATE_PAUSE_AT=step[,step…] holds the command at the first time it reaches each step:
   *    it writes `paused-<step>` (containing its pid) into TOKENGATE_PAUSE_DIR (default: the
   *    working directory) and goes on once `release-<step>` appears there (or is killed
   *    meanwhile), so a test can run other writers at exactly that point.
   */
  async checkpoint(step) {
    if (process.env.TOKENGATE_CRASH_AT === step) process.exit(137);
    const pauses = (process.env.TOKENGATE_PAUSE_AT ?? '').split(',');
    if (!pauses.includes(step) || this.paused.has(step)) return;
    this.paused.add(step);
    const dir = process.env.TOKENGATE_PAUSE_DIR ?? '.';
    writeFileSync(join(dir, `paused-${step}`), String(process.pid));
    const release = join(dir, `release-${step}`);
    const deadline = Date.now() + 120_000;
    while (!existsSync(release)) {
      if (Date.now() > deadline) throw new Error(`paused at ${step} for 120 s without release-${step}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close() {
    return this.kv.close();
  }
}
