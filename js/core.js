// The typed JS API, the same in Node, browsers and workerd. Every decision is made by the wasm
// core; this layer converts options, keeps handles, and (on the native path) runs the
// signature primitive in the runtime's own crypto between the core's prepare and finish.
import * as wasm from '../pkg/tokengate.js';
import { webCryptoPrimitive } from './webcrypto.js';
import { syncPrimitive } from './primitives.js';

/** A rejection: stable `code`, HTTP `status`, human `message`, ready `wwwAuthenticate`. */
export class TokengateError extends Error {
  constructor(e) {
    super(e.message);
    this.name = 'TokengateError';
    this.code = e.code;
    this.status = e.status;
    this.oauthError = e.oauthError;
    this.wwwAuthenticate = e.wwwAuthenticate;
    if (e.scope !== undefined) this.scope = e.scope;
  }
}

/** Calls into wasm, turning the core's coded error objects into `TokengateError`s. */
function call(fn) {
  try {
    return fn();
  } catch (e) {
    throw wrap(e);
  }
}

function wrap(e) {
  if (e && typeof e === 'object' && typeof e.code === 'string' && typeof e.status === 'number' && !(e instanceof Error)) {
    return new TokengateError(e);
  }
  return e;
}

const json = (v) => (typeof v === 'string' ? v : JSON.stringify(v));
const nowSecs = () => Math.floor(Date.now() / 1000);

function deepFreeze(o) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** A CryptoKey per (key, alg), imported once; null when the core must verify instead. */
function asyncHandle(handles, desc, index, alg) {
  const id = `${index}/${alg}`;
  let h = handles.get(id);
  if (h === undefined) {
    h = desc.jwk.kty === 'oct' ? Promise.resolve(null) : webCryptoPrimitive.importKey(desc.jwk, alg).catch(() => null);
    handles.set(id, h);
  }
  return h;
}

/** A parsed revocation list (a wasm-side handle, reused across calls). */
export class RevocationList {
  /** @param {string|object} list schema-1 JSON */
  constructor(list) {
    this._h = call(() => new wasm.RevocationList(json(list)));
  }
  get version() {
    return this._h.version;
  }
  get generatedAt() {
    return this._h.generatedAt;
  }
  get size() {
    return this._h.size;
  }
  get source() {
    return this._h.source;
  }
  /** Canonical JSON without entries past their `until`. */
  pruned(now = nowSecs()) {
    return this._h.pruned(now);
  }
  toJSON() {
    return JSON.parse(this._h.toJSON());
  }
  toString() {
    return this._h.toJSON();
  }
}

const asList = (l) => (l instanceof RevocationList ? l : new RevocationList(l));
const scopeText = (s) => (Array.isArray(s) ? s.join(' ') : s);

/**
 * Keys + policy, built once. `options`: `keys` (JWKS or JWK, object or JSON text), policy fields
 * (`issuer`, `audience`, `subject`, `leeway`, `maxLifetime`, `tokenTypes`, `requiredClaims`,
 * `scope`, …), `revocations`, `grants`, `realm`, `cache` (`true` or `{ size, failureTtl }`),
 * `native` (default true: use the runtime's signature primitives where it has them).
 */
export class Validator {
  #v;
  #ctx;
  #scratch;
  #results = [];
  #scopes = new Map();
  #native;
  #keys;
  #sync = null;
  #syncNone = false;
  #async = null;
  #config;

  constructor(options = {}) {
    const { keys, revocations, grants, realm = 'api', cache, native = true, ...policy } = options;
    this.#config = { policy, realm, cache: cache === true ? {} : cache };
    this.#ctx = new wasm.Context();
    this.#scratch = new wasm.Context();
    this.#native = native;
    this.setKeys(keys);
    if (revocations !== undefined) this.setRevocations(revocations);
    if (grants !== undefined) this.setGrants(grants);
  }

