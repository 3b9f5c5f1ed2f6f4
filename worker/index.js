// The edge worker (wrangler.toml `main`; for those who deploy the gate): rejects bad credentials
// before they reach the origin. It moves bytes (KV reads, caching, HTTP); every accept/reject
// decision is the wasm core's. An HTTP layer over the package: it imports only its entry points,
// `tokengate` and `tokengate/store` (tests/js/layout.test.mjs checks).
import * as tg from 'tokengate';
import {
  MAINTENANCE,
  adoptJwks,
  adoptRevocations,
  compactGrants,
  compactJwks,
  compactRevocations,
  issuerPolicy,
  keyPlan,
  parseConfig,
  readJwks,
  readRevocations,
  remoteKeys,
} from 'tokengate/store';
import { Cached, Unavailable } from './store.js';
import { extractCredential, CredentialError, cookiePieces, looseName, queryPieces } from './credentials.js';
import { RemoteIssuer } from './remote.js';
import { issuerFor, validatorOptions } from './gate.js';

const HEALTH = '/.well-known/tokengate/health';
const JWKS_PATH = '/.well-known/jwks.json';
const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** Everything one isolate keeps between requests. */
class Isolate {
  constructor(env) {
    this.env = env;
    this.kv = env.TOKENGATE;
    this.counter = { reads: 0 };
    this.configVersion = env.TOKENGATE_CONFIG ?? '';
    this.config = new Cached(() => this.#loadConfig(), tg.configReloadBounds());
    this.jwks = new Map(); // KV key -> Cached({ doc, validators: Map })
    this.revocations = null;
    this.grants = null;
    this.lastForcedReload = new Map(); // KV key -> ms
    this.remote = new Map(); // issuer -> RemoteIssuer (keys fetched from an identity provider)
    this.stats = { requests: 0, accepted: 0, rejected: 0 };
  }

  async #loadConfig() {
    const fromKv = this.kv ? await this.kv.get('config') : null;
    this.counter.reads++;
    let config;
    if (fromKv !== null) config = parseConfig(fromKv, 'KV key "config"');
    else if (!this.env.TOKENGATE_CONFIG) throw new Error('no configuration: set TOKENGATE_CONFIG or the KV key "config"');
    else config = parseConfig(this.env.TOKENGATE_CONFIG, 'TOKENGATE_CONFIG');
    // Route decisions (canonical path, default deny) are the core's.
    config.router = new tg.Router(config, { realm: config.realm });
    this.apiKeys = new Map();
    return config;
  }

  bounds(config) {
    return { ttl: config.cacheTtl, maxStale: config.keysMaxStale };
  }

  revocationsCache(config) {
    this.revocations ??= new Cached(async (prev) => {
      this.counter.reads++;
      // The snapshot, merged with any entry it is behind (js/store.js readRevocations).
      const { text } = await readRevocations(this.kv);
      // Same text: keep the parsed handle (and every validator's cache keyed by it).
      if (prev && prev.text === text) return prev;
      return { list: new tg.RevocationList(text), text };
    }, this.bounds(config));
    return this.revocations;
  }

  grantsCache(config) {
    this.grants ??= new Cached(async () => {
      this.counter.reads++;
      // Checked by the core; no document narrows nothing.
      return tg.grantsDocument(await this.kv.get('grants'));
    }, this.bounds(config));
    return this.grants;
  }

  jwksCache(config, name) {
    let c = this.jwks.get(name);
    if (!c) {
      const persisted = config.persistKeys ? new PersistedKeys(name, config) : null;
      c = new Cached(async (prev) => {
        // A new isolate starts warm from the persisted copy while it is younger than the TTL; its
        // age counts from when it was read from KV, never from when it was copied.
        const hit = prev ? null : await persisted?.fresh();
        let doc = hit?.doc;
        let readAt = hit?.at;
        if (!doc) {
          try {
            this.counter.reads++;
            // The snapshot, or the live key entries when it is behind them (js/store.js readJwks).
            ({ doc } = await readJwks(this.kv, name));
            readAt = Date.now();
            await persisted?.store(doc, readAt);
          } catch (e) {
            // Last known good across isolates, within the same bound as in one isolate (and
            // not stored again, so that bound cannot be renewed).
            const stale = prev ? null : await persisted?.usable();
            if (!stale) throw e;
            ({ doc, at: readAt } = stale);
          }
        }
        if (prev && prev.doc.version === doc.version && JSON.stringify(prev.doc.keys) === JSON.stringify(doc.keys)) {
          prev.readAt = readAt;
          return prev;
        }
        // Active and retired keys both verify (retired: still valid tokens signed before the
        // rotation); only a key removed from the document stops verifying.
        const jwks = { keys: doc.keys.map((k) => k?.jwk) };
        // A document the core rejects (a duplicate kid, no usable key) fails this load, so the
        // last known good keys stay in use within their bound.
        new tg.Validator({ keys: jwks });
        return { doc, jwks, validators: new Map(), readAt };
      }, this.bounds(config));
      this.jwks.set(name, c);
    }
    return c;
  }

