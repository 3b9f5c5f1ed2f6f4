// Remote key sets: keys an identity provider publishes (OIDC discovery, a JWKS URL),
// judged by the core with the same key rules as any key set. `remoteKeys` are the core's rules
// (URL, discovery document, fetch bounds, the KV document); `fetchRemoteKeys` moves the bytes
// with the runtime's `fetch` (Node ≥ 20, browsers, workerd) inside those bounds. Nothing here
// decides: every verdict, bound and time comes from the wasm core.
import { wasm } from './glue.js';
import { TokengateError } from './core.js';

const str = (v, what) => {
  if (typeof v !== 'string') throw new TypeError(`tokengate: ${what} must be a string`);
  return v;
};

/** A fetch that did not give keys: a stable `reason` (`timeout`, `issuer_mismatch`, …). */
export class RemoteKeysError extends Error {
  constructor({ reason, message }) {
    super(`${reason}: ${message}`);
    this.name = 'RemoteKeysError';
    this.reason = reason;
  }
}

function core(fn) {
  try {
    return fn();
  } catch (e) {
    if (e && typeof e === 'object' && !(e instanceof Error) && typeof e.reason === 'string') throw new RemoteKeysError(e);
    if (e && typeof e === 'object' && !(e instanceof Error) && typeof e.code === 'string') throw new TokengateError(e);
    throw e;
  }
}

const policyText = (p) => JSON.stringify(p ?? {});

export const remoteKeys = {
  /** The fetch bounds with the core's defaults: `{ timeout, maxBytes, minMaxAge, maxMaxAge }`. */
  fetchPolicy: (p) => JSON.parse(core(() => wasm.remoteFetchPolicy(policyText(p)))),
  /** Throws `RemoteKeysError` `url_not_allowed` unless `url` is https (or http to loopback). */
  checkUrl: (url) => core(() => wasm.remoteCheckUrl(str(url, 'url'))),
  /** The discovery URLs to try for an issuer, in order (OIDC, then RFC 8414). */
  discoveryUrls: (issuer) => core(() => wasm.remoteDiscoveryUrls(str(issuer, 'issuer'))),
  /** The checked `jwks_uri` of a discovery document (bytes) for `issuer`. */
  discovery: (issuer, body, policy) => core(() => wasm.remoteDiscovery(str(issuer, 'issuer'), bytes(body), policyText(policy))),
  /** Whether an unknown kid may force a refetch (ms; 0: never forced). */
  mayForce: (lastForced, now, cooldown) => wasm.remoteMayForce(+lastForced || 0, +now || 0, cooldown >>> 0),
  /** How long (ms) a request joining a key fetch in flight waits, for fetches timing out after `timeout` s. */
  joinWait: (timeout) => wasm.remoteJoinWait(timeout >>> 0),
  /** The KV key of an issuer's remote key set document. */
  kvKey: (issuer) => wasm.remoteKvKey(str(issuer, 'issuer')),
  /**
   * The stored document (text or null) of an issuer whose keys come from `jwksUri` (null or
   * omitted: discovery) as a handle; `data_unavailable` when invalid. A copy fetched from
   * another source is ignored (an empty handle whose `ignored` says why).
   */
  open: (issuer, text, jwksUri) =>
    core(
      () =>
        new wasm.RemoteKeySet(
          str(issuer, 'issuer'),
          text == null ? undefined : str(text, 'document'),
          jwksUri == null ? undefined : str(jwksUri, 'jwksUri'),
        ),
    ),
};

function bytes(b) {
  if (b instanceof Uint8Array) return b;
  if (typeof b === 'string') return new TextEncoder().encode(b);
  throw new TypeError('tokengate: body must be a Uint8Array or a string');
}

/** A fetch error's message with its cause (Node's `fetch failed` says why only there). */
function failed(e) {
  const cause = e?.cause?.message ?? e?.cause?.code;
  const message = String(e?.message ?? e);
  return typeof cause === 'string' && cause !== '' && !message.includes(cause) ? `${message}: ${cause}` : message;
}

