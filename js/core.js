// The typed JS API, the same in Node, browsers and workerd. Every decision is made by the wasm
// core; this layer converts options, keeps handles, and (on the native path) runs the
// signature primitive in the runtime's own crypto between the core's prepare and finish.
import { wasm } from './glue.js';
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
    if (e.allow !== undefined) this.allow = e.allow;
    if (e.retryAfter !== undefined) this.retryAfter = e.retryAfter;
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

// A lean call's answer when the core refused the token; the refusal waits in `takeError`
// (bindings/wasm/src/edge.rs REFUSED).
const REFUSED = -3;

/** A lean call's number, or its refusal thrown as a `TokengateError`. */
function lean(v, r) {
  if (r === REFUSED) throw wrap(v.takeError());
  return r;
}

const nowSecs = () => Math.floor(Date.now() / 1000);

// A remote key source given as `keys` (js/remote.js's `RemoteJwks`) answers to this symbol.
const KEY_SOURCE = Symbol.for('tokengate.keySource');

// The boundary. Every value handed to the core is type-checked here first: the wasm-bindgen glue
// assumes its declared types, and a non-string where the binding takes text makes it write out
// of bounds and trap, which poisons the whole instance. A wrong type becomes the error the core
// gives for a wrong value in the same place. Only types are checked here; defaults, ranges and
// meaning stay in the core.

/** A `TokengateError` raised at the boundary, encoded by the core like every other. */
function refusal(code, message, realm) {
  return new TokengateError(wasm.rejection(code, message, realm));
}

/** `Array.isArray` that answers false for a revoked Proxy instead of throwing. */
function isArray(v) {
  try {
    return Array.isArray(v);
  } catch {
    return false;
  }
}

const kind = (v) => (v === null ? 'null' : isArray(v) ? 'an array' : typeof v);

/** A string, as is. */
function text(v, code, what, realm) {
  if (typeof v === 'string') return v;
  throw refusal(code, `${what} must be a string, not ${kind(v)}`, realm);
}

const optionalText = (v, code, what, realm) => (v === undefined || v === null ? undefined : text(v, code, what, realm));

/** A finite number (NaN or Infinity would reach the core as a silent 0 or a saturated time). */
function number(v, what, realm) {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  throw refusal('options_invalid', `${what} must be a finite number, not ${typeof v === 'number' ? v : kind(v)}`, realm);
}

const optionalNumber = (v, what, realm) => (v === undefined || v === null ? undefined : number(v, what, realm));

/** Unix seconds; absent means the clock. */
const time = (v, what, realm) => (v === undefined || v === null ? nowSecs() : number(v, what, realm));

/** `time` with the clock's fraction when left out: a snapshot's version floor is in milliseconds. */
const clock = (v, what) => (v === undefined || v === null ? Date.now() / 1000 : number(v, what));

/** An integer the binding takes as u32 (so it is not silently wrapped). */
function u32(v, what, realm) {
  if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) return v;
  throw refusal('options_invalid', `${what} must be an integer from 0 to 4294967295`, realm);
}

function bool(v, fallback, what, realm) {
  if (v === undefined) return fallback;
  if (typeof v === 'boolean') return v;
  throw refusal('options_invalid', `${what} must be true or false, not ${kind(v)}`, realm);
}

/** An options bag: absent is empty; each member is then read once. */
function bag(v, what, realm) {
  if (v === undefined || v === null) return {};
  if (typeof v === 'object') return v;
  throw refusal('options_invalid', `${what} must be an object, not ${kind(v)}`, realm);
}

/** An array of strings, copied (each element read once). */
function strings(v, code, what, realm) {
  if (!isArray(v)) throw refusal(code, `${what} must be an array of strings, not ${kind(v)}`, realm);
  const out = [];
  for (let i = 0; i < v.length; i++) {
    const s = v[i];
    if (typeof s !== 'string') throw refusal(code, `${what}[${i}] must be a string, not ${kind(s)}`, realm);
    out.push(s);
  }
  return out;
}

/** Scopes: space-separated text, or an array of strings (joined); nothing else is coerced. */
const scopes = (v, what, realm) => (typeof v === 'string' ? v : strings(v, 'scope_invalid', what, realm).join(' '));

/** Deeper configuration is not configuration; it would only exhaust a stack. */
const MAX_NESTING = 64;

/**
 * A copy of JSON data made of plain objects, arrays, strings, finite numbers, booleans and null
 * (object members that are undefined are left out, as JSON does). Everything is read once, here,
 * so no getter, Proxy trap or `toJSON` runs while the core reads the value.
 */
function plain(v, code, what, realm, depth = 0) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (Number.isFinite(v)) return v;
      throw refusal(code, `${what}: ${v} is not a JSON number`, realm);
    case 'object':
      if (v === null) return v;
      break;
    default:
      throw refusal(code, `${what}: ${kind(v)} is not JSON`, realm);
  }
  if (depth >= MAX_NESTING) throw refusal(code, `${what}: nested more than ${MAX_NESTING} levels`, realm);
  if (isArray(v)) {
    const out = [];
    for (let i = 0; i < v.length; i++) {
      if (!Object.hasOwn(v, i)) throw refusal(code, `${what}[${i}]: a hole or undefined is not JSON`, realm);
      const item = v[i];
      if (item === undefined) throw refusal(code, `${what}[${i}]: a hole or undefined is not JSON`, realm);
      out.push(plain(item, code, `${what}[${i}]`, realm, depth + 1));
    }
    return out;
  }
  let proto;
  try {
    proto = Object.getPrototypeOf(v);
  } catch {
    proto = undefined; // a revoked Proxy
  }
  if (proto === undefined || (proto !== null && Object.getPrototypeOf(proto) !== null)) {
    throw refusal(code, `${what}: only plain objects and arrays are JSON`, realm);
  }
  const members = [];
  for (const k of Object.keys(v)) {
    const m = v[k];
    if (m !== undefined) members.push([k, plain(m, code, `${what}.${k}`, realm, depth + 1)]);
  }
  // fromEntries defines members: a "__proto__" key stays an ordinary (unknown) member.
  return Object.fromEntries(members);
}