  /** An issuer whose keys are fetched (`jwksUri`, `discovery`), kept per isolate. */
  remoteFor(config, issuer) {
    let r = this.remote.get(issuer.issuer);
    if (!r) {
      r = new RemoteIssuer(this, issuer, config);
      this.remote.set(issuer.issuer, r);
    }
    r.config = config;
    r.issuer = issuer;
    return r;
  }

  /** The key source of an issuer: its KV key set (`jwks`) or its remote keys. */
  keysFor(config, issuer, opts) {
    return issuer.jwks !== undefined ? this.jwksCache(config, issuer.jwks).get(opts) : this.remoteFor(config, issuer).get(opts);
  }

  /** The validator for an issuer and a route's token types, with current revocations and grants. */
  async validator(config, issuer, tokenTypes, { force = false, waitUntil } = {}) {
    // allSettled, not all: a load still running when this request answers would be tied to a
    // finished request.
    const settled = await Promise.allSettled([
      this.keysFor(config, issuer, { force, waitUntil }),
      this.revocationsCache(config).get({ waitUntil }),
      this.grantsCache(config).get({ waitUntil }),
    ]);
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    const [keys, revocations, grants] = settled.map((r) => r.value);
    const types = tokenTypes ?? issuer.tokenTypes;
    const id = JSON.stringify(types ?? null);
    let entry = keys.validators.get(id);
    if (!entry) {
      const v = new tg.Validator({ keys: keys.jwks, ...validatorOptions(config, issuer, types), cache: { size: 10_000, failureTtl: 5 } });
      entry = { v, revocations: null, grants: undefined };
      keys.validators.set(id, entry);
    }
    // Handles are swapped only when the data changed, keeping each validator's cache.
    if (entry.revocations !== revocations) {
      entry.v.setRevocations(revocations.list);
      entry.revocations = revocations;
    }
    // Issuer-wide grants narrow every token; none (or removed) narrows nothing ("*").
    const g = Object.hasOwn(grants.issuers, issuer.issuer) ? grants.issuers[issuer.issuer] : '*';
    if (entry.grants !== g) {
      entry.v.setGrants(g);
      entry.grants = g;
    }
    return entry.v;
  }

  /** API keys have their own validator (no issuer's keys), per route token types. */
  async apiKeyValidator(config, tokenTypes, { waitUntil } = {}) {
    const revocations = await this.revocationsCache(config).get({ waitUntil });
    const id = JSON.stringify(tokenTypes ?? null);
    let entry = this.apiKeys.get(id);
    if (!entry) {
      const v = new tg.Validator({
        keys: null,
        tokenTypes: tokenTypes ?? undefined,
        maxRevocationAge: config.maxRevocationAge,
        realm: config.realm,
      });
      entry = { v, revocations: null };
      this.apiKeys.set(id, entry);
    }
    if (entry.revocations !== revocations) {
      entry.v.setRevocations(revocations.list);
      entry.revocations = revocations;
    }
    return entry.v;
  }

  /** One forced key reload per cooldown, so a client varying `kid` cannot hammer KV. */
  mayForceReload(config, name) {
    const now = Date.now();
    if (!remoteKeys.mayForce(this.lastForcedReload.get(name) ?? 0, now, config.kidCooldown)) return false;
    this.lastForcedReload.set(name, now);
    return true;
  }
}

/**
 * The last key document read from KV, kept in the colo's Cache API (`persistKeys`), so a new
 * isolate does not start with a KV read and survives a KV outage with the last good copy.
 * Public keys only; the cache key is not reachable from outside the worker.
 */
class PersistedKeys {
  constructor(name, config) {
    this.url = `https://tokengate.internal/jwks/${encodeURIComponent(name)}`;
    this.ttl = config.cacheTtl;
    this.maxStale = config.keysMaxStale;
  }