/**
 * One GET within the bounds: `{ status, etag, cacheControl, body }`, or throws `RemoteKeysError`
 * (`url_not_allowed`, `timeout`, `network`, `too_large`). Redirects are not followed.
 */
export async function boundedFetch(url, { policy, headers = {}, fetch: f = globalThis.fetch } = {}) {
  remoteKeys.checkUrl(url);
  const p = remoteKeys.fetchPolicy(policy);
  const ctrl = new AbortController();
  let timedOut = false;
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      ctrl.abort();
      reject(new RemoteKeysError({ reason: 'timeout', message: `${url} did not answer within ${p.timeout} s` }));
    }, p.timeout * 1000);
  });
  async function read(res) {
    const tooLarge = () => new RemoteKeysError({ reason: 'too_large', message: `${url}: body is over ${p.maxBytes} bytes` });
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > p.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    const chunks = [];
    let total = 0;
    if (res.body) {
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          // A body that does not give bytes (a fetch implementation's own stream) is no body.
          if (!(value instanceof Uint8Array)) throw new TypeError('the body is not a byte stream');
          total += value.byteLength;
          if (total > p.maxBytes) {
            await reader.cancel().catch(() => {});
            throw tooLarge();
          }
          chunks.push(value);
        }
      } catch (e) {
        if (e instanceof RemoteKeysError) throw e;
        if (timedOut) throw new RemoteKeysError({ reason: 'timeout', message: `${url}: body did not arrive within ${p.timeout} s` });
        throw new RemoteKeysError({ reason: 'network', message: `${url}: ${failed(e)}` });
      }
    }
    const body = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      body.set(c, at);
      at += c.byteLength;
    }
    return {
      status: res.status,
      etag: res.headers.get('etag') ?? undefined,
      cacheControl: res.headers.get('cache-control') ?? undefined,
      body,
    };
  }
  const work = (async () => {
    let res;
    try {
      res = await f(url, { headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal: ctrl.signal });
    } catch (e) {
      if (timedOut) throw new RemoteKeysError({ reason: 'timeout', message: `${url} did not answer within ${p.timeout} s` });
      throw new RemoteKeysError({ reason: 'network', message: `${url}: ${failed(e)}` });
    }
    try {
      return await read(res);
    } catch (e) {
      if (e instanceof RemoteKeysError) throw e;
      if (timedOut) throw new RemoteKeysError({ reason: 'timeout', message: `${url}: body did not arrive within ${p.timeout} s` });
      // A fetch implementation answering with something that is not a Response (null, a string,
      // no headers, getters that throw) failed as the network does: recorded, and retried only
      // when the core says.
      throw new RemoteKeysError({ reason: 'network', message: `${url}: not a response: ${failed(e)}` });
    }
  })();
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
  }
}

/**
 * The JWKS URL of an issuer: `jwksUri` as given (checked), or found by discovery (OIDC, then
 * RFC 8414 on a 404). Returns `{ url, fetches }`, and after discovery `from` (the document's URL)
 * and `document` (its bytes, checked by the core).
 */
export async function jwksUrl(source, opts = {}) {
  if (source.jwksUri !== undefined) {
    remoteKeys.checkUrl(source.jwksUri);
    return { url: source.jwksUri, fetches: 0 };
  }
  let fetches = 0;
  let last;
  for (const url of remoteKeys.discoveryUrls(source.issuer)) {
    const r = await boundedFetch(url, opts);
    fetches++;
    if (r.status === 404) {
      last = new RemoteKeysError({ reason: 'http_status', message: `${url}: HTTP 404` });
      continue;
    }
    if (r.status >= 300 && r.status < 400)
      throw new RemoteKeysError({ reason: 'redirect', message: `${url}: HTTP ${r.status} redirect: not followed` });
    if (r.status !== 200) throw new RemoteKeysError({ reason: 'http_status', message: `${url}: HTTP ${r.status}` });
    return { url: remoteKeys.discovery(source.issuer, r.body, opts.policy), fetches, from: url, document: r.body };
  }
  throw last;
}

