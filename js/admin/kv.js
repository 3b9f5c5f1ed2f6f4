// Where the admin CLI reads and writes: the Workers KV API over
//  - local: the same persisted local KV that `wrangler dev` (npm start) uses, run by workerd
//    with Miniflare's own KV storage worker: started directly by the CLI (js/admin/workerd.js,
//    about 0.1 s) when the installed Miniflare is one whose layout that file mirrors, else
//    through Miniflare (wrangler's own local runtime; about a second to start). Several
//    processes share one SQLite file, so a write can meet SQLITE_BUSY: every call retries with
//    backoff.
//  - remote (or local through the wrangler CLI): `wrangler kv key …` commands.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError } from '../cli/argv.js';
import { directSupport, openWorkerdKv } from './workerd.js';

const run = promisify(execFile);

/**
 * Workers KV refuses a key over 512 bytes and metadata over 1024 bytes of JSON. A command
 * checks what it will write before its first write (its audit record included), so it never
 * stops halfway.
 */
export function kvLimitProblem(key, metadata) {
  const bytes = (s) => Buffer.byteLength(s, 'utf8');
  if (bytes(key) > 512) return `its KV key would be ${bytes(key)} bytes; Workers KV takes at most 512`;
  if (metadata !== undefined && bytes(JSON.stringify(metadata)) > 1024)
    return `its KV metadata would be ${bytes(JSON.stringify(metadata))} bytes of JSON; Workers KV takes at most 1024`;
  return null;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Retries transient local-store failures: SQLITE_BUSY surfaces as an HTTP 500 from the storage
 * worker, or, when workerd's own SQLite call meets it, as the storage object being reset
 * ("Network connection lost."). Every operation here is safe to repeat (get, list, and a put or
 * delete of one key).
 */
async function retrying(fn) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const transient = /\b500\b|SQLITE_BUSY|database is locked|Network connection lost/i.test(String(e?.message ?? e));
      if (!transient || attempt >= 80) throw e;
      await sleep(10 + Math.random() * Math.min(25 * attempt, 250));
    }
  }
}

class Retrying {
  constructor(kv, close, via) {
    this.kv = kv;
    this.closeFn = close;
    this.via = via;
  }
  get(key) {
    return retrying(() => this.kv.get(key));
  }
  put(key, value, opts) {
    return retrying(() => this.kv.put(key, value, opts));
  }
  delete(key) {
    return retrying(() => this.kv.delete(key));
  }
  list(opts) {
    return retrying(() => this.kv.list(opts));
  }
  close() {
    return this.closeFn();
  }
}

/**
 * Local KV under `persistTo` (default .wrangler/state, as `wrangler dev --persist-to`).
 * `via`: "direct" or "miniflare" forces a path (tests); by default the direct one when it can
 * serve the store, else Miniflare. The adapter's `via` says which one is open.
 */
export async function openLocalKv({ persistTo = '.wrangler/state', namespaceId = 'tokengate-local', via } = {}) {
  const dir = resolve(persistTo, 'v3', 'kv');
  mkdirSync(dir, { recursive: true });
  if (via !== 'miniflare') {
    const support = directSupport({ kvDir: dir, namespaceId, force: via === 'direct' });
    if (via === 'direct' && !support.workerd) throw new Error(`local KV: the direct path cannot serve this store: ${support.reason}`);
    if (support.workerd) {
      try {
        const kv = await openWorkerdKv({ kvDir: dir, namespaceId, support });
        return new Retrying(kv, () => kv.close(), 'direct');
      } catch (e) {
        // Nothing was read or written yet: Miniflare can still serve the command.
        if (via === 'direct') throw e;
      }
    }
  }
  return openMiniflareKv({ dir, namespaceId });
}

async function openMiniflareKv({ dir, namespaceId }) {
  let Miniflare, NoOpLog;
  try {
    ({ Miniflare, NoOpLog } = await import('miniflare'));
  } catch {
    throw new Error('local KV needs the "miniflare" package (installed with wrangler): npm install --save-dev wrangler');
  }
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    kvNamespaces: { TOKENGATE: namespaceId },
    kvPersist: dir,
    cf: false,
    log: new NoOpLog(),
  });
  try {
    const kv = await mf.getKVNamespace('TOKENGATE');
    return new Retrying(kv, () => mf.dispose(), 'miniflare');
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

/**
 * KV through `wrangler kv key …`: `target` is "remote" (the deployed namespace from
 * wrangler.toml's binding, or `namespaceId`) or "local" (with `persistTo`).
 */
export class WranglerKv {
  constructor({ target = 'remote', binding = 'TOKENGATE', namespaceId, persistTo, wrangler, cwd = process.cwd() } = {}) {
    this.cwd = cwd;
    this.bin = wrangler ?? join(cwd, 'node_modules', '.bin', 'wrangler');
    this.where = [
      ...(namespaceId ? ['--namespace-id', namespaceId] : ['--binding', binding]),
      target === 'local' ? '--local' : '--remote',
      ...(target === 'local' && persistTo ? ['--persist-to', persistTo] : []),
    ];
  }

  async #wrangler(args) {
    if (!existsSync(this.bin))
      throw new UsageError(
        `--remote needs wrangler, and ${this.bin} does not exist: run from the project directory, after npm install --save-dev wrangler`,
      );
    const env = { ...process.env, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME ?? join(this.cwd, '.config') };
    const { stdout } = await run(this.bin, [...args, ...this.where], { cwd: this.cwd, env, maxBuffer: 64 << 20 });
    return stdout;
  }

  async get(key) {
    const out = await this.#wrangler(['kv', 'key', 'get', key, '--text']);
    // wrangler prints this (exit 0) for a missing key, and ends a value with a newline; every
    // value tokengate stores is JSON without one.
    if (out === 'Value not found\n') return null;
    return out.endsWith('\n') ? out.slice(0, -1) : out;
  }

  async put(key, value, { metadata } = {}) {
    const meta = metadata === undefined ? [] : ['--metadata', JSON.stringify(metadata)];
    await this.#wrangler(['kv', 'key', 'put', key, value, ...meta]);
  }

  async delete(key) {
    await this.#wrangler(['kv', 'key', 'delete', key]);
  }

  /** One page with every key (wrangler pages internally). */
  async list({ prefix } = {}) {
    const out = await this.#wrangler(['kv', 'key', 'list', ...(prefix ? ['--prefix', prefix] : [])]);
    const keys = JSON.parse(out).map((k) => ({ name: k.name, metadata: k.metadata }));
    return { keys, list_complete: true };
  }

  async close() {}
}
