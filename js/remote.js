// Remote key sets (issue 14): keys an identity provider publishes (OIDC discovery, a JWKS URL),
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
  /** The KV key of an issuer's remote key set document. */
  kvKey: (issuer) => wasm.remoteKvKey(str(issuer, 'issuer')),
  /** The stored document (text or null) as a handle; `data_unavailable` when invalid. */
  open: (issuer, text) => core(() => new wasm.RemoteKeySet(str(issuer, 'issuer'), text == null ? undefined : str(text, 'document'))),
};

function bytes(b) {
  if (b instanceof Uint8Array) return b;
  if (typeof b === 'string') return new TextEncoder().encode(b);
  throw new TypeError('tokengate: body must be a Uint8Array or a string');
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
  const work = (async () => {
    let res;
    try {
      res = await f(url, { headers: { accept: 'application/json', ...headers }, redirect: 'manual', signal: ctrl.signal });
    } catch (e) {
      if (timedOut) throw new RemoteKeysError({ reason: 'timeout', message: `${url} did not answer within ${p.timeout} s` });
      throw new RemoteKeysError({ reason: 'network', message: `${url}: ${e?.message ?? e}` });
    }
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
        throw new RemoteKeysError({ reason: 'network', message: `${url}: ${e?.message ?? e}` });
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
 * RFC 8414 on a 404). Returns `{ url, fetches }`.
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
    return { url: remoteKeys.discovery(source.issuer, r.body, opts.policy), fetches };
  }
  throw last;
}

/**
 * Fetches an issuer's keys into its document handle (from `remoteKeys.open`): discovery when
 * asked, then the JWKS with `If-None-Match`. A failure is recorded in the handle (previous keys
 * kept) and returned: `{ failure: { reason, message } | null, fetches }`.
 */
export async function fetchRemoteKeys(set, source, opts = {}) {
  let fetches = 0;
  const policy = policyText(opts.policy);
  try {
    const found = await jwksUrl(source, opts);
    fetches += found.fetches;
    const inm = set.ifNoneMatch(found.url);
    const r = await boundedFetch(found.url, { ...opts, headers: inm ? { 'if-none-match': inm } : {} });
    fetches++;
    const failure = set.afterFetch(
      found.url,
      JSON.stringify({ status: r.status, etag: r.etag, cacheControl: r.cacheControl }),
      r.body,
      Date.now(),
      policy,
    );
    return { failure, fetches };
  } catch (e) {
    if (!(e instanceof RemoteKeysError)) throw e;
    const message = e.message.slice(e.reason.length + 2);
    set.failed(e.reason, message, Date.now());
    return { failure: { reason: e.reason, message }, fetches };
  }
}
