// "What would this worker answer?" for a captured request, by the calls the worker makes
// (worker/index.js): the core's Router.decide, the worker's own credential extraction
// (worker/credentials.js) and issuer choice and validator options (worker/gate.js), then the
// core's Validator with the route's scope. What needs the worker's KV (API-key records,
// revocations, grants) is named, not guessed.
import { Router, Validator, TokengateError, rejection, workerConfig } from './lib/js/browser.js';
import { jwksUrl, boundedFetch } from './lib/js/remote.js';
import { extractCredential, CredentialError } from './lib/worker/credentials.js';
import { issuerFor, validatorOptions } from './lib/worker/gate.js';

const refusal = (e, extra = {}) => ({
  status: e.status,
  code: e.code,
  message: e.message,
  wwwAuthenticate: e.wwwAuthenticate,
  scope: e.scope,
  ...extra,
});

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
    const k = typeof keys === 'string' ? JSON.parse(keys) : keys;
    const perIssuer = k && !Array.isArray(k.keys) && !k.kty && this.config.issuers.some((i) => Object.hasOwn(k, i.issuer));
    for (const i of this.config.issuers) {
      const set = perIssuer ? k[i.issuer] : k;
      if (set) this.keys.set(i.issuer, set);
    }
    this.validators.clear();
  }

  /** Fetches an issuer's keys (its `jwksUri`, or discovery) by the worker's URL rules and bounds. */
  async fetchKeys(issuer) {
    const policy = this.config.remoteKeys;
    const { url } = await jwksUrl(issuer, { policy });
    const r = await boundedFetch(url, { policy });
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
    this.keys.set(issuer.issuer, r.body);
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
      decision = this.router.decide(request.method, url.pathname);
    } catch (e) {
      if (e instanceof TokengateError) return refusal(e, { route: null });
      throw e;
    }
    const route = decision.rule ?? null;
    const required = decision.scope ?? null;
    if (decision.action === 'outside') return { status: null, route, required, note: 'outside the protected paths: not gated' };
    if (decision.action === 'anonymous') return { status: 200, route, required, note: 'anonymous route: forwarded without a credential' };
    const headers = new Headers();
    for (const { name, value } of request.headers) if (!name.startsWith(':')) headers.append(name, value);
    let cred;
    try {
      cred = extractCredential({ headers }, url, this.config.credentials);
    } catch (e) {
      if (e instanceof CredentialError) return refusal(rejection('invalid_request', e.message, { realm }), { route, required });
      throw e;
    }
    if (cred === null) return refusal(rejection('credential_missing', 'a credential is required', { realm }), { route, required });
    const base = { route, required, source: cred.source };
    if (cred.kind === 'apikey')
      return { status: null, ...base, note: 'an API key: the worker decides with its KV record (apikey:<hash>), which only it has' };
    const issuer = issuerFor(this.config, cred.value);
    if (!this.keys.has(issuer.issuer))
      return { status: null, ...base, issuer: issuer.issuer, note: `no keys for ${issuer.issuer}: paste them or fetch them` };
    try {
      const opts = { now, scope: required };
      if (issuer.tenantGrants) opts.grants = [];
      const verified = await this.#validator(issuer, decision.tokenTypes).validateAsync(cred.value, opts);
      return {
        status: 200,
        ...base,
        issuer: issuer.issuer,
        subject: verified.subject,
        note: issuer.tenantGrants ? 'tenant grants live in KV: checked here with none' : 'revocations and grants in KV not applied here',
      };
    } catch (e) {
      if (e instanceof TokengateError) return refusal(e, { ...base, issuer: issuer.issuer });
      throw e;
    }
  }
}
