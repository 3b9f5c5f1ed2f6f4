// "What would this worker answer?" for a captured request, by the calls the worker makes
// (worker/index.js): the core's Router.decide, the worker's own credential extraction
// (worker/credentials.js) and issuer choice and validator options (worker/gate.js), then the
// core's Validator with the route's scope. What needs the worker's KV (API-key records,
// revocations, grants) is named, not guessed.
import { Router, Validator, TokengateError, answered, apiKey, peekClaims, rejection, workerConfig } from './lib/js/browser.js';
import { jwksUrl, boundedFetch, remoteKeys } from './lib/js/remote.js';
import { extractCredential, CredentialError } from './lib/worker/credentials.js';
import { issuerFor, validatorOptions } from './lib/worker/gate.js';

// As the worker's rejection() (worker/index.js) answers: the challenge on 400/401/403 only,
// `Allow` on a 405, `Retry-After` when the core gives one.
const refusal = (e, extra = {}) => ({
  status: e.status,
  code: e.code,
  message: e.message,
  wwwAuthenticate: [400, 401, 403].includes(e.status) ? e.wwwAuthenticate : undefined,
  allow: e.allow,
  retryAfter: e.retryAfter,
  scope: e.scope,
  ...extra,
});

/**
 * What the worker's answer() does with anything else thrown while deciding, by the same core
 * call (answered): a client problem is its 4xx, stale revocation data its 503; a configuration
 * or data problem (keys the core refuses, …) is logged and answered 503 `data_unavailable`.
 */
function thrown(e, extra) {
  if (!(e instanceof TokengateError)) throw e;
  const sent = answered(e);
  if (sent === e) return refusal(e, extra);
  return refusal(sent, {
    ...extra,
    logged: `${e.code}: ${e.message}`,
    note: `a configuration problem, not this request's: the worker logs "${e.code}: ${e.message}" and answers 503 to every request for this issuer`,
  });
}

// The worker answers this path itself, before any route (worker/index.js `health`).
const HEALTH = '/.well-known/tokengate/health';

/**
 * The captured headers as the worker's `request.headers.get` reads them: names case-insensitive,
 * repeats joined by ", ", surrounding whitespace dropped. Values stay as captured: a `Headers`
 * object refuses a character above U+00FF (a UTF-8 cookie as DevTools shows it), which the
 * worker receives and reads as a string all the same.
 */
function headerReader(list) {
  const m = new Map();
  for (const { name, value } of list) {
    if (name.startsWith(':')) continue;
    const n = name.toLowerCase();
    const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
    m.set(n, m.has(n) ? `${m.get(n)}, ${v}` : v);
  }
  return { get: (n) => m.get(String(n).toLowerCase()) ?? null };
}

