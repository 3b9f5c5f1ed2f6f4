// What every admin command shares: where KV is, the worker configuration (issuers, lifetimes),
// who is acting, the clock, and the audit log.
import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { parse as parseToml } from 'smol-toml';
import { parseConfig } from '../config.js';
import { CONFIG, PREFIX, readDoc, uniqueName } from '../store.js';
import { openLocalKv, WranglerKv } from './kv.js';

/** A usage or input problem: exit code 2. */
export class UsageError extends Error {}

export const DAY = 86400;
/** Token lifetime ceiling when an issuer sets none (seed 001: user tokens live at most 30 days). */
export const DEFAULT_MAX_TTL = 30 * DAY;

const UNITS = { s: 1, m: 60, h: 3600, d: DAY };

/** `90`, `90s`, `15m`, `12h`, `30d` → seconds. */
export function duration(text, what) {
  const m = /^(\d+)([smhd]?)$/.exec(text ?? '');
  if (!m) throw new UsageError(`${what} must look like 3600, 15m, 12h or 30d, got "${text}"`);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

/** Unix seconds, or an ISO 8601 date/time. */
export function instant(text, what) {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`${what} must be unix seconds or an ISO date, got "${text}"`);
  return Math.floor(ms / 1000);
}

export const iso = (secs) => (typeof secs === 'number' ? new Date(secs * 1000).toISOString().replace('.000Z', 'Z') : '-');

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

function configText(v, kvConfig) {
  if (v.config !== undefined) {
    try {
      return [readFileSync(v.config, 'utf8'), v.config];
    } catch (e) {
      throw new UsageError(`cannot read --config ${v.config}: ${e.code ?? e.message}`);
    }
  }
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
  const kv = v.remote
    ? new WranglerKv({ target: 'remote', namespaceId: v['namespace-id'] })
    : await openLocalKv({ persistTo: v['persist-to'] });
  const now = v.now === undefined ? Math.floor(Date.now() / 1000) : instant(v.now, '--now');
  const actor = v.actor ?? process.env.TOKENGATE_ACTOR ?? safeUser();
  let config = null;
  let configError = null;
  try {
    const { text: kvConfig } = await readDoc(kv, CONFIG);
    const [text, source] = configText(v, kvConfig);
    if (text !== null) config = parseConfig(text, source);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    configError = e.message;
  }
  return new Admin({ kv, config, configError, now, actor, keysDir: v['keys-dir'] ?? '.tokengate/keys' });
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
  }

  /** The configured issuer named by `--issuer` (or the only one). */
  issuer(name) {
    if (!this.config)
      throw new UsageError(
        this.configError ?? 'no worker configuration: pass --config FILE, or set TOKENGATE_CONFIG in wrangler.toml or the KV key "config"',
      );
    const all = this.config.issuers;
    if (name === undefined) {
      if (all.length === 1) return all[0];
      throw new UsageError(`give --issuer (one of: ${all.map((i) => i.issuer).join(', ')})`);
    }
    const found = all.find((i) => i.issuer === name);
    if (!found) throw new UsageError(`unknown issuer "${name}"; configured: ${all.map((i) => i.issuer).join(', ')}`);
    return found;
  }

  /** The longest a token of this issuer can live: its `maxLifetime`, else 30 days. */
  maxTtl(issuer) {
    return issuer.maxLifetime > 0 ? issuer.maxLifetime : DEFAULT_MAX_TTL;
  }

  /**
   * Appends to the audit log before the change it describes, so every change has a record of
   * who made it (a change that then fails leaves a record of the attempt).
   */
  async audit(action, detail = {}) {
    const at = Date.now();
    const record = { at: new Date(at).toISOString(), actor: this.actor, action, ...detail };
    let metadata = record;
    if (JSON.stringify(record).length > 1000) metadata = { at: record.at, actor: record.actor, action };
    await this.kv.put(uniqueName(PREFIX.audit, at), JSON.stringify(record), { metadata });
    return record;
  }

  /** Fault injection for the consistency tests: exits abruptly (as a kill would) at a named step. */
  checkpoint(step) {
    if (process.env.TOKENGATE_CRASH_AT === step) process.exit(137);
  }

  close() {
    return this.kv.close();
  }
}
