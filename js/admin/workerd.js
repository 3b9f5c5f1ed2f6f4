// Local KV without Miniflare's Node side: the CLI starts workerd itself, running Miniflare's own KV
// storage worker (the KVNamespaceObject Durable Object, read from the installed miniflare
// package) with exactly the services Miniflare's KV plugin configures: the same unique key, so the
// same SQLite file under `<persist>/miniflare-KVNamespaceObject/`, and the same blob directory
// `<persist>/<namespace>/blobs/`. Reads and writes therefore run the code that `wrangler dev` and
// Miniflare run, on the same files, with SQLite's locking between the processes, as two Miniflare
// instances would; what is skipped is Miniflare's startup in Node (importing it and assembling
// its configuration take most of a second; workerd itself starts in about 0.1 s).
//
// Used only for the Miniflare versions whose KV plugin this reproduces (VERIFIED_MINIFLARE,
// checked against Miniflare itself by tests/js/localkv.test.mjs), and only when the store is in
// the layout that version writes. Anything else goes through Miniflare (js/admin/kv.js).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { request, Agent } from 'node:http';

/** Miniflare releases whose KV plugin (services, unique key, storage paths) this file mirrors. */
export const VERIFIED_MINIFLARE = ['4.20260426.0'];

/** Namespace ids Miniflare's path sanitiser leaves as they are (the blob directory's name). */
const PLAIN_NAMESPACE = /^[A-Za-z0-9_-]{1,200}$/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

const UNIQUE_KEY = 'miniflare-KVNamespaceObject';
const WORKER_FILES = ['kv/namespace.worker.js', 'shared/object-entry.worker.js', 'shared/index.worker.js', 'shared/zod.worker.js'];

/**
 * Whether the direct path can serve this store: `{ miniflareDir, workerd }`, or `{ reason }` (why
 * the Miniflare path is used instead). `kvDir` is the KV persistence directory
 * (`<persist-to>/v3/kv`); TOKENGATE_LOCAL_KV=miniflare chooses Miniflare unless `force`.
 */
export function directSupport({ kvDir, namespaceId, force = false }) {
  if (!force && process.env.TOKENGATE_LOCAL_KV === 'miniflare') return { reason: 'TOKENGATE_LOCAL_KV=miniflare' };
  if (!PLAIN_NAMESPACE.test(namespaceId) || WINDOWS_RESERVED.test(namespaceId))
    return { reason: `namespace id ${JSON.stringify(namespaceId)} is not a plain name` };
  let miniflareDir, version;
  try {
    const pkg = createRequire(import.meta.url).resolve('miniflare/package.json');
    miniflareDir = realpathSync(dirname(pkg));
    ({ version } = JSON.parse(readFileSync(pkg, 'utf8')));
  } catch {
    return { reason: 'miniflare is not installed' };
  }
  if (!VERIFIED_MINIFLARE.includes(version)) return { reason: `miniflare ${version} is not a verified version` };
  if (!WORKER_FILES.every((f) => existsSync(join(miniflareDir, 'dist/src/workers', f))))
    return { reason: `miniflare ${version} lacks its KV worker files` };
  // An older layout (`<persist>/<namespace>/db.sqlite`) is migrated by Miniflare when it starts.
  if (existsSync(join(kvDir, namespaceId, 'db.sqlite'))) return { reason: 'the store is in an older layout Miniflare migrates' };
  let workerd = process.env.MINIFLARE_WORKERD_PATH;
  if (!workerd) {
    try {
      workerd = createRequire(join(miniflareDir, 'package.json'))('workerd').default;
    } catch {
      return { reason: "miniflare's workerd is not installed" };
    }
  }
  if (typeof workerd !== 'string' || !existsSync(workerd)) return { reason: `no workerd binary at ${workerd}` };
  return { miniflareDir, workerd };
}

/** A Cap'n Proto text literal: quotes and backslashes escaped, anything but printable ASCII as UTF-8 bytes. */
const text = (s) =>
  `"${s.replace(/[\\"]|[^\x20-\x7e]+/g, (m) =>
    m === '"' || m === '\\' ? `\\${m}` : Array.from(Buffer.from(m, 'utf8'), (b) => `\\x${b.toString(16).padStart(2, '0')}`).join(''),
  )}"`;

// The CLI's door into workerd: one KV operation per request, on the namespace bound exactly as a
// worker's KV binding is (the binding `wrangler dev` gives the edge worker).
const ENTRY = `
export default {
  async fetch(request, env) {
    const { op, key, value, options } = await request.json();
    try {
      let result;
      if (op === 'get') result = await env.KV.get(key);
      else if (op === 'put') result = await env.KV.put(key, value, options);
      else if (op === 'delete') result = await env.KV.delete(key);
      else if (op === 'list') result = await env.KV.list(options);
      else throw new Error('unknown operation ' + op);
      return Response.json({ ok: true, result: result ?? null });
    } catch (e) {
      return Response.json({ ok: false, error: String(e?.message ?? e) });
    }
  },
};
`;

/**
 * The workerd configuration, written into `configDir`: Miniflare's KV plugin services for one
 * namespace, plus the door. Miniflare's worker files are embedded from where they are installed.
 */