  /** `{ doc, at }` (at: when it was read from KV, ms) when the core would `use` (or, with
   * `stale`, still serve) a copy that old, or null. */
  async #read(stale) {
    const hit = await caches.default.match(this.url);
    if (!hit) return null;
    const { doc, at } = await hit.json();
    const action = tg.reloadAction(Number.isFinite(at) ? at : null, Date.now(), { ttl: this.ttl, maxStale: this.maxStale });
    return action === 'use' || (stale && action === 'refresh') ? { doc, at } : null;
  }

  fresh() {
    return this.#read(false);
  }

  usable() {
    return this.#read(true);
  }

  store(doc, at) {
    const body = JSON.stringify({ doc, at });
    return caches.default.put(this.url, new Response(body, { headers: { 'cache-control': `max-age=${this.maxStale}` } }));
  }
}

let isolate = null;
const isolateFor = (env) => {
  if (!isolate || isolate.env !== env) isolate = new Isolate(env);
  return isolate;
};

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/** A core rejection as an HTTP answer: status, RFC 6750 challenge, `Allow`, `Retry-After`. */
function rejection(e) {
  const headers = {};
  if ([400, 401, 403].includes(e.status)) headers['WWW-Authenticate'] = e.wwwAuthenticate;
  if (e.allow !== undefined) headers.Allow = e.allow;
  if (e.retryAfter !== undefined) headers['Retry-After'] = String(e.retryAfter);
  const body = { error: e.oauthError, error_description: e.message, code: e.code };
  if (e.scope) body.scope = e.scope;
  return json(e.status, body, headers);
}

/** A server-side data problem: logged with its cause, answered 503 without it. */
/** Logs a server-side problem and sends the core's 503 for it, which tells the client nothing. */
function unavailable(message) {
  console.error(JSON.stringify({ event: 'unavailable', message }));
  return rejection(tg.answered(tg.rejection('data_unavailable', message)));
}

/** The page's own files only; never framed. */
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

function withPageHeaders(res) {
  const out = new Response(res.body, res);
  for (const [k, v] of Object.entries(PAGE_HEADERS)) out.headers.set(k, v);
  return out;
}

async function authenticate(iso, config, request, url, decision, waitUntil) {
  const cred = extractCredential(request, url, config.credentials);
  if (cred === null)
    return { response: rejection(tg.rejection('credential_missing', 'a credential is required', { realm: config.realm })) };
  const now = Math.floor(Date.now() / 1000);
  const scope = decision.scope ?? null;
  if (cred.kind === 'apikey') {
    const v = await iso.apiKeyValidator(config, decision.tokenTypes, { waitUntil });
    let stored;
    let name;
    try {
      const hash = tg.apiKey.parse(cred.value);
      iso.counter.reads++;
      name = `apikey:${hash}`;
      stored = await iso.kv.getWithMetadata(name);
    } catch (e) {
      // A malformed key: the same rejection, challenged in this worker's realm.
      if (e instanceof tg.TokengateError) throw tg.rejection(e.code, e.message, { realm: config.realm });
      throw new Unavailable(`API key store: ${e.message}`);
    }
    // One record: the core checks value and metadata agree (and its hash is its name's), else
    // `record_invalid` (503) for this key, as `status` reports it.
    const record = tg.lifecycle.apiKeyRecord(name, stored.value, stored.metadata, { realm: config.realm }) ?? undefined;
    return { cred, verified: v.validateApiKey(cred.value, record, { now, scope }) };
  }
  const issuer = issuerFor(config, cred.value, cred.issuers);
  const opts = { now, scope };
  if (issuer.tenantGrants) {
    // Seed 003: a token's scopes are narrowed to what its tenant granted its module. The claims
    // only pick the grant list; the core verifies the token before applying it. No grant: no scope.
    const { tenantClaim = 'tenant', moduleClaim = 'module' } = issuer.tenantGrants;
    const [tenant, module] = tg.peekClaims(cred.value, [tenantClaim, moduleClaim]);
    const grants = await iso.grantsCache(config).get({ waitUntil });
    // Own properties only: an unverified claim like "__proto__" must not reach Object.prototype.
    const own = (o, k) => (o && typeof k === 'string' && Object.hasOwn(o, k) ? o[k] : undefined);
    const granted = own(own(grants.tenants, tenant), module);
    opts.grants = Array.isArray(granted) ? granted : [];
  }
  const types = decision.tokenTypes ?? undefined;
  let v = await iso.validator(config, issuer, types, { waitUntil });
  try {
    return { cred, verified: await v.validateAsync(cred.value, opts) };
  } catch (e) {
    // A kid we do not know may be a key published since our last read: reload once per cooldown.
    if (!(e instanceof tg.TokengateError) || e.code !== 'key_not_found') throw e;
    if (!(issuer.jwks !== undefined ? iso.mayForceReload(config, issuer.jwks) : iso.remoteFor(config, issuer).mayForce(cred.value)))
      throw e;
    v = await iso.validator(config, issuer, types, { force: true, waitUntil });
    return { cred, verified: await v.validateAsync(cred.value, opts) };
  }
}