/** JSON input: the text as given, or JSON data (checked by `plain`) serialised. */
const jsonText = (v, code, what, realm) => (typeof v === 'string' ? v : JSON.stringify(plain(v, code, what, realm)));

/** A stored API-key record (JSON): what is not one is an invalid record, as the core says. */
const recordText = (r, realm) => jsonText(r, 'record_invalid', 'API key record', realm);

function deepFreeze(o) {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

// The lean path's crossings (bindings/wasm `begin`/`complete`/`run`): the token goes in as UTF-8
// bytes encoded once into a reused buffer; answers come back as numbers in the validator's `out`
// (a Float64Array view on the module's memory) and byte ranges of that memory, which are only
// read here, never interpreted: the header and claims are the JSON texts the core accepted.
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let tokenBytes = new Uint8Array(4096);

/** The token's UTF-8 bytes (a view of a reused buffer, valid until the next call). */
function utf8(token) {
  if (token.length * 3 > tokenBytes.length) tokenBytes = new Uint8Array(token.length * 3);
  return tokenBytes.subarray(0, encoder.encodeInto(token, tokenBytes).written);
}

// Views on the loaded module's memory, renewed when it grows (growth detaches the old buffer).
let memOf = null;
let memory = null;
let memBuffer = null;
let u8 = null;
let words = null;
let f64 = null;
let algNames = null;

function mem() {
  if (memOf !== wasm) {
    memOf = wasm;
    memory = wasm.moduleMemory();
    algNames = wasm.algNames();
  }
  if (memory.buffer !== memBuffer) {
    memBuffer = memory.buffer;
    u8 = new Uint8Array(memBuffer);
    words = new Uint32Array(memBuffer);
    f64 = new Float64Array(memBuffer);
  }
  return f64;
}

// Slots of `out` (bindings/wasm/src/edge.rs OUT_*).
const ALG = 0,
  SIGNING_INPUT_LEN = 1,
  SIG = 2,
  SIG_LEN = 3,
  CANDIDATES = 4,
  CANDIDATES_LEN = 5,
  HEADER = 6,
  HEADER_LEN = 7,
  CLAIMS_LEN = 9, // the claims follow the header, the scopes follow the claims (slots 8, 10)
  SCOPES_LEN = 11,
  SLOT = 12,
  EXP = 13,
  IAT = 14,
  ASCII = 15;

/** A member the core accepted as a string (or, for the type claim, found to be one), else null. */
const member = (o, k) => (Object.hasOwn(o, k) && typeof o[k] === 'string' ? o[k] : null);

/**
 * The result the core wrote to `out` (at Float64Array index `b`), as the object `validate`
 * returns; stored by its cache slot (frozen) when the core cached it.
 */
function built(b, typeClaim, results) {
  const o = mem();
  const h = o[b + HEADER];
  const hl = o[b + HEADER_LEN];
  const cl = o[b + CLAIMS_LEN];
  const n = o[b + SCOPES_LEN];
  let headerText, claimsText, scopesText;
  if (o[b + ASCII] === 1) {
    // Header, claims and scopes are contiguous: one decode, then slices by (byte = char) offset.
    const all = decoder.decode(u8.subarray(h, h + hl + cl + n));
    headerText = all.slice(0, hl);
    claimsText = all.slice(hl, hl + cl);
    scopesText = all.slice(hl + cl);
  } else {
    headerText = decoder.decode(u8.subarray(h, h + hl));
    claimsText = decoder.decode(u8.subarray(h + hl, h + hl + cl));
    scopesText = decoder.decode(u8.subarray(h + hl + cl, h + hl + cl + n));
  }
  const header = JSON.parse(headerText);
  const claims = JSON.parse(claimsText);
  const exp = o[b + EXP];
  const iat = o[b + IAT];
  const r = {
    kind: 'jwt',
    header,
    claims,
    subject: member(claims, 'sub'),
    issuer: member(claims, 'iss'),
    scopes: n === 0 ? [] : scopesText.split(' '),
    tokenId: member(claims, 'jti'),
    expiresAt: Number.isNaN(exp) ? null : exp,
    issuedAt: Number.isNaN(iat) ? null : iat,
    tokenType: member(claims, typeClaim),
    alg: algNames[o[b + ALG]] ?? null,
    kid: member(header, 'kid'),
  };
  const slot = o[b + SLOT];
  if (slot >= 0) results[slot] = deepFreeze(r);
  return r;
}

/** The result the core's cache hit named by its slot (built on the miss). */
function hit(results, slot) {
  const r = results[slot];
  if (r === undefined) throw new Error('tokengate: the cache named a result this validator never built');
  return r;
}

/**
 * A CryptoKey per (key, alg), imported once; null when the core must verify instead. A promise
 * until the import settles, then the key itself, so a warm call awaits only the signature.
 */
function asyncHandle(handles, desc, index, alg) {
  const id = `${index}/${alg}`;
  const entry = handles.get(id);
  if (entry !== undefined) return entry.settled ? entry.key : entry.promise;
  const promise = desc.jwk.kty === 'oct' ? Promise.resolve(null) : webCryptoPrimitive.importKey(desc.jwk, alg).catch(() => null);
  const made = { settled: false, key: null, promise };
  handles.set(id, made);
  promise.then((key) => {
    made.key = key;
    made.settled = true;
  });
  return promise;
}

/** The wasm handle of a `RevocationList` (private: a forged or freed handle never reaches the core). */
let handleOf;

/** A parsed revocation list (a wasm-side handle, reused across calls). */
export class RevocationList {
  #h;
  static {
    handleOf = (l) => (l !== null && typeof l === 'object' && #h in l ? l.#h : undefined);
  }
  /** @param {string|object|RevocationList} list schema-1 JSON */
  constructor(list) {
    const h = handleOf(list);
    const json = h ? h.toJSON() : jsonText(list, 'revocation_invalid', 'revocation list');
    this.#h = call(() => new wasm.RevocationList(json));
  }
  get version() {
    return this.#h.version;
  }
  get generatedAt() {
    return this.#h.generatedAt;
  }
  get size() {
    return this.#h.size;
  }
  get source() {
    return this.#h.source;
  }
  /** Canonical JSON without entries past their `until`. */
  pruned(now) {
    return this.#h.pruned(time(now, 'now'));
  }
  toJSON() {
    return JSON.parse(this.#h.toJSON());
  }
  toString() {
    return this.#h.toJSON();
  }
}

/** The handle of a list given as a `RevocationList` or as its JSON. */
const listHandle = (l) => handleOf(l) ?? handleOf(new RevocationList(l));

/** `cache`: absent or false (none), true (the core's defaults) or `{ size, failureTtl }`. */
function cacheOptions(cache, realm) {
  if (cache === undefined || cache === null || cache === false) return null;
  if (cache === true) return {};
  const { size, failureTtl } = bag(cache, 'options.cache', realm);
  return {
    size: size === undefined || size === null ? undefined : u32(size, 'options.cache.size', realm),
    failureTtl: optionalNumber(failureTtl, 'options.cache.failureTtl', realm),
  };
}

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
  #out = 0; // index of the wasm validator's `out` in a Float64Array on the module's memory
  #typeClaim;
  #scopes = new Map();
  #scoped = new Map(); // scope expression → a context: the validator's with that requirement
  #native;
  #keys;
  #sync = null;
  #syncNone = false;
  #async = null;
  #hostChecked = null;
  #allOct = null;
  #config;
  #source = null; // a remote key source (`remoteJwks`): its keys are adopted before each call
  #sourceVersion = 0;

  constructor(options = {}) {
    const { keys, revocations, grants, realm, cache, native = true, ...policy } = bag(options, 'options');
    const r = optionalText(realm, 'options_invalid', 'options.realm');
    this.#config = { policy: plain(policy, 'options_invalid', 'options', r), realm: r, cache: cacheOptions(cache, r) };
    this.#native = bool(native, true, 'options.native', r);
    this.#ctx = new wasm.Context();
    this.#scratch = new wasm.Context();
    this.setKeys(keys);
    if (revocations !== undefined) this.setRevocations(revocations);
    if (grants !== undefined) this.setGrants(grants);
  }

  /**
   * Replaces the key set (a JWKS refresh or rotation), keeping the policy. Native key handles
   * and the verified-token cache start over: nothing verified by a removed key is served again.
   * A remote key source (`remoteJwks`) is followed: its keys are taken whenever they change.
   */
  setKeys(keys) {
    const source = keys !== null && typeof keys === 'object' ? keys[KEY_SOURCE] : undefined;
    this.#source = source ?? null;
    this.#sourceVersion = 0;
    if (source === undefined) this.#install(keys);
  }

  /** The source's keys when they changed since the last call; `data_unavailable` while it has none usable. */
  #adopt() {
    const held = this.#source.held();
    if (held === null) throw refusal('data_unavailable', this.#source.why(), this.#config.realm);
    if (held.version !== this.#sourceVersion) {
      this.#install(held.jwks);
      this.#sourceVersion = held.version;
    }
  }

  #install(keys) {
    if (keys === undefined) throw new TypeError('tokengate: options.keys (a JWKS or JWK, or null for API keys only) is required');
    const { policy, realm, cache } = this.#config;
    const v =
      keys === null
        ? call(() => wasm.Validator.forApiKeys(policy, realm))
        : call(() => new wasm.Validator(jsonText(keys, 'key_invalid', 'keys', realm), policy, realm));
    if (cache) v.enableCache(cache.size, cache.failureTtl);
    // No explicit free: an async call may still hold the old one; the glue's finalizer frees it.
    this.#v = v;
    this.#out = v.outPtr / 8;
    this.#typeClaim ??= v.tokenTypeClaim;
    this.#keys = undefined;
    this.#sync = null;
    this.#async = null;
    this.#hostChecked = null;
    this.#allOct = null;
    this.#results = [];
  }

  /** Key descriptions: `[{ index, kid, algs, jwk, thumbprint }]` (HMAC secrets stay in wasm). */
  get keys() {
    return (this.#keys ??= this.#v?.keys() ?? []);
  }

  /** Keys in the set that could not be used, as `[kid, reason]`. */
  get skipped() {
    return this.#v?.skipped() ?? [];
  }

  /** Replaces the revocation list every later call is checked against. */
  setRevocations(list) {
    this.#ctx.setRevocations(listHandle(list));
    this.#scoped.clear();
  }

  /** Space-separated scopes (or an array) that narrow every token's scopes. */
  setGrants(grants) {
    const g = scopes(grants, 'grants', this.#config.realm);
    call(() => this.#ctx.setGrants(g));
    this.#scoped.clear();
  }

  /** `{ entries, hits, misses }` of the verified-token cache. */
  cacheStats() {
    const [entries, hits, misses] = this.#v?.cacheStats() ?? [0, 0, 0];
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

  /** Per-call options, each member read once and type-checked: `{ now, scope, grants, revocations }`. */
  #options(opts) {
    const realm = this.#config.realm;
    const { now, scope, grants, revocations } = bag(opts, 'call options', realm);
    return {
      now: time(now, 'now', realm),
      scope: scope === undefined || scope === null ? scope : scopes(scope, 'scope', realm),
      grants: grants === undefined ? undefined : scopes(grants, 'grants', realm),
      revocations: revocations === undefined ? undefined : listHandle(revocations),
    };
  }

  /** The context for one call (checked options): the validator's, or a scratch copy with per-call changes. */
  #context(opts) {
    if (opts.grants === undefined && opts.revocations === undefined) {
      if (opts.scope === undefined) return this.#ctx;
      // Only a route's scope: one context per expression, kept until the validator's data changes.
      let c = this.#scoped.get(opts.scope);
      if (c === undefined) {
        const req = opts.scope === null ? null : this.#requirement(opts.scope);
        c = new wasm.Context();
        c.copyFrom(this.#ctx);
        if (req === null) c.clearScope();
        else c.setScope(req);
        if (this.#scoped.size >= 256) this.#scoped.clear();
        this.#scoped.set(opts.scope, c);
      }
      return c;
    }
    const c = this.#scratch;
    c.copyFrom(this.#ctx);
    if (opts.scope !== undefined) {
      if (opts.scope === null) c.clearScope();
      else c.setScope(this.#requirement(opts.scope));
    }
    // Per-call grants narrow the validator's (issuer-wide) grants; they never replace them.
    if (opts.grants !== undefined) call(() => c.narrowGrants(opts.grants));
    if (opts.revocations !== undefined) c.setRevocations(opts.revocations);
    return c;
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
    const run = () => this.#validate(text(token, 'token_malformed', 'token', this.#config.realm), this.#options(opts));
    if (this.#source === null) return run();
    // A remote source: the keys held now (a due refresh starts behind this call).
    this.#source.touch();
    this.#adopt();
    try {
      return run();
    } catch (e) {
      if (e?.code === 'key_not_found') this.#source.force().catch(() => {});
      throw e;
    }
  }

  #validate(token, opts) {
    const now = opts.now;
    const ctx = this.#context(opts);
    const prim = syncPrimitive();
    const v = this.#v;
    const bytes = utf8(token);
    // One call into wasm when no key can use the native primitive (HMAC secrets stay in wasm).
    if (!this.#native || prim === null || (this.#syncHandles(), this.#syncNone)) {
      const r = lean(v, v.run(bytes, now, ctx));
      return r >= 0 ? hit(this.#results, r) : built(this.#out, this.#typeClaim, this.#results);
    }
    const r = lean(v, v.begin(bytes, now, ctx));
    if (r >= 0) return hit(this.#results, r);
    const ok = this.#signature(v, prim, bytes);
    lean(v, v.complete(ok, now, ctx));
    return built(this.#out, this.#typeClaim, this.#results);
  }

  /** The candidate whose signature verifies for the pending token (`begin`'s `out`), or undefined. */
  #signature(v, prim, bytes) {
    const o = mem();
    const b = this.#out;
    const alg = algNames[o[b + ALG]];
    const data = bytes.subarray(0, o[b + SIGNING_INPUT_LEN]);
    const sig = u8.subarray(o[b + SIG], o[b + SIG] + o[b + SIG_LEN]);
    const handles = this.#sync;
    const c = o[b + CANDIDATES] / 4;
    const n = o[b + CANDIDATES_LEN];
    for (let j = 0; j < n; j++) {
      const i = words[c + j];
      const h = handles[i];
      if (h ? prim.verify(alg, h, data, sig) : v.verifyPending(i)) return i;
    }
    return undefined;
  }

  /**
   * Edge module: a key only WebCrypto verifies (`host`) has had every check but the EC point's,
   * which is the import's; so each is imported once before the first call, and the core skips
   * those refused, as the full module does while parsing the set.
   */
  #checkHostKeys(v, handles, descs) {
    if (this.#hostChecked === null) {
      const check = (async () => {
        for (const d of descs) {
          if (d.host && (await asyncHandle(handles, d, d.index, d.algs[0])) === null) {
            v.refuseKey(d.index, "the runtime's WebCrypto refused to import it");
          }
        }
      })();
      this.#hostChecked = check;
      // Done for this key set (a setKeys() meanwhile started another check).
      check.then(() => this.#hostChecked === check && (this.#hostChecked = true));
    }
    return this.#hostChecked;
  }

  /**
   * The same decision as `validate`, with the signature checked by WebCrypto (CryptoKeys imported
   * once) where the runtime has it: workerd and browsers. Keys WebCrypto cannot import (ES256K,
   * HMAC) are checked in wasm.
   */
  validateAsync(token, options) {
    // Not an async function itself: returning #validateAsync's promise from one would cost
    // extra microtask turns on every call. Whatever fails here still rejects, as it would there.
    try {
      return this.#source === null ? this.#validateAsync(token, options) : this.#remoteAsync(token, options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async #remoteAsync(token, options) {
    // A remote source: waits for a fetch only when no keys are usable; an unknown kid forces
    // one refetch per cooldown, then this call is tried again with the new keys.
    await this.#source.ready();
    this.#adopt();
    try {
      return await this.#validateAsync(token, options);
    } catch (e) {
      if (e?.code !== 'key_not_found' || !(await this.#source.force())) throw e;
      this.#adopt();
      return this.#validateAsync(token, options);
    }
  }

  async #validateAsync(token, options) {
    token = text(token, 'token_malformed', 'token', this.#config.realm);
    const opts = this.#options(options);
    const now = opts.now;
    // Nothing to await when every key is verified in wasm (HMAC secrets never leave it).
    if (!this.#native || !webCryptoPrimitive.available || (this.#allOct ??= this.keys.every((k) => k.jwk.kty === 'oct'))) {
      return this.#validate(token, opts);
    }
    // Held across the awaits: a concurrent setKeys() must not mix key sets within one call.
    const v = this.#v;
    const results = this.#results;
    const out = this.#out;
    const handles = (this.#async ??= new Map());
    const descs = this.keys;
    if (this.#hostChecked !== true) await this.#checkHostKeys(v, handles, descs);
    const bytes = utf8(token);
    const r = lean(v, v.begin(bytes, now, this.#context(opts)));
    if (r >= 0) return hit(results, r);
    // Copies: other calls reuse the token buffer and `out` while this one awaits.
    const o = mem();
    const alg = algNames[o[out + ALG]];
    const data = bytes.slice(0, o[out + SIGNING_INPUT_LEN]);
    const sig = u8.slice(o[out + SIG], o[out + SIG] + o[out + SIG_LEN]);
    const c = o[out + CANDIDATES] / 4;
    const candidates = Array.from(words.subarray(c, c + o[out + CANDIDATES_LEN]));
    const p = v.takePending();
    let ok;
    try {
      for (const i of candidates) {
        let h = asyncHandle(handles, descs[i], i, alg);
        if (h instanceof Promise) h = await h;
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
    lean(v, v.finishOut(p, ok, now, this.#context(opts)));
    return built(out, this.#typeClaim, results);
  }

  /** Validates an API key against its stored record (object/JSON, or undefined if none). */
  validateApiKey(raw, record, options) {
    const realm = this.#config.realm;
    const key = text(raw, 'apikey_malformed', 'API key', realm);
    const rec = record === undefined || record === null ? undefined : recordText(record, realm);
    const opts = this.#options(options);
    if (this.#source !== null) this.#adopt();
    return call(() => this.#v.validateApiKey(key, rec, opts.now, this.#context(opts)));
  }
}

/**
 * A worker's route table (`protect`, `routes`, `allowUnicodePaths` of its configuration), parsed
 * once. `decide(method, path)` gives `{ action, path, rule, scope, tokenTypes }` for the
 * canonical `path` (the one to forward) or throws a `TokengateError` (`path_invalid`,
 * `method_not_allowed` with `allow`, `route_not_found`).
 */
export class Router {
  #h;
  #realm;
  constructor(config, opts) {
    this.#realm = optionalText(bag(opts, 'options').realm, 'options_invalid', 'realm');
    this.#h = call(() => new wasm.Router(jsonText(config, 'options_invalid', 'configuration', this.#realm), this.#realm));
  }
  decide(method, path) {
    const r = this.#realm;
    return call(() => this.#h.decide(text(method, 'method_not_allowed', 'method', r), text(path, 'path_invalid', 'path', r)));
  }
}

/**
 * The unverified `iss` of a token, or undefined: only for choosing which issuer's validator to
 * apply (which then checks `iss` and the signature).
 */
export function peekIssuer(token) {
  return wasm.peekIssuer(text(token, 'token_malformed', 'token'));
}

/**
 * The index among `issuers` (configured issuer names, in order) of the issuer whose validator
 * checks `token`: the one its unverified `iss` names, the first when it has none; throws
 * `issuer_not_allowed` (401, in `opts.realm`) for an `iss` that is none of them.
 */
export function chooseIssuer(token, issuers, opts) {
  const realm = optionalText(bag(opts, 'options').realm, 'options_invalid', 'realm') ?? '';
  return call(() =>
    wasm.chooseIssuer(text(token, 'token_malformed', 'token', realm), strings(issuers, 'options_invalid', 'issuers'), realm),
  );
}

/** Unverified string claims by name (undefined when absent): only for choosing data to apply. */
export function peekClaims(token, names) {
  return wasm.peekClaims(text(token, 'token_malformed', 'token'), strings(names, 'options_invalid', 'claim names'));
}

/** Decodes any string for display (JWT, JWS, API key or garbage); throws only for a non-string or bad options. */
export function inspect(input, opts) {
  const { now, refreshThreshold } = bag(opts, 'options');
  const t = text(input, 'token_malformed', 'input');
  return wasm.inspect(t, time(now, 'now'), optionalNumber(refreshThreshold, 'refreshThreshold'));
}

/** Every lint `inspect` can report, with its severity, advice and reference. */
export const lintCatalog = () => wasm.lintCatalog();

/**
 * Checks granted scopes (string or array) against a requirement expression, optionally narrowed
 * by grants. Returns true or throws `insufficient_scope` naming what is missing.
 */
export function checkScopes(granted, requirement, grants) {
  const g = scopes(granted, 'granted scopes');
  const n = grants === undefined ? undefined : scopes(grants, 'grants');
  const expr = text(requirement, 'scope_invalid', 'scope requirement');
  const r = call(() => new wasm.ScopeRequirement(expr));
  try {
    call(() => r.check(g, n));
    return true;
  } finally {
    r.free();
  }
}

/** Verifies a JWS with an arbitrary payload (no claim checks): `{ header, payload: Uint8Array }`. */
export function verifyJws(token, keys, options) {
  const t = text(token, 'token_malformed', 'token');
  const k = jsonText(keys, 'key_invalid', 'keys');
  const policy = options === undefined || options === null ? undefined : plain(options, 'options_invalid', 'options');
  return call(() => wasm.verifyJws(t, k, policy));
}

/** Signs claims with a private JWK into a compact JWT (`typ: JWT`, `kid` from the key). */
export function mint(privateJwk, claims, opts) {
  const { header } = bag(opts, 'options');
  const key = jsonText(privateJwk, 'key_invalid', 'private key');
  const body = jsonText(claims, 'options_invalid', 'claims');
  const extra = header === undefined ? undefined : jsonText(header, 'options_invalid', 'header');
  return call(() => wasm.mint(key, body, extra));
}

/** A new private JWK for `alg` (the core's default, ES256, when left out); `kid` defaults to its RFC 7638 thumbprint. */
export function generateKey(alg, opts) {
  const { kid, rsaBits } = bag(opts, 'options');
  const a = optionalText(alg, 'alg_not_allowed', 'alg');
  const k = optionalText(kid, 'options_invalid', 'kid');
  const bits = rsaBits === undefined || rsaBits === null ? undefined : u32(rsaBits, 'rsaBits');
  return JSON.parse(call(() => wasm.generateKey(a, k, bits)));
}

/** The public JWK of a private JWK. */
export function publicJwk(privateJwk) {
  return JSON.parse(call(() => wasm.publicJwk(jsonText(privateJwk, 'key_invalid', 'private key'))));
}

/** API keys: `tgk_` + 43 base62 + 6-character checksum; stores keep only the SHA-256. */
export const apiKey = {
  generate: () => call(() => wasm.apiKeyGenerate()),
  /** Whether a credential is meant as an API key (its prefix): it then takes the API-key path. */
  looksLike: (raw) => typeof raw === 'string' && wasm.apiKeyLooksLike(raw),
  hash: (raw) => wasm.apiKeyHash(text(raw, 'apikey_malformed', 'API key')),
  /** Checks format and checksum; returns the hash to look the record up by. */
  parse: (raw) => call(() => wasm.apiKeyParse(text(raw, 'apikey_malformed', 'API key'))),
  /** `{ raw, record }`: show `raw` once, store `record` under `record.hash`. */
  create: (spec) => {
    const { name, owner, scopes: granted = [], ttl, maxTtl, description, now } = bag(spec, 'API key spec');
    const args = [
      text(name, 'options_invalid', 'name'),
      text(owner, 'options_invalid', 'owner'),
      scopes(granted, 'scopes'),
      optionalNumber(ttl, 'ttl'),
      optionalNumber(maxTtl, 'maxTtl'),
      time(now, 'now'),
      optionalText(description, 'options_invalid', 'description'),
    ];
    return call(() => wasm.apiKeyCreate(...args));
  },
  /** Checks a key against its record (state, expiry, hash): the same shape as a validated JWT. */
  validate: (raw, record, opts) => {
    const key = text(raw, 'apikey_malformed', 'API key');
    const rec = record === undefined || record === null ? undefined : recordText(record);
    const now = time(bag(opts, 'options').now, 'now');
    return call(() => wasm.apiKeyCheck(key, rec, now));
  },
  /** `{ raw, record }`: a new secret for the same key id; the old secret stops matching. */
  rotate: (record, opts) => {
    const rec = recordText(record);
    const now = time(bag(opts, 'options').now, 'now');
    return call(() => wasm.apiKeyRotate(rec, now));
  },
  /** The record revoked (or, with `purge`, purged). */
  revoke: (record, opts) => {
    const { now, purge } = bag(opts, 'options');
    const args = [recordText(record), time(now, 'now'), bool(purge, false, 'purge')];
    return call(() => wasm.apiKeyRevoke(...args));
  },
  /** `active`, `expired`, `revoked` or `purged`. */
  state: (record, opts) => {
    const rec = recordText(record);
    const now = time(bag(opts, 'options').now, 'now');
    return call(() => wasm.apiKeyState(rec, now));
  },
};

/**
 * Revocation entries and snapshots: each revocation is stored on its own and folded into the one
 * list the worker reads.
 */
export const revocations = {
  /** Checks one entry (`{kind: "jti"|"subject"|"apikey", …}`); returns its canonical form. */
  entry: (e) => JSON.parse(call(() => wasm.revocationEntry(jsonText(e, 'revocation_invalid', 'revocation entry')))),
  /** The list built from `[{ name, entry }]`, recording `source`. */
  snapshot: (entries, opts) => {
    const { prevVersion, now, source } = bag(opts, 'options');
    const args = [
      jsonText(entries, 'revocation_invalid', 'entries'),
      prevVersion === undefined || prevVersion === null ? 0 : number(prevVersion, 'prevVersion'),
      clock(now, 'now'),
      text(source, 'options_invalid', 'source'),
    ];
    return JSON.parse(call(() => wasm.revocationSnapshot(...args)));
  },
};

/** Checks granted scopes (string or array; wildcards allowed); returns them de-duplicated. */
export const parseScopes = (granted) => call(() => wasm.parseGrantedScopes(scopes(granted, 'scopes')));

/** Order-insensitive digest of strings: what a snapshot's `source` records. */
export const sourceDigest = (items) => wasm.sourceDigest(strings(items, 'options_invalid', 'items'));

/**
 * The KV data model's rules, from the core: what a lifecycle command stores and what a reader
 * (the worker) enforces. `policy` is an issuer's policy options as the worker passes them to its
 * validator (`{ leeway, maxLifetime }`; absent fields take the core's defaults).
 */
export const lifecycle = {
  /** `{ leeway, maxLifetime (null: no cap), keyGrace (null: never removable), mintTtlCap }`. */
  lifetimes: (policy) => call(() => wasm.issuerLifetimes(jsonText(policy ?? {}, 'options_invalid', 'policy'))),
  /** The `exp` of a token minted at `now` for `ttl` seconds; options_invalid unless whole, positive and within the NumericDate range. */
  tokenExpiry: (now, ttl) => call(() => wasm.tokenExpiry(time(now, 'now'), ttl)),
  /** A revocation entry's `until`: `{kind:'token', exp, now}`, `{kind:'jti', now}` or `{kind:'subject', before}`. */
  until: (policy, what) => {
    const p = jsonText(policy ?? {}, 'options_invalid', 'policy');
    const w = jsonText(what, 'revocation_invalid', 'revoked');
    return call(() => wasm.revocationUntil(p, w));
  },
  /** `{ doc, behind }`: the key set `name` to serve, from its stored snapshot (text or null) and the listed `key:` entries `[{ name, entry }]`. */
  keySet: (name, stored, listed, opts) => {
    const { source, now } = bag(opts, 'options');
    const args = [
      text(name, 'options_invalid', 'name'),
      stored === null || stored === undefined ? undefined : text(stored, 'key_invalid', 'key set'),
      jsonText(listed, 'key_invalid', 'entries'),
      text(source, 'options_invalid', 'source'),
      time(now, 'now'),
    ];
    return call(() => wasm.keySetEffective(...args));
  },
  /** The key-set snapshot of the listed `key:` entries (`{ prevVersion, now, source }`). */
  buildKeySet: (listed, opts) => {
    const { prevVersion, now, source } = bag(opts, 'options');
    const prev = typeof prevVersion === 'number' ? prevVersion : 0;
    const args = [jsonText(listed, 'key_invalid', 'entries'), prev, clock(now, 'now'), text(source, 'options_invalid', 'source')];
    return call(() => wasm.keySetBuild(...args));
  },
  /** The keys of a hand-written key set (stored text) that no listed entry has yet. */
  adoptableKeys: (name, stored, listed) =>
    call(() =>
      wasm.keySetAdoptable(
        text(name, 'options_invalid', 'name'),
        text(stored, 'key_invalid', 'key set'),
        jsonText(listed, 'key_invalid', 'entries'),
      ),
    ),
  /** The tenant grants `[{ tenant, module, scope }]` of a hand-written grants document (stored text) that no listed `grant:` entry holds yet; throws `scope_invalid` for a document the core refuses. */
  adoptableGrants: (stored, listed) =>
    call(() => wasm.grantsAdoptable(text(stored, 'scope_invalid', 'grants document'), jsonText(listed, 'scope_invalid', 'entries'))),
  /** The grants document from the listed `grant:` entries; `prev` (document or null) keeps its issuer-wide grants. */
  buildGrants: (listed, prev, opts) => {
    const { now, source } = bag(opts, 'options');
    const p = prev === null || prev === undefined ? undefined : jsonText(prev, 'scope_invalid', 'grants document');
    const args = [jsonText(listed, 'scope_invalid', 'entries'), p, clock(now, 'now'), text(source, 'options_invalid', 'source')];
    return call(() => wasm.grantsBuild(...args));
  },
  /** Names of the revocation entries `[{ name, entry }]` past their `until` (an unreadable entry is never reported). */
  expiredRevocations: (entries, opts) =>
    call(() => wasm.revocationExpired(jsonText(entries, 'revocation_invalid', 'entries'), time(bag(opts, 'options').now, 'now'))),
  /** The list metadata for an audit record: the record when it fits in KV metadata, else a summary. */
  auditMetadata: (record) => JSON.parse(call(() => wasm.auditMetadata(jsonText(record, 'options_invalid', 'audit record')))),
  /** `{ value, metadata }` (JSON texts) to store for one revocation entry. */
  storedEntry: (e) => call(() => wasm.revocationStoredForm(jsonText(e, 'revocation_invalid', 'revocation entry'))),
  /** `{ text, behind }`: the revocation list to enforce from the snapshot and the live `[{ name, entry }]`. */
  effectiveRevocations: (snapshot, entries, opts) => {
    const { source, now } = bag(opts, 'options');
    const args = [
      text(snapshot, 'revocation_invalid', 'snapshot'),
      jsonText(entries, 'revocation_invalid', 'entries'),
      text(source, 'options_invalid', 'source'),
      time(now, 'now'),
    ];
    return call(() => wasm.revocationEffective(...args));
  },
  /** Items of a revocation document that no entry (`[{ name, entry }]`) covers. */
  uncoveredRevocations: (doc, entries) => {
    const d = jsonText(doc, 'revocation_invalid', 'revocation document');
    const e = jsonText(entries, 'revocation_invalid', 'entries');
    return JSON.parse(call(() => wasm.revocationUncovered(d, e)));
  },
  /** The next version of any snapshot after `prev` (0 or undefined: none readable). */
  nextVersion: (prev, now) => wasm.snapshotVersion(typeof prev === 'number' ? prev : 0, clock(now, 'now')),
  /**
   * The API-key record KV holds under `name` (`apikey:<hash>`), from its value and metadata
   * (objects or JSON texts; null/undefined: none), checked as one record by the core: valid,
   * its hash the one in its name, metadata (when present) the same record. Its JSON text, or
   * null without a value; throws `record_invalid` otherwise.
   */
  apiKeyRecord: (name, value, metadata, opts) => {
    const v = value === null || value === undefined ? undefined : jsonText(value, 'record_invalid', 'API key record');
    const m = metadata === null || metadata === undefined ? undefined : jsonText(metadata, 'record_invalid', 'API key metadata');
    const realm = optionalText(bag(opts, 'options').realm, 'options_invalid', 'realm') ?? '';
    return call(() => wasm.apiKeyStoredRecord(text(name, 'record_invalid', 'KV key name'), v, m, realm)) ?? null;
  },
  /** Throws unless an API-key record fits in KV metadata in every state it can reach. */
  checkApiKeyRecord: (record) => call(() => wasm.apiKeyRecordFits(recordText(record))),
};

/** Every error code: `[{ code, status, oauthError, description }]`. */
export function errorCodes() {
  return wasm.errorCodes().map(([code, status, oauthError, description]) => ({ code, status, oauthError, description }));
}

export const version = () => wasm.version();

/** A coded rejection (`TokengateError`) for a request-level problem, encoded by the core. */
export function rejection(code, message, opts) {
  const args = [
    text(code, 'options_invalid', 'code'),
    text(message, 'options_invalid', 'message'),
    optionalText(bag(opts, 'options').realm, 'options_invalid', 'realm'),
  ];
  return new TokengateError(call(() => wasm.rejection(...args)));
}

/**
 * What a gate sends for `e`, a `TokengateError` raised while deciding a request: `e` itself for
 * the client's problems (4xx) and stale revocation data; for anything else on the server's side
 * (keys, options, records the core refuses) a 503 `data_unavailable` that tells the client
 * nothing of it (log `e`). Never a 500.
 */
export function answered(e, opts) {
  const realm = optionalText(bag(opts, 'options').realm, 'options_invalid', 'realm');
  const sent = call(() => wasm.answered(text(e?.code, 'options_invalid', 'code'), String(e?.message ?? ''), realm));
  return sent === undefined ? e : new TokengateError(sent);
}

/** The `WWW-Authenticate` value for a request with no credential (RFC 6750 §3.1). */
/** The longest token the core reads, in bytes: a longer one is `token_too_large`, not decoded. */
export const maxTokenBytes = () => wasm.maxTokenBytes();

/** `seconds` from now (negative: past) in the core's wording: "in 4 min 10 s", "4 min 10 s ago", "now". */
export const relativeTime = (seconds) => wasm.relativeTime(number(seconds, 'seconds'));
export const expiryText = (seconds) => wasm.expiryText(number(seconds, 'seconds'));

export const bareChallenge = (realm) => wasm.bareChallenge(optionalText(realm, 'options_invalid', 'realm'));

/**
 * The edge worker's configuration (object or JSON text), checked by the core and completed with
 * every default; throws `TokengateError` `options_invalid` naming every problem.
 */
/** `{ ttl, maxStale }` (seconds) for a worker's cache of its own configuration document. */
export function configReloadBounds() {
  const [ttl, maxStale] = wasm.configReloadBounds();
  return { ttl, maxStale };
}

/**
 * What to do with a copy of a KV document read at `readAt` (ms; null: nothing held) at `now`:
 * `'use'` it, `'refresh'` (serve it and reload in the background) or `'read'` now.
 */
export const reloadAction = (readAt, now, { ttl, maxStale }) =>
  wasm.reloadAction(readAt == null ? NaN : +readAt, +now, ttl >>> 0, maxStale >>> 0);

/** tokengate's published endpoints: the discovery document (algorithms of the published keys), and the methods they answer. */
export const published = {
  /** The discovery document (an object) for `issuer` whose keys (`{ keys }`) are at `jwksUri`. */
  discovery: (issuer, jwksUri, jwks) =>
    JSON.parse(call(() => wasm.publishedDiscovery(String(issuer), String(jwksUri), jsonText(jwks, 'key_invalid', 'key set')))),
  /** Throws `method_not_allowed` (405, `allow` "GET, HEAD") for any other method. */
  method: (method, { realm } = {}) => call(() => wasm.publishedMethod(String(method), realm)),
};

export const workerConfig = (config) => JSON.parse(call(() => wasm.parseConfig(jsonText(config, 'options_invalid', 'configuration'))));

/** Signing-key entries and their lifecycle plan, by the core's rules. */
export const rotation = {
  /** A stored key entry, checked (status, created_at, public JWK with kid); throws `key_invalid`. */
  entry: (e) => JSON.parse(call(() => wasm.keyEntry(jsonText(e, 'key_invalid', 'key entry')))),
  /**
   * `{ active, due, rotationDue, newestAgeDays, excess, tooOld, removable, removableAt }` (kids)
   * for entries under `{ now, rotationDays, maxActive, maxAge? }` and an issuer's
   * `{ leeway?, maxLifetime? }`.
   */
  plan: (entries, schedule, policy) =>
    call(() =>
      wasm.keyPlan(
        jsonText(entries, 'key_invalid', 'key entries'),
        jsonText(schedule, 'options_invalid', 'schedule'),
        jsonText(policy ?? {}, 'options_invalid', 'policy'),
      ),
    ),
};

/** The grants document (JSON text; null when KV has none), checked by the core. */
export const grantsDocument = (text) => JSON.parse(call(() => wasm.grantsDocument(optionalText(text, 'scope_invalid', 'grants document'))));

/** The registered algorithm name a person meant, in any case (`es256` → `ES256`); unknown text unchanged. */
export const algName = (name) => wasm.algName(text(name, 'alg_not_allowed', 'alg'));