export function workerdConfig({ miniflareDir, kvDir, namespaceId, configDir }) {
  const src = (f) => `embed ${text(relative(configDir, join(miniflareDir, 'dist/src/workers', f)).replaceAll('\\', '/'))}`;
  const nsService = `kv:ns:${namespaceId}`;
  // As Miniflare's KV plugin (getServices) and core (extensions) configure them.
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "tokengate:kv", worker = (
      modules = [(name = "entry.js", esModule = ${text(ENTRY)})],
      compatibilityDate = "2023-07-24",
      bindings = [(name = "KV", kvNamespace = (name = ${text(nsService)}))])),
    (name = ${text(nsService)}, worker = (
      modules = [(name = "object-entry.worker.js", esModule = ${src('shared/object-entry.worker.js')})],
      compatibilityDate = "2023-07-24",
      bindings = [
        (name = "MINIFLARE_NAMESPACE", text = ${text(namespaceId)}),
        (name = "MINIFLARE_OBJECT", durableObjectNamespace = (serviceName = "kv:ns", className = "KVNamespaceObject"))])),
    (name = "kv:storage", disk = (path = ${text(resolve(kvDir).replaceAll('\\', '/'))}, writable = true)),
    (name = "kv:ns", worker = (
      modules = [(name = "namespace.worker.js", esModule = ${src('kv/namespace.worker.js')})],
      compatibilityDate = "2023-07-24",
      compatibilityFlags = ["nodejs_compat", "experimental"],
      durableObjectNamespaces = [(className = "KVNamespaceObject", uniqueKey = ${text(UNIQUE_KEY)})],
      durableObjectStorage = (localDisk = "kv:storage"),
      bindings = [(name = "MINIFLARE_BLOBS", service = "kv:storage")])),
  ],
  sockets = [(name = "entry", address = "127.0.0.1:0", http = (), service = "tokengate:kv")],
  extensions = [(modules = [
    (name = "miniflare:shared", esModule = ${src('shared/index.worker.js')}),
    (name = "miniflare:zod", esModule = ${src('shared/zod.worker.js')})])],
);
`;
}

/** The last few KB of a stream, for error messages (the pipe is always drained). */
function tail(stream) {
  const out = { text: '' };
  stream.setEncoding('utf8');
  stream.on('data', (d) => (out.text = (out.text + d).slice(-8192)));
  return out;
}

/**
 * Starts workerd on the store and returns the Workers KV API over it (`get`, `put`, `delete`,
 * `list`, `close`). `support` is what `directSupport` returned.
 */
export async function openWorkerdKv({ kvDir, namespaceId, support }) {
  // Real paths, so the relative embeds resolve the same lexically and through the file system.
  const tmp = realpathSync(mkdtempSync(join(tmpdir(), 'tokengate-kv-')));
  let child;
  try {
    const file = join(tmp, 'kv.capnp');
    writeFileSync(file, workerdConfig({ miniflareDir: support.miniflareDir, kvDir, namespaceId, configDir: tmp }));
    // In the CLI's process group, so whatever ends the CLI's group ends workerd too.
    child = spawn(support.workerd, ['serve', '--experimental', '--control-fd=3', file], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    const exited = new Promise((r) => child.once('exit', r));
    const out = tail(child.stdout);
    const err = tail(child.stderr);
    const port = await new Promise((res, rej) => {
      let control = '';
      child.stdio[3].setEncoding('utf8');
      child.stdio[3].on('data', (d) => {
        control += d;
        for (const line of control.split('\n')) {
          try {
            const m = JSON.parse(line);
            if (m.event === 'listen' && m.socket === 'entry') res(m.port);
          } catch {
            // a partial line
          }
        }
      });
      child.once('error', rej);
      child.once('exit', (code, signal) =>
        rej(new Error(`local KV: workerd exited (${signal ?? code}) before listening\n${(err.text || out.text).trim()}`)),
      );
    });
    return new WorkerdKv({ child, port, exited, killOnExit, stderr: err });
  } catch (e) {
    child?.kill('SIGKILL');
    throw e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

class WorkerdKv {
  constructor({ child, port, exited, killOnExit, stderr }) {
    Object.assign(this, { child, port, exited, killOnExit, stderr });
    this.agent = new Agent({ keepAlive: true, maxSockets: 8 });
  }

  #call(body) {
    const json = JSON.stringify(body);
    return new Promise((res, rej) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: '/',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) },
        },
        (r) => {
          let data = '';
          r.setEncoding('utf8');
          r.on('data', (d) => (data += d));
          r.on('end', () => {
            let answer;
            try {
              answer = JSON.parse(data);
            } catch {
              // workerd's own error page (an uncaught error is a 500): transient like Miniflare's
              return rej(new Error(`local KV: HTTP ${r.statusCode} ${data.slice(0, 200)}`));
            }
            if (answer.ok) res(answer.result);
            else rej(new Error(answer.error));
          });
          r.on('error', rej);
        },
      );
      req.on('error', (e) => rej(new Error(`local KV: ${e.message}${this.stderr.text ? `\n${this.stderr.text.trim()}` : ''}`)));
      req.end(json);
    });
  }

  get(key) {
    return this.#call({ op: 'get', key });
  }
  async put(key, value, options) {
    await this.#call({ op: 'put', key, value, options });
  }
  async delete(key) {
    await this.#call({ op: 'delete', key });
  }
  list(options) {
    return this.#call({ op: 'list', options });
  }

  async close() {
    this.agent.destroy();
    process.removeListener('exit', this.killOnExit);
    // As Miniflare disposes of its workerd: every answered write is committed.
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