/**
 * Fetches an issuer's keys into its document handle (from `remoteKeys.open`), then the JWKS with
 * `If-None-Match`. With discovery, the `jwks_uri` the document holds is used while the core says
 * it is not due (`remoteKeys.discoveryMaxAge`); discovery is fetched again when it is due, or at
 * once when the JWKS at the held URL fails (a provider that moved its keys is followed in the
 * same attempt). A failure is recorded in the handle (previous keys kept) and returned:
 * `{ failure: { reason, message } | null, fetches }`.
 */
export async function fetchRemoteKeys(set, source, opts = {}) {
  let fetches = 0;
  const policy = policyText(opts.policy);
  const record = (e) => {
    const message = e.message.slice(e.reason.length + 2);
    set.failed(e.reason, message, Date.now());
    return { reason: e.reason, message };
  };
  // The core records a discovered URL only once its keys are held (`afterDiscovery`): it is
  // given each URL discovery names, and again once that URL's JWKS was fetched.
  const discovered = (url) => set.afterDiscovery(url, Date.now());
  const discover = async () => {
    const found = await jwksUrl({ issuer: source.issuer }, opts);
    fetches += found.fetches;
    discovered(found.url);
    return found.url;
  };
  const jwks = async (url) => {
    const inm = set.ifNoneMatch(url);
    const r = await boundedFetch(url, { ...opts, headers: inm ? { 'if-none-match': inm } : {} });
    fetches++;
    const response = JSON.stringify({ status: r.status, etag: r.etag, cacheControl: r.cacheControl });
    // A response the core cannot take (a status that is no HTTP status) is its `Failure` too.
    return core(() => set.afterFetch(url, response, r.body, Date.now(), policy));
  };
  try {
    let url = source.jwksUri;
    let held = false;
    if (url === undefined) {
      url = set.discovered(Date.now(), policy) ?? undefined;
      held = url !== undefined;
      url ??= await discover();
    } else remoteKeys.checkUrl(url);
    const fresh = source.jwksUri === undefined && !held; // discovered in this attempt
    let failure;
    try {
      failure = await jwks(url);
    } catch (e) {
      if (!(e instanceof RemoteKeysError) || !held) throw e;
      failure = record(e);
    }
    if (fresh) discovered(url);
    if (failure && held) {
      // The held JWKS URL failed: discovery now; a key set that moved is fetched at once.
      const again = await discover();
      if (again !== url) {
        try {
          failure = await jwks(again);
        } catch (e) {
          if (!(e instanceof RemoteKeysError)) throw e;
          failure = record(e);
        }
        discovered(again);
      }
    }
    return { failure, fetches };
  } catch (e) {
    if (!(e instanceof RemoteKeysError)) throw e;
    return { failure: record(e), fetches };
  }
}

// The hooks a `Validator` given a key source as `keys` calls (js/core.js): a registered symbol,
// so the two modules need not import each other.
const KEY_SOURCE = Symbol.for('tokengate.keySource');

/**
 * An identity provider's keys for Node and browser applications, like jose's
 * `createRemoteJWKSet`: `new Validator({ keys: remoteJwks({ issuer, discovery: true }), … })`.
 * Options (`issuer`, `discovery`, `jwksUri`, `kidCooldown`, `keysMaxStale`, `remoteKeys`) are
 * the worker's, defaulted and checked by the core; `io.fetch` replaces `globalThis.fetch` and
 * `io.document` (a `toJSON()` kept earlier) starts warm. When to fetch, refresh in the background
 * or give up is the core's decision; one fetch in flight; an unknown `kid` forces at most one
 * refetch per `kidCooldown`.
 */
export class RemoteJwks {
  #o;
  #policy;
  #set;
  #fetch;
  #inflight = null;
  #version = 0;
  #jwks = null;
  #text = null;
  #stats = { fetches: 0, refreshes: 0, forced: 0 };