  /**
   * Replaces the key set (a JWKS refresh or rotation), keeping the policy. Native key handles
   * and the verified-token cache start over: nothing verified by a removed key is served again.
   */
  setKeys(keys) {
    if (keys === undefined) throw new TypeError('tokengate: options.keys (a JWKS or JWK) is required');
    const { policy, realm, cache } = this.#config;
    const v = call(() => new wasm.Validator(json(keys), policy, realm));
    if (cache) v.enableCache(cache.size ?? 10_000, cache.failureTtl ?? 5);
    // No explicit free: an async call may still hold the old one; the glue's finalizer frees it.
    this.#v = v;
    this.#keys = undefined;
    this.#sync = null;
    this.#async = null;
    this.#results = [];
  }

  /** Key descriptions: `[{ index, kid, algs, jwk, thumbprint }]` (HMAC secrets stay in wasm). */
  get keys() {
    return (this.#keys ??= this.#v.keys());
  }

  /** Keys in the set that could not be used, as `[kid, reason]`. */
  get skipped() {
    return this.#v.skipped();
  }

  /** Replaces the revocation list every later call is checked against. */
  setRevocations(list) {
    this.#ctx.setRevocations(asList(list)._h);
  }

  /** Space-separated scopes (or an array) that narrow every token's scopes. */
  setGrants(grants) {
    call(() => this.#ctx.setGrants(scopeText(grants)));
  }

  /** `{ entries, hits, misses }` of the verified-token cache. */
  cacheStats() {
    const [entries, hits, misses] = this.#v.cacheStats();
    return { entries, hits, misses };
  }

  #requirement(expr) {
    let r = this.#scopes.get(expr);
    if (!r) {
      r = call(() => new wasm.ScopeRequirement(expr));
      if (this.#scopes.size >= 256) this.#scopes.clear();
      this.#scopes.set(expr, r);
    }
    return r;
  }

  /** The context for one call: the validator's, or a scratch copy with per-call changes. */
  #context(opts) {
    if (!opts || (opts.scope === undefined && opts.grants === undefined && opts.revocations === undefined)) {
      return this.#ctx;
    }
    const c = this.#scratch;
    c.copyFrom(this.#ctx);
    if (opts.scope !== undefined) {
      if (opts.scope === null) c.clearScope();
      else c.setScope(this.#requirement(scopeText(opts.scope)));
    }
    if (opts.grants !== undefined) call(() => c.setGrants(scopeText(opts.grants)));
    if (opts.revocations !== undefined) c.setRevocations(asList(opts.revocations)._h);
    return c;
  }

  #result(r, results = this.#results) {
    if (typeof r === 'number') return results[r];
    if (r.slot !== undefined) {
      const slot = r.slot;
      delete r.slot;
      results[slot] = deepFreeze(r);
    }
    return r;
  }

  #syncHandles() {
    if (this.#sync === null) {
      const prim = syncPrimitive();
      this.#sync = this.keys.map((k) => (k.jwk.kty === 'oct' ? null : prim.importKey(k.jwk)));
      this.#syncNone = this.#sync.every((h) => h === null);
    }
    return this.#sync;
  }

  /**
   * Validates a JWT synchronously: `{ header, claims, subject, scopes, tokenId, expiresAt, … }`,
   * or throws a `TokengateError`. `opts`: `now` (seconds), `scope` (a requirement for this call),
   * `grants`, `revocations`. In Node the signature runs in `node:crypto`; elsewhere in wasm.
   */
  validate(token, opts) {
    const now = opts?.now ?? nowSecs();
    const ctx = this.#context(opts);
    const prim = syncPrimitive();
    if (this.#native && prim !== null) this.#syncHandles();
    // One call into wasm when no key can use the native primitive (HMAC secrets stay in wasm).
    if (!this.#native || prim === null || this.#syncNone) {
      return this.#result(call(() => this.#v.validateWith(token, now, ctx)));
    }
    const p = call(() => this.#v.prepareWith(token, now, ctx));
    if (typeof p === 'number') return this.#results[p];
    const handles = this.#syncHandles();
    const data = p.signingInput;
    const sig = p.signature;
    let ok;
    for (const i of p.candidates) {
      const h = handles[i];
      if (h ? prim.verify(p.alg, h, data, sig) : this.#v.verifyCandidate(p, i)) {
        ok = i;
        break;
      }
    }
    return this.#result(call(() => this.#v.finish(p, ok, now, ctx)));
  }

  /**
   * The same decision as `validate`, with the signature checked by WebCrypto (CryptoKeys imported
   * once) where the runtime has it: workerd and browsers. Keys WebCrypto cannot import (ES256K,
   * HMAC) are checked in wasm.
   */
  async validateAsync(token, opts) {
    const now = opts?.now ?? nowSecs();
    if (!this.#native || !webCryptoPrimitive.available) return this.validate(token, opts);
    // Held across the awaits: a concurrent setKeys() must not mix key sets within one call.
    const v = this.#v;
    const results = this.#results;
    const handles = (this.#async ??= new Map());
    const descs = this.keys;
    const p = call(() => v.prepareWith(token, now, this.#context(opts)));
    if (typeof p === 'number') return results[p];
    const data = p.signingInput;
    const sig = p.signature;
    const alg = p.alg;
    let ok;
    try {
      for (const i of p.candidates) {
        const h = await asyncHandle(handles, descs[i], i, alg);
        if (h ? await webCryptoPrimitive.verify(alg, h, data, sig) : v.verifyCandidate(p, i)) {
          ok = i;
          break;
        }
      }
    } catch {
      ok = undefined; // a primitive that throws did not verify: fail closed
    }
    // The context is rebuilt here, synchronously with finish: other calls may have used the
    // scratch context while this one awaited.
    return this.#result(
      call(() => v.finish(p, ok, now, this.#context(opts))),
      results,
    );
  }

  /** Validates an API key against its stored record (object/JSON, or undefined if none). */
  validateApiKey(raw, record, opts) {
    const now = opts?.now ?? nowSecs();
    const rec = record === undefined || record === null ? undefined : json(record);
    return call(() => this.#v.validateApiKey(raw, rec, now, this.#context(opts)));
  }
}

/**
 * The unverified `iss` of a token, or undefined: only for choosing which issuer's validator to
 * apply (which then checks `iss` and the signature).
 */
export function peekIssuer(token) {
  return wasm.peekIssuer(token);
}

/** Unverified string claims by name (undefined when absent): only for choosing data to apply. */
export function peekClaims(token, names) {
  return wasm.peekClaims(token, names);
}

/** Decodes any string for display (JWT, JWS, API key or garbage); never throws. */
export function inspect(text, opts = {}) {
  return wasm.inspect(String(text), opts.now ?? nowSecs(), opts.refreshThreshold);
}

/**
 * Checks granted scopes (string or array) against a requirement expression, optionally narrowed
 * by grants. Returns true or throws `insufficient_scope` naming what is missing.
 */
export function checkScopes(granted, requirement, grants) {
  const r = call(() => new wasm.ScopeRequirement(requirement));
  try {
    call(() => r.check(scopeText(granted), grants === undefined ? undefined : scopeText(grants)));
    return true;
  } finally {
    r.free();
  }
}

/** Verifies a JWS with an arbitrary payload (no claim checks): `{ header, payload: Uint8Array }`. */
export function verifyJws(token, keys, options = {}) {
  return call(() => wasm.verifyJws(token, json(keys), options));
}

/** Signs claims with a private JWK into a compact JWT (`typ: JWT`, `kid` from the key). */
export function mint(privateJwk, claims, opts = {}) {
  return call(() => wasm.mint(json(privateJwk), json(claims), opts.header === undefined ? undefined : json(opts.header)));
}

/** A new private JWK for `alg`; `kid` defaults to its RFC 7638 thumbprint. */
export function generateKey(alg, opts = {}) {
  return JSON.parse(call(() => wasm.generateKey(alg, opts.kid, opts.rsaBits)));
}

/** The public JWK of a private JWK. */
export function publicJwk(privateJwk) {
  return JSON.parse(call(() => wasm.publicJwk(json(privateJwk))));
}

/** API keys: `tgk_` + 43 base62 + 6-character checksum; stores keep only the SHA-256. */
export const apiKey = {
  generate: () => call(() => wasm.apiKeyGenerate()),
  hash: (raw) => wasm.apiKeyHash(raw),
  /** Checks format and checksum; returns the hash to look the record up by. */
  parse: (raw) => call(() => wasm.apiKeyParse(raw)),
  /** `{ raw, record }`: show `raw` once, store `record` under `record.hash`. */
  create: ({ name, owner, scopes = [], ttl, maxTtl, description, now = nowSecs() }) =>
    call(() => wasm.apiKeyCreate(name, owner, scopeText(scopes), ttl, maxTtl, now, description)),
  /** Checks a key against its record (state, expiry, hash): the same shape as a validated JWT. */
  validate: (raw, record, opts = {}) =>
    call(() => wasm.apiKeyCheck(raw, record === undefined || record === null ? undefined : json(record), opts.now ?? nowSecs())),
  /** `{ raw, record }`: a new secret for the same key id; the old secret stops matching. */
  rotate: (record, opts = {}) => call(() => wasm.apiKeyRotate(json(record), opts.now ?? nowSecs())),
  /** The record revoked (or, with `purge`, purged). */
  revoke: (record, opts = {}) => call(() => wasm.apiKeyRevoke(json(record), opts.now ?? nowSecs(), !!opts.purge)),
  /** `active`, `expired`, `revoked` or `purged`. */
  state: (record, opts = {}) => call(() => wasm.apiKeyState(json(record), opts.now ?? nowSecs())),
};

/**
 * Revocation entries and snapshots: each revocation is stored on its own and folded into the one
 * list the worker reads.
 */
export const revocations = {
  /** Checks one entry (`{kind: "jti"|"subject"|"apikey", …}`); returns its canonical form. */
  entry: (e) => JSON.parse(call(() => wasm.revocationEntry(json(e)))),
  /** The list built from `[{ name, entry }]`, recording `source`. */
  snapshot: (entries, { prevVersion = 0, now = nowSecs(), source }) =>
    JSON.parse(call(() => wasm.revocationSnapshot(json(entries), prevVersion, now, source))),
};

/** Checks granted scopes (string or array; wildcards allowed); returns them de-duplicated. */
export const parseScopes = (scopes) => call(() => wasm.parseGrantedScopes(scopeText(scopes)));

/** Order-insensitive digest of strings: what a snapshot's `source` records. */
export const sourceDigest = (items) => wasm.sourceDigest(items);

/**
 * The KV data model's rules, from the core: what a lifecycle command stores and what a reader
 * (the worker) enforces. `policy` is an issuer's policy options as the worker passes them to its
 * validator (`{ leeway, maxLifetime }`; absent fields take the core's defaults).
 */
export const lifecycle = {
  /** `{ leeway, maxLifetime (null: no cap), keyGrace (null: never removable), mintTtlCap }`. */
  lifetimes: (policy) => call(() => wasm.issuerLifetimes(json(policy ?? {}))),
  /** A revocation entry's `until`: `{kind:'token', exp, now}`, `{kind:'jti', now}` or `{kind:'subject', before}`. */
  until: (policy, what) => call(() => wasm.revocationUntil(json(policy ?? {}), json(what))),
  /** `{ value, metadata }` (JSON texts) to store for one revocation entry. */
  storedEntry: (e) => call(() => wasm.revocationStoredForm(json(e))),
  /** `{ text, behind }`: the revocation list to enforce from the snapshot and the live `[{ name, entry }]`. */
  effectiveRevocations: (snapshot, entries, { source, now = nowSecs() }) =>
    call(() => wasm.revocationEffective(snapshot, json(entries), source, now)),
  /** Items of a revocation document that no entry (`[{ name, entry }]`) covers. */
  uncoveredRevocations: (doc, entries) => JSON.parse(call(() => wasm.revocationUncovered(json(doc), json(entries)))),
  /** The next version of any snapshot after `prev` (0 or undefined: none readable). */
  nextVersion: (prev, now = nowSecs()) => wasm.snapshotVersion(typeof prev === 'number' ? prev : 0, now),
  /** Throws unless an API-key record fits in KV metadata in every state it can reach. */
  checkApiKeyRecord: (record) => call(() => wasm.apiKeyRecordFits(json(record))),
};

/** Every error code: `[{ code, status, oauthError, description }]`. */
export function errorCodes() {
  return wasm.errorCodes().map(([code, status, oauthError, description]) => ({ code, status, oauthError, description }));
}

export const version = () => wasm.version();