function parsedOrText(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class Gate {
  /**
   * `config`: a TOKENGATE_CONFIG (object or JSON text), checked and completed by the core.
   * `keys`: a JWKS (or JWK) for every issuer, or `{ "<issuer>": JWKS, … }`.
   */
  constructor(config, keys) {
    this.config = workerConfig(config);
    this.router = new Router(this.config, { realm: this.config.realm });
    this.keys = new Map();
    this.validators = new Map();
    if (keys) this.setKeys(keys);
  }

  setKeys(keys) {
    // Text that is not JSON is kept as it is for every issuer: the core reads it and says why not.
    const k = typeof keys === 'string' ? parsedOrText(keys) : keys;
    const perIssuer = k && !Array.isArray(k.keys) && !k.kty && this.config.issuers.some((i) => Object.hasOwn(k, i.issuer));
    for (const i of this.config.issuers) {
      const set = perIssuer ? k[i.issuer] : k;
      if (set) this.keys.set(i.issuer, set);
    }
    this.validators.clear();
  }

  /**
   * Keys the core refuses, per issuer: `[{ issuer, code, message }]`. The worker would answer
   * every request for such an issuer 503 (a configuration problem, shown as one here).
   */
  problems() {
    const out = [];
    for (const i of this.config.issuers) {
      if (!this.keys.has(i.issuer)) continue;
      try {
        this.#validator(i, undefined);
      } catch (e) {
        if (!(e instanceof TokengateError)) throw e;
        out.push({ issuer: i.issuer, code: e.code, message: e.message });
      }
    }
    return out;
  }

  /** An issuer's JWKS URL by the worker's rules: its `jwksUri`, or discovery (one fetch or two). */
  async jwksUrl(issuer) {
    return (await jwksUrl(issuer, { policy: this.config.remoteKeys })).url;
  }

  /** Fetches an issuer's keys from `url` within the worker's fetch bounds. */
  async fetchKeys(issuer, url) {
    // A browser hides a redirect from an extension's fetch (redirect 'manual' gives an opaque
    // answer of status 0, whichever 3xx it was): the core is told it was one.
    let redirected = false;
    const seeRedirects = async (u, init) => {
      const res = await fetch(u, init);
      redirected = res.type === 'opaqueredirect';
      return res;
    };
    const r = await boundedFetch(url, { policy: this.config.remoteKeys, fetch: seeRedirects });
    // Judged as the worker judges a fetch of its keys (a 3xx is `redirect`, a bad body …).
    const failure = remoteKeys
      .open(issuer.issuer, null, url)
      .afterFetch(url, JSON.stringify({ status: r.status, redirected }), r.body, Date.now(), JSON.stringify(this.config.remoteKeys ?? {}));
    if (failure) throw new Error(`${url}: ${failure.reason}: ${failure.message}`);
    // The body as text, checked by the core when a validator is made of it (problems()).
    this.keys.set(issuer.issuer, new TextDecoder().decode(r.body));
    this.validators.clear();
    return url;
  }

  #validator(issuer, tokenTypes) {
    const id = `${issuer.issuer}\n${JSON.stringify(tokenTypes ?? null)}`;
    let v = this.validators.get(id);
    if (!v) {
      v = new Validator({ keys: this.keys.get(issuer.issuer), ...validatorOptions(this.config, issuer, tokenTypes ?? undefined) });
      this.validators.set(id, v);
    }
    return v;
  }

  /**
   * `{ status, code?, message?, wwwAuthenticate?, scope?, route, required, source, note? }` for a
   * request `{ method, url, headers: [{ name, value }] }`; status null when the worker's answer
   * depends on data only it has (then `note` says which).
   */
  async decide(request, now = Math.floor(Date.now() / 1000)) {
    const realm = this.config.realm;
    const url = new URL(request.url);
    let decision;
    try {
      // Health: a credential on it is checked with `healthScope` and no route's token types.
      decision =
        url.pathname === HEALTH
          ? { action: 'health', rule: null, scope: this.config.healthScope, tokenTypes: null }
          : this.router.decide(request.method, url.pathname);
    } catch (e) {
      if (e instanceof TokengateError) return refusal(e, { route: null });
      throw e;
    }
    const route = decision.rule ?? null;
    const required = decision.scope ?? null;
    if (decision.action === 'outside') return { status: null, route, required, note: 'outside the protected paths: not gated' };
    if (decision.action === 'anonymous') return { status: 200, route, required, note: 'anonymous route: forwarded without a credential' };
    const headers = headerReader(request.headers);
    let cred;
    try {
      cred = extractCredential({ headers }, url, this.config.credentials);
    } catch (e) {
      if (e instanceof CredentialError) return refusal(rejection('invalid_request', e.message, { realm }), { route, required });
      throw e;
    }
    if (cred === null && decision.action === 'health')
      return { status: null, route, required, note: 'health without a credential: {ok}, 200 or 503 by the state only the worker has' };
    if (cred === null) return refusal(rejection('credential_missing', 'a credential is required', { realm }), { route, required });
    const base = { route, required, source: cred.source };
    if (cred.kind === 'apikey') {
      // As the worker: a key that does not parse is refused before any KV read.
      try {
        apiKey.parse(cred.value);
      } catch (e) {
        if (e instanceof TokengateError) return refusal(rejection(e.code, e.message, { realm }), base);
        throw e;
      }
      return { status: null, ...base, note: 'an API key: the worker decides with its KV record (apikey:<hash>), which only it has' };
    }
    let issuer;
    try {
      issuer = issuerFor(this.config, cred.value, cred.issuers);
    } catch (e) {
      // As the worker: an `iss` no configured issuer has is refused before any key is looked at.
      return thrown(e, base);
    }
    if (!this.keys.has(issuer.issuer))
      return { status: null, ...base, issuer: issuer.issuer, note: `no keys for ${issuer.issuer}: paste them or fetch them` };
    let validator;
    try {
      validator = this.#validator(issuer, decision.tokenTypes);
    } catch (e) {
      return thrown(e, { ...base, issuer: issuer.issuer });
    }
    try {
      const opts = { now, scope: required };
      if (issuer.tenantGrants) opts.grants = [];
      const verified = await validator.validateAsync(cred.value, opts);
      return {
        status: 200,
        ...base,
        issuer: issuer.issuer,
        subject: verified.subject,
        note: issuer.tenantGrants ? 'tenant grants live in KV: checked here with none' : 'revocations and grants in KV not applied here',
      };
    } catch (e) {
      const extra = { ...base, issuer: issuer.issuer };
      // Expected against actual, as the inspector shows an audience mismatch.
      if (e instanceof TokengateError && e.code === 'audience_not_allowed')
        Object.assign(extra, { audience: issuer.audience ?? null, tokenAudience: peekClaims(cred.value, ['aud'])[0] ?? null });
      return thrown(e, extra);
    }
  }
}