  constructor(options, io = {}) {
    if (options === null || typeof options !== 'object' || Array.isArray(options))
      throw new TypeError('tokengate: remoteJwks options must be an object');
    const { fetch: f = globalThis.fetch, document = null } = io ?? {};
    if (typeof f !== 'function') throw new TypeError('tokengate: io.fetch must be a function');
    this.#o = JSON.parse(core(() => wasm.remoteSourceOptions(JSON.stringify(options))));
    this.#policy = this.#o.remoteKeys;
    this.#fetch = f;
    // A saved document from another source than these options' starts cold (never trusted).
    this.#set = remoteKeys.open(this.#o.name, document, this.#o.discovery ? null : this.#o.jwksUri);
    this.#apply();
  }

  #timing() {
    return [this.#o.kidCooldown, this.#o.keysMaxStale];
  }

  #action() {
    return this.#set.action(Date.now(), ...this.#timing());
  }

  #apply() {
    if (!this.#set.hasKeys) return;
    const text = this.#set.jwks();
    if (text === this.#text) return;
    this.#text = text;
    this.#jwks = JSON.parse(text);
    this.#version++;
  }

  #usable() {
    const a = this.#action();
    return this.#jwks !== null && (a === 'use' || a === 'refresh');
  }

  #background() {
    this.refresh().catch(() => {});
  }

  /**
   * Fetches now (joining the fetch in flight, whose result is used): `null`, or the failure
   * `{ reason, message }` (the keys held are kept). A kid wanted while the fetch was in flight is
   * not answered by it (it may predate the provider's rotation): then it fetches once more.
   */
  refresh() {
    this.#inflight ??= (async () => {
      this.#stats.refreshes++;
      try {
        const o = this.#o;
        const source = o.discovery ? { issuer: o.issuer } : { jwksUri: o.jwksUri };
        let failure;
        do {
          const ticket = this.#set.ticket;
          try {
            let fetches;
            ({ failure, fetches } = await fetchRemoteKeys(this.#set, source, { policy: this.#policy, fetch: this.#fetch }));
            this.#stats.fetches += fetches;
          } finally {
            this.#set.answered(ticket);
          }
        } while (this.#set.fetchWanted(Date.now(), ...this.#timing()));
        return failure;
      } finally {
        this.#apply();
        this.#inflight = null;
      }
    })();
    return this.#inflight;
  }

  /** The core's summary: `{ source, keys, kids, ageSeconds, nextRefreshSeconds, usable, action, lastError, … }`, plus this object's fetch counts. */
  summary() {
    return { ...JSON.parse(this.#set.summary(Date.now(), ...this.#timing())), stats: { ...this.#stats } };
  }

  /** The keys held (`{ keys: [...] }`, public JWKs as the core kept them), or null before the first good fetch. */
  get jwks() {
    return this.#jwks;
  }

  /** The key set document (JSON text), to start a later `remoteJwks` warm (`io.document`). */
  toJSON() {
    return this.#set.toJSON();
  }

  get [KEY_SOURCE]() {
    return {
      held: () => (this.#usable() ? { version: this.#version, jwks: this.#jwks } : null),
      why: () => {
        const e = JSON.parse(this.#set.summary(Date.now(), ...this.#timing())).lastError;
        return `remote keys of ${this.#o.name}: ${e ? `${e.reason}: ${e.message}` : 'no keys fetched yet'}`;
      },
      // A synchronous call: a due refresh (or a first fetch) starts in the background.
      touch: () => {
        const a = this.#action();
        if (a === 'refresh' || a === 'fetch') this.#background();
      },
      // An asynchronous call waits for a fetch when no keys are usable; a due refresh runs behind it.
      ready: async () => {
        const a = this.#action();
        if (a === 'fetch') await this.refresh();
        else if (a === 'refresh') this.#background();
      },
      // An unknown kid: one refetch per cooldown (the core's); true when it changed the keys.
      // No token is given here, so only a fetch that starts after the want answers it.
      force: async () => {
        if (!this.#set.want('', Date.now(), this.#o.kidCooldown)) return false;
        this.#stats.forced++;
        const before = this.#version;
        await this.refresh();
        return this.#version !== before;
      },
    };
  }
}

/** `new RemoteJwks(options, io)`. */
export const remoteJwks = (options, io) => new RemoteJwks(options, io);