/**
 * A claim as a header value, unambiguously: a string of visible ASCII that does not read as JSON
 * is sent as is; anything else (other strings, numbers, booleans, arrays, objects) is sent as
 * JSON with ASCII escapes, so `"\u00fc"` (a string) and `ü` never arrive alike.
 */
function headerValue(v) {
  if (typeof v === 'string' && /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(v) && !readsAsJson(v)) return v;
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function readsAsJson(text) {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * What the origin receives: the client's headers without any identity header it sent, without
 * the credential (wherever it came from) unless `forwardAuthorization`, plus the verified identity.
 */
function originHeaders(config, request, verified) {
  const headers = new Headers(request.headers);
  // Strip first, so a client can never spoof an identity header or pass a credential on: every
  // spelling an origin may read as the same name (`X_Auth_Subject` is `X-Auth-Subject` to CGI).
  const guarded = [...Object.values(config.identityHeaders), ...Object.values(config.claimHeaders)];
  if (!config.forwardAuthorization)
    guarded.push(
      'Authorization',
      ...(config.credentials.apiKeyHeader ? [config.credentials.apiKeyHeader] : []),
      ...(config.credentials.header ? [config.credentials.header] : []),
      ...(config.credentials.access ? [config.credentials.access.name] : []),
    );
  const loose = new Set(guarded.map(looseName));
  for (const name of [...headers.keys()]) if (loose.has(looseName(name))) headers.delete(name);
  const cookie = config.credentials.cookie;
  if (!config.forwardAuthorization && cookie && headers.has('Cookie')) {
    const rest = cookiePieces(headers.get('Cookie')).filter(([n]) => n !== cookie);
    if (rest.length) headers.set('Cookie', rest.map(([n, v]) => (v === null ? n : `${n}=${v}`)).join('; '));
    else headers.delete('Cookie');
  }
  if (verified) {
    const h = config.identityHeaders;
    const set = (name, value) => value !== null && value !== undefined && headers.set(name, headerValue(value));
    set(h.subject, verified.subject);
    // Scopes are checked tokens (no spaces or controls): a plain list, empty when none.
    headers.set(h.scopes, verified.scopes.join(' '));
    set(h.issuer, verified.issuer);
    set(h.tokenId, verified.tokenId);
    set(h.kind, verified.kind);
    for (const [claim, name] of Object.entries(config.claimHeaders)) {
      if (Object.hasOwn(verified.claims, claim)) set(name, verified.claims[claim]);
    }
  }
  return headers;
}

/**
 * The origin URL: the origin's scheme and authority with exactly the decided (canonical) path,
 * set as a path so it can never become an authority; the query without the credential.
 */
function originUrl(config, env, url, path) {
  const target = new URL(env.ORIGIN || config.origin === 'builtin:echo' ? url.origin : config.origin);
  target.pathname = path;
  const q = config.credentials.query;
  // Only the credential's own piece is removed; the rest of the query stays byte for byte.
  const pieces = url.search.replace(/^\?/, '').split('&');
  const kept = q && !config.forwardAuthorization ? pieces.filter((p) => queryPieces(p)[0]?.[0] !== q) : pieces;
  target.search = kept.filter(Boolean).join('&');
  return target;
}

async function forward(config, env, request, decision, target, headers) {
  // Exactly what was decided: the canonical method and path.
  // A GET or HEAD body is not forwarded (a Request cannot carry one; origins ignore it).
  const body = decision.method === 'GET' || decision.method === 'HEAD' ? undefined : request.body;
  const init = { method: decision.method, headers, body, redirect: 'manual' };
  // A bound ORIGIN service wins over the configured origin.
  if (env.ORIGIN) return env.ORIGIN.fetch(new Request(target, init));
  if (config.origin === 'builtin:echo') {
    const names = new Set([...Object.values(config.identityHeaders), ...Object.values(config.claimHeaders)].map((n) => n.toLowerCase()));
    const identity = {};
    for (const [k, v] of headers) if (names.has(k)) identity[k] = v;
    return json(200, {
      upstream: 'builtin:echo',
      method: decision.method,
      path: target.pathname,
      query: target.search,
      identity,
      authorization: headers.has('Authorization'),
    });
  }
  return fetch(new Request(target, init));
}

/**
 * Health: `{ok}` for anyone (503 when the worker would answer 503: configuration, keys,
 * revocations or grants unavailable, revocation list past `maxRevocationAge`). Details need a
 * credential with `healthScope`.
 */
async function health(iso, config, request, url, waitUntil) {
  const problems = [];
  const issuers = [];
  for (const i of config.issuers) {
    try {
      await iso.validator(config, i, undefined, { waitUntil });
    } catch (e) {
      problems.push(`${i.issuer}: ${e.message}`);
    }
    if (i.jwks === undefined) {
      const r = iso.remoteFor(config, i);
      issuers.push({
        issuer: i.issuer,
        ...r.health(),
        cache: r.value ? [...r.value.validators.values()].map((e) => e.v.cacheStats()) : [],
      });
      continue;
    }
    const c = iso.jwks.get(i.jwks);
    const doc = c?.value?.doc;
    issuers.push({
      issuer: i.issuer,
      jwks: i.jwks,
      version: doc?.version ?? null,
      keys: doc
        ? { active: doc.keys.filter((k) => k.status === 'active').length, retired: doc.keys.filter((k) => k.status === 'retired').length }
        : null,
      ageSeconds: c?.ageSeconds() ?? null,
      loadFailures: c?.failures ?? 0,
      lastError: c?.lastError ?? null,
      cache: c?.value ? [...c.value.validators.values()].map((e) => e.v.cacheStats()) : [],
    });
  }
  const r = iso.revocations?.value?.list;
  const revocationAge = r ? Math.floor(Date.now() / 1000) - r.generatedAt : null;
  if (r && revocationAge > config.maxRevocationAge)
    problems.push(`revocation list is ${revocationAge} s old (maxRevocationAge ${config.maxRevocationAge} s)`);
  const ok = problems.length === 0;
  const status = ok ? 200 : 503;
  if (extractCredential(request, url, config.credentials) === null) return json(status, { ok });
  const { response } = await authenticate(iso, config, request, url, { scope: config.healthScope, tokenTypes: null }, waitUntil);
  if (response) return response;
  return json(status, {
    ok,
    problems,
    version: tg.version(),
    issuers,
    revocations: r ? { version: r.version, size: r.size, ageSeconds: revocationAge } : null,
    kv: { reads: iso.counter.reads },
    requests: iso.stats,
  });
}

/**
 * tokengate as an issuer publishes its keys: `/.well-known/jwks.json` holds the public keys
 * (active and retired) of the issuer whose identifier is this origin, or else of every issuer
 * the lifecycle commands mint for (`jwks` in KV); `/.well-known/openid-configuration` is a
 * minimal discovery document for the issuer at this origin (404 when none is).
 */
async function published(iso, config, method, url, waitUntil) {
  const minted = config.issuers.filter((i) => i.jwks !== undefined);
  const own = minted.filter((i) => i.issuer.replace(/\/$/, '') === url.origin);
  const headers = { 'cache-control': `public, max-age=${config.cacheTtl}`, 'access-control-allow-origin': '*' };
  // Read-only documents: 405 with `Allow: GET, HEAD` for anything else (the core's answer).
  tg.published.method(method, { realm: config.realm });
  if (url.pathname === DISCOVERY_PATH) {
    if (own.length !== 1) return json(404, { error: 'not_found' });
    // The algorithms its published keys verify, as the core reads them.
    const k = await iso.jwksCache(config, own[0].jwks).get({ waitUntil });
    return json(200, tg.published.discovery(own[0].issuer, `${url.origin}${JWKS_PATH}`, k.jwks), headers);
  }
  const keys = [];
  for (const i of own.length ? own : minted) {
    const k = await iso.jwksCache(config, i.jwks).get({ waitUntil });
    keys.push(...k.jwks.keys);
  }
  return json(200, { keys }, headers);
}

/** Any thrown rejection as an answer: client problems 4xx, server-side problems 503. */
function answer(iso, config, e) {
  if (e instanceof CredentialError) e = tg.rejection('invalid_request', e.message, { realm: config.realm });
  // Configuration, KV and data problems: logged, 503, never an accept and never a 500 for
  // anything a client sent (the core's answered() decides which go out as they are).
  if (!(e instanceof tg.TokengateError)) return unavailable(String(e?.message ?? e));
  if (tg.answered(e) !== e) return unavailable(`${e.code}: ${e.message}`);
  if (e.status < 500) iso.stats.rejected++;
  return rejection(e);
}

export default {
  async fetch(request, env, ctx) {
    const iso = isolateFor(env);
    const waitUntil = (p) => ctx?.waitUntil?.(p);
    const url = new URL(request.url);
    iso.stats.requests++;
    let config;
    try {
      config = await iso.config.get({ waitUntil });
    } catch (e) {
      return unavailable(`configuration: ${e.message}`);
    }
    try {
      if (url.pathname === HEALTH) return await health(iso, config, request, url, waitUntil);
      if (url.pathname === JWKS_PATH || url.pathname === DISCOVERY_PATH)
        return await published(iso, config, request.method, url, waitUntil);
      const decision = config.router.decide(request.method, url.pathname);
      if (decision.action === 'outside') {
        return env.ASSETS ? withPageHeaders(await env.ASSETS.fetch(request)) : json(404, { error: 'not_found' });
      }
      const target = originUrl(config, env, url, decision.path);
      if (decision.action === 'anonymous')
        return await forward(config, env, request, decision, target, originHeaders(config, request, null));
      const { verified, response } = await authenticate(iso, config, request, url, decision, waitUntil);
      if (response) {
        iso.stats.rejected++;
        return response;
      }
      iso.stats.accepted++;
      return await forward(config, env, request, decision, target, originHeaders(config, request, verified));
    } catch (e) {
      return answer(iso, config, e);
    }
  },

  /**
   * Cron: compacts what admin commands stored (folding in anything an interrupted command left),
   * prunes expired revocations, refreshes the revocation list's age, reports keys due for
   * rotation. The same store code as the CLI, so the two never disagree on the data model.
   */
  async scheduled(controller, env) {
    const iso = isolateFor(env);
    const config = await iso.config.get();
    const kv = env.TOKENGATE;
    const now = Math.floor(Date.now() / 1000);
    const report = { event: 'maintenance', pruned: 0, keys: [], errors: [] };
    const step = async (what, fn) => {
      try {
        await fn();
      } catch (e) {
        report.errors.push(`${what}: ${e.message}`);
      }
    };
    await step('revocations', async () => {
      await adoptRevocations(kv);
      // Rewritten at least every 10 minutes, so maxRevocationAge bounds how old the worker's copy is.
      report.pruned = (await compactRevocations(kv, { prune: true, refreshAfter: 600 })).pruned;
    });
    await step('grants', () => compactGrants(kv));
    for (const issuer of config.issuers) {
      if (issuer.jwks === undefined) {
        // Remote issuers: refetched now (KV then the provider), so isolates start from fresh keys.
        await step(issuer.issuer, async () => {
          await iso.remoteFor(config, issuer).refresh({ force: true });
          const h = iso.remoteFor(config, issuer).health().remote;
          if (h?.lastError) report.keys.push({ issuer: issuer.issuer, problem: 'remote_keys_failed', error: h.lastError });
        });
        continue;
      }
      await step(issuer.jwks, async () => {
        await adoptJwks(kv, issuer.jwks);
        const { doc } = await compactJwks(kv, issuer.jwks);
        const p = keyPlan(doc.keys, {
          now,
          rotationDays: config.rotationDays,
          maxActive: config.maxActiveKeys,
          policy: issuerPolicy(issuer),
        });
        if (p.rotationDue) report.keys.push({ jwks: issuer.jwks, problem: 'rotation_due', ageDays: p.newestAgeDays });
        if (p.excess.length) report.keys.push({ jwks: issuer.jwks, problem: 'too_many_active_keys', active: p.active.length });
        if (p.active.length === 0) report.keys.push({ jwks: issuer.jwks, problem: 'no_active_key' });
      });
    }
    await kv.put(MAINTENANCE, JSON.stringify({ ...report, at: now }));
    console.log(JSON.stringify(report));
  },
};
