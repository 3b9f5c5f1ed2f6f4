// Types for the tokengate JS API (the same in Node, browsers and workerd).

export type Jwk = { kty: string; kid?: string; alg?: string; [member: string]: unknown };
export type Jwks = { keys: Jwk[] };
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
/** Space-separated scopes, or an array of them. */
export type Scopes = string | string[];

/** A stable machine code (see `errorCodes()` and the README table). */
export type ErrorCode =
  | 'token_malformed'
  | 'token_too_large'
  | 'alg_not_allowed'
  | 'crit_unsupported'
  | 'key_not_found'
  | 'signature_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_issued_in_future'
  | 'lifetime_exceeded'
  | 'token_too_old'
  | 'issuer_not_allowed'
  | 'audience_not_allowed'
  | 'typ_not_allowed'
  | 'token_type_not_allowed'
  | 'claim_missing'
  | 'claim_invalid'
  | 'subject_mismatch'
  | 'claim_mismatch'
  | 'insufficient_scope'
  | 'token_revoked'
  | 'revocation_data_stale'
  | 'apikey_malformed'
  | 'apikey_unknown'
  | 'apikey_revoked'
  | 'apikey_purged'
  | 'apikey_expired'
  | 'credential_missing'
  | 'invalid_request'
  | 'path_invalid'
  | 'method_not_allowed'
  | 'route_not_found'
  | 'key_invalid'
  | 'options_invalid'
  | 'scope_invalid'
  | 'revocation_invalid'
  | 'record_invalid'
  | 'data_unavailable';

/**
 * A rejection. Also what an argument of the wrong JS type gives (checked before anything reaches
 * wasm): the code the core gives for a bad value in that place, e.g. `token_malformed` for a
 * token that is not a string, `scope_invalid` for grants that are not a string or string array,
 * `options_invalid` for a `now` that is not a finite number.
 */
export class TokengateError extends Error {
  readonly name: 'TokengateError';
  readonly code: ErrorCode;
  /** 401, 403, 400, 503 (stale revocation data) or 500 (configuration). */
  readonly status: number;
  /** RFC 6750 `error` attribute. */
  readonly oauthError: string;
  /** A ready `WWW-Authenticate` header value. */
  readonly wwwAuthenticate: string;
  /** For `insufficient_scope`: scopes that would suffice. */
  readonly scope?: string;
  /** For `method_not_allowed`: the methods an `Allow` header lists. */
  readonly allow?: string;
  /** For 503 answers: seconds for `Retry-After`. */
  readonly retryAfter?: number;
}

/** Claim policy; unknown fields are rejected with `options_invalid`. */
export interface Policy {
  algorithms?: string[];
  issuer?: string | string[];
  audience?: string | string[];
  subject?: string;
  typ?: string | string[];
  tokenTypeClaim?: string;
  tokenTypes?: string | string[];
  requireExp?: boolean;
  /** Clock skew in seconds (default 60). */
  leeway?: number;
  /** Seconds (default 30 days); 0 disables. */
  maxLifetime?: number;
  maxAge?: number;
  requiredClaims?: string[];
  claimValues?: Record<string, Json>;
  requireJti?: boolean;
  maxTokenBytes?: number;
  maxJsonDepth?: number;
  crit?: string[];
  /** Scope requirement, e.g. `users:read and (billing:read or admin)`. */
  scope?: string;
  scopeClaims?: string[];
  /** Seconds; an older revocation list fails closed (`revocation_data_stale`). */
  maxRevocationAge?: number;
}

export interface ValidatorOptions extends Policy {
  /** `null`: a validator for API keys only (`validateApiKey`); a `RemoteJwks`: an identity provider's keys, followed. */
  keys: Jwks | Jwk | string | RemoteJwks | null;
  revocations?: RevocationList | RevocationListJson | string;
  grants?: Scopes;
  /** `realm` of `WWW-Authenticate` (default `api`). */
  realm?: string;
  /** Verified-token cache: `true` or `{ size, failureTtl }` (defaults 10000 and 5 s; failures ≤ 60 s). */
  cache?: boolean | { size?: number; failureTtl?: number };
  /** Use the runtime's signature primitives where it has them (default true). */
  native?: boolean;
}

export interface CallOptions {
  /** Unix seconds (default: the clock). */
  now?: number;
  /** A scope requirement for this call; `null` drops the validator's. */
  scope?: string | string[] | null;
  grants?: Scopes;
  revocations?: RevocationList | RevocationListJson | string;
}

/**
 * The registered claims (RFC 7519 §4.1) with the types a validated token is guaranteed to have:
 * the core rejects any other JSON type for them (`claim_invalid`). Other claims are any JSON.
 */
export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  /** NumericDate: seconds since the epoch (fractions allowed). */
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  [claim: string]: Json | undefined;
}

/**
 * A validated credential. `P` types the application's own claims, as jose's `jwtVerify<Payload>`
 * does: a claim shape the caller asserts, not one checked at run time (use `claimValues` or
 * `requiredClaims` in the policy for that); the registered claims keep their checked types.
 */
export interface Verified<P = JWTPayload> {
  kind: 'jwt' | 'apikey';
  header: Record<string, Json>;
  /** Every claim of the token (`{}` for an API key). */
  claims: P & JWTPayload;
  subject: string | null;
  issuer: string | null;
  scopes: string[];
  tokenId: string | null;
  expiresAt: number | null;
  issuedAt: number | null;
  tokenType: string | null;
  alg: string | null;
  kid: string | null;
}

export interface KeyDescription {
  index: number;
  kid: string | null;
  algs: string[];
  jwk: Jwk;
  thumbprint: string;
}

export class Validator {
  constructor(options: ValidatorOptions);
  readonly keys: KeyDescription[];
  readonly skipped: [string | null, string][];
  setKeys(keys: Jwks | Jwk | string | RemoteJwks): void;
  setRevocations(list: RevocationList | RevocationListJson | string): void;
  setGrants(grants: Scopes): void;
  cacheStats(): { entries: number; hits: number; misses: number };
  /** Throws `TokengateError`. `P`: the application's claims (see `Verified`). */
  validate<P = JWTPayload>(token: string, opts?: CallOptions): Verified<P>;
  /** Same decision; signature by WebCrypto where available. Rejects with `TokengateError`. */
  validateAsync<P = JWTPayload>(token: string, opts?: CallOptions): Promise<Verified<P>>;
  validateApiKey(raw: string, record: ApiKeyRecord | string | undefined | null, opts?: CallOptions): Verified;
}

export interface RevocationListJson {
  schema: 1;
  version: number;
  generated_at: number;
  jti?: { iss: string; jti: string; until: number }[];
  subjects?: { iss: string; sub: string; before: number; until: number }[];
  apikeys?: { hash: string; until: number }[];
}

export class RevocationList {
  constructor(list: RevocationListJson | string | RevocationList);
  readonly version: number;
  readonly generatedAt: number;
  readonly size: number;
  /** Digest of the stored entries a compacted list was built from. */
  readonly source: string | undefined;
  pruned(now?: number): string;
  toJSON(): RevocationListJson;
}

/** What a store keeps for an API key (never the raw key); stored under `hash`. */
export interface ApiKeyRecord {
  id: string;
  /** Lowercase hex SHA-256 of the raw key. */
  hash: string;
  name: string;
  description?: string;
  owner: string;
  scopes: string[];
  created_at: number;
  expires_at: number;
  state: 'active' | 'revoked' | 'purged';
  rotated_at?: number | null;
  revoked_at?: number | null;
}

export const apiKey: {
  /** Whether a credential is meant as an API key (its prefix). */
  looksLike(raw: unknown): boolean;
  generate(): string;
  hash(raw: string): string;
  parse(raw: string): string;
  create(spec: { name: string; owner: string; scopes?: Scopes; ttl?: number; maxTtl?: number; description?: string; now?: number }): {
    raw: string;
    record: ApiKeyRecord;
  };
  validate(raw: string, record: ApiKeyRecord | string | undefined | null, opts?: { now?: number }): Verified;
  rotate(record: ApiKeyRecord | string, opts?: { now?: number }): { raw: string; record: ApiKeyRecord };
  revoke(record: ApiKeyRecord | string, opts?: { now?: number; purge?: boolean }): ApiKeyRecord;
  state(record: ApiKeyRecord | string, opts?: { now?: number }): 'active' | 'expired' | 'revoked' | 'purged';
};

/** One stored revocation (its own KV entry; folded into the list the worker reads). */
export type RevocationEntry =
  | { kind: 'jti'; iss: string; jti: string; until: number }
  | { kind: 'subject'; iss: string; sub: string; before: number; until: number }
  | { kind: 'apikey'; hash: string; until: number };

export const revocations: {
  entry(e: RevocationEntry | string): RevocationEntry;
  snapshot(
    entries: { name: string; entry: RevocationEntry }[],
    opts: { prevVersion?: number; now?: number; source: string },
  ): RevocationListJson & { source: string };
};

export function sourceDigest(items: string[]): string;

/** An issuer's time-limit options as the worker passes them (absent: the core's defaults). */
export interface IssuerPolicy {
  leeway?: number | null;
  maxLifetime?: number | null;
}
/** The KV data model's rules, from the core (lifecycle commands and the worker's readers). */
export const lifecycle: {
  lifetimes(policy?: IssuerPolicy): {
    leeway: number;
    maxLifetime: number | null;
    keyGrace: number | null;
    mintTtl: number;
    mintTtlCap: number;
  };
  /** The `exp` of a token minted at `now` for `ttl` seconds (throws options_invalid unless whole, positive, within the NumericDate range). */
  tokenExpiry(now: number | undefined, ttl: number): number;
  until(
    policy: IssuerPolicy | undefined,
    what: { kind: 'token'; exp: number | null; now: number } | { kind: 'jti'; now: number } | { kind: 'subject'; before: number },
  ): number;
  storedEntry(e: RevocationEntry | string): { value: string; metadata: string };
  effectiveRevocations(
    snapshot: string,
    entries: { name: string; entry: unknown }[],
    opts: { source: string; now?: number },
  ): { text: string; behind: boolean };
  uncoveredRevocations(doc: string | object, entries: { name: string; entry: unknown }[]): RevocationEntry[];
  nextVersion(prev: number | undefined, now?: number): number;
  checkApiKeyRecord(record: ApiKeyRecord | string): void;
  auditMetadata(record: { [field: string]: Json }): { [field: string]: Json };
  expiredRevocations(entries: { name: string; entry: Json }[], opts?: { now?: number }): string[];
  keySet(
    name: string,
    stored: string | null,
    listed: { name: string; entry: Json }[],
    opts: { source: string; now?: number },
  ): { doc: KeySetDocumentJson; behind: boolean };
  buildKeySet(listed: { name: string; entry: Json }[], opts: { prevVersion?: number; now?: number; source: string }): KeySetDocumentJson;
  adoptableKeys(name: string, stored: string, listed: { name: string; entry: Json }[]): KeyEntry[];
  /** Tenant grants of a hand-written grants document no listed `grant:` entry holds; throws `scope_invalid` for a document the core refuses. */
  adoptableGrants(stored: string, listed: { name: string; entry: Json }[]): { tenant: string; module: string; scope: string }[];
  /** The record KV holds under `name`, value and metadata checked as one record (JSON text; null without a value); throws `record_invalid`. */
  apiKeyRecord(
    name: string,
    value: ApiKeyRecord | string | null | undefined,
    metadata: ApiKeyRecord | string | null | undefined,
    opts?: { realm?: string },
  ): string | null;
  buildGrants(
    listed: { name: string; entry: Json }[],
    prev: { [field: string]: Json } | string | null,
    opts: { now?: number; source: string },
  ): {
    schema: 1;
    version: number;
    generated_at: number;
    source: string;
    issuers: { [iss: string]: string };
    tenants: { [tenant: string]: { [module: string]: string[] } };
  };
};

/** A published key set (`jwks:<name>` in KV). */
export interface KeySetDocumentJson {
  schema: 1;
  version: number;
  generated_at?: number;
  source?: string;
  keys: KeyEntry[];
}
/** Checks granted scopes (wildcards allowed); returns them de-duplicated. */
export function parseScopes(scopes: Scopes): string[];

/** Every lint code the core knows (`lintCatalog()` lists them with advice). */
export type LintCode =
  | 'large_token'
  | 'token_too_large'
  | 'duplicate_claim'
  | 'alg_none'
  | 'unknown_alg'
  | 'no_alg'
  | 'header_key_reference'
  | 'crit_present'
  | 'no_kid'
  | 'numeric_date_invalid'
  | 'no_exp'
  | 'lifetime_over_max'
  | 'iat_in_future'
  | 'nbf_after_exp'
  | 'no_jti'
  | 'no_aud'
  | 'refresh_token_as_bearer'
  | 'hs_alg_public_issuer'
  | 'sensitive_claim'
  | 'scope_invalid';

export interface Lint {
  code: LintCode;
  severity: 'error' | 'warning' | 'info';
  message: string;
  advice: string;
  reference: string;
}

/** What inspection found: a description for humans, never a verdict. */
export interface Inspection {
  kind: 'jwt' | 'jwe' | 'apikey' | 'unknown';
  size: number;
  parts: { name: string; ok: boolean; error?: string }[];
  header: { [member: string]: Json } | null;
  claims: { [claim: string]: Json } | null;
  /** The payload as text when it is not a JSON object. */
  payloadText: string | null;
  alg: string | null;
  times: { [claim: string]: { unix: number; iso: string; relative: string } };
  status: 'not_yet_valid' | 'active' | 'expiring_soon' | 'expired' | 'unknown';
  needsRefresh: boolean;
  expiresIn: number | null;
  /** `expiresIn` as the core words it: "in 54 min", "3 d ago", "in 10 years". */
  expiresInText: string | null;
  lifetime: number | null;
  /** `lifetime` as the core words it: "59 min 40 s". */
  lifetimeText: string | null;
  /** The maximum lifetime checked (s): the default policy's; over it, `lifetime_over_max` (an error). */
  maxLifetime: number;
  /** `maxLifetime` as the core words it: "30 d". */
  maxLifetimeText: string;
  scopes: string[];
  scopesByResource: { [resource: string]: string[] };
  lints: Lint[];
  apikey: { prefix: string; checksumValid: boolean; hash?: string; error?: string } | null;
  /** The first structural problem: `[code, message]`. */
  error: [ErrorCode, string] | null;
}

/** What a route table decides for one request; `path` is canonical: match and forward it. */
export type RouteDecision =
  | { action: 'outside'; path: string; method: string }
  | { action: 'anonymous'; path: string; method: string; rule: number }
  | { action: 'authenticate'; path: string; method: string; rule: number; scope: string | null; tokenTypes: string[] | null };

/** A worker's route table (`protect`, `routes`, `allowUnicodePaths`), parsed once. */
export class Router {
  constructor(config: string | { protect?: string; routes?: Json[]; allowUnicodePaths?: boolean }, opts?: { realm?: string });
  /** Throws `path_invalid` (400), `method_not_allowed` (405, `allow`) or `route_not_found` (404). */
  decide(method: string, path: string): RouteDecision;
}

/** The edge worker's configuration, checked by the core with every default filled in. */
/** One issuer the worker accepts tokens from; its keys come from exactly one of `jwks`, `jwksUri`, `discovery`. */
export interface WorkerIssuer {
  issuer: string;
  /** The KV key of the key set the lifecycle commands publish. */
  jwks?: string;
  /** A JWKS URL: https, or http to a loopback host. */
  jwksUri?: string;
  /** Find the JWKS through the issuer's discovery document (OIDC, then RFC 8414). */
  discovery?: boolean;
  profile?: 'rfc9068' | 'cloudflare-access';
  typ?: string[];
  requiredClaims?: string[];
  audience?: string | string[];
  tokenTypes?: string[];
  /** Seconds; the validator's default (60) when left out. */
  leeway?: number;
  /** Seconds; the validator's default (30 days) when left out; 0: no cap. */
  maxLifetime?: number;
  tenantGrants?: { tenantClaim?: string; moduleClaim?: string };
}

/** The edge worker's configuration (`TOKENGATE_CONFIG` or KV `config`); `workerConfig` fills in every default. */
export interface WorkerConfig {
  realm?: string;
  protect?: string;
  origin?: string;
  forwardAuthorization?: boolean;
  credentials?: {
    cookie?: string | null;
    query?: string | null;
    apiKeyHeader?: string | null;
    header?: string | null;
  };
  identityHeaders?: { subject?: string; scopes?: string; issuer?: string; tokenId?: string; kind?: string };
  claimHeaders?: { [claim: string]: string };
  issuers: WorkerIssuer[];
  /** `method` left out: every method (OPTIONS included); `*` is the same, said explicitly. */
  routes?: { method?: string; path: string; scope?: string; tokenTypes?: string[]; anonymous?: boolean }[];
  allowUnicodePaths?: boolean;
  cacheTtl?: number;
  kidCooldown?: number;
  keysMaxStale?: number;
  persistKeys?: boolean;
  maxRevocationAge?: number;
  rotationDays?: number;
  maxActiveKeys?: number;
  healthScope?: string;
  remoteKeys?: { timeout?: number; maxBytes?: number; minMaxAge?: number; maxMaxAge?: number; discoveryMaxAge?: number };
}

/** Where a `RemoteJwks` finds its keys, and its timing: the worker's options, defaulted by the core. */
export interface RemoteJwksOptions {
  issuer?: string;
  /** Fetch `<issuer>/.well-known/openid-configuration` (then RFC 8414) for the `jwks_uri`. */
  discovery?: boolean;
  jwksUri?: string;
  /** Seconds between forced refetches for unknown `kid`s, and between attempts after a failure (30). */
  kidCooldown?: number;
  /** Seconds keys serve past their max-age when the provider cannot be reached (3600). */
  keysMaxStale?: number;
  remoteKeys?: { timeout?: number; maxBytes?: number; minMaxAge?: number; maxMaxAge?: number; discoveryMaxAge?: number };
}

/** An identity provider's keys for a `Validator` (`keys: remoteJwks(…)`), fetched and refreshed by the core's rules. */
export class RemoteJwks {
  constructor(options: RemoteJwksOptions, io?: { fetch?: typeof fetch; document?: string | null });
  /** Fetches now (joining a fetch in flight): null, or why it gave no keys (the keys held are kept). */
  refresh(): Promise<{ reason: string; message: string } | null>;
  summary(): { [field: string]: Json } & { stats: { fetches: number; refreshes: number; forced: number } };
  /** The keys held, or null before the first good fetch. */
  readonly jwks: Jwks | null;
  /** The key set document, for `io.document` of a later `RemoteJwks`. */
  toJSON(): string;
}
export function remoteJwks(options: RemoteJwksOptions, io?: { fetch?: typeof fetch; document?: string | null }): RemoteJwks;

/** `{ ttl, maxStale }` (seconds) for a worker's cache of its own configuration document. */
export function configReloadBounds(): { ttl: number; maxStale: number };
/**
 * What to do with a copy of a KV document read at `readAt` (ms; null: nothing held) at `now` (ms),
 * for the bounds in seconds: `use` it, `refresh` (serve it, reload in the background) or `read` now.
 */
export function reloadAction(readAt: number | null, now: number, bounds: { ttl: number; maxStale: number }): 'use' | 'refresh' | 'read';
/** tokengate's published endpoints (`/.well-known/jwks.json`, `/.well-known/openid-configuration`). */
export const published: {
  /** The discovery document for `issuer`, listing the algorithms its published keys verify. */
  discovery(
    issuer: string,
    jwksUri: string,
    jwks: string | { keys: object[] },
  ): { issuer: string; jwks_uri: string; id_token_signing_alg_values_supported: string[] };
  /** Throws `method_not_allowed` (405, `allow` "GET, HEAD") unless `method` is GET or HEAD. */
  method(method: string, opts?: { realm?: string }): void;
};
export function workerConfig(config: string | WorkerConfig): Required<Omit<WorkerConfig, 'remoteKeys'>> &
  WorkerConfig & {
    /** `access`: derived (never configured), Cloudflare Access's header and the cloudflare-access issuers it is checked against. */
    credentials: { readonly access?: { name: string; issuers: string[] } };
  };

/** A stored signing-key entry (`key:<jwks>:<kid>`). */
export interface KeyEntry {
  status: 'active' | 'retired';
  created_at: number;
  retired_at?: number;
  jwk: Jwk;
}
/** What is due for a key set, by kid (the core's rules). */
export interface KeyPlan {
  active: string[];
  due: string[];
  rotationDue: boolean;
  newestAgeDays: number | null;
  excess: string[];
  /** The `created_at` of a key added now (past the newest entry's: the key added last signs). */
  nextCreatedAt: number;
  tooOld: string[];
  removable: string[];
  removableAt: { [kid: string]: number | null };
}
export const rotation: {
  entry(e: KeyEntry | string): KeyEntry;
  plan(
    entries: KeyEntry[],
    schedule: { now: number; rotationDays: number; maxActive: number; maxAge?: number },
    policy?: { leeway?: number | null; maxLifetime?: number | null },
  ): KeyPlan;
};

/** The grants document (JSON text; null when KV has none), checked by the core. */
export function grantsDocument(text: string | null): {
  schema: 1;
  version: number;
  generated_at?: number;
  source?: string;
  issuers: { [issuer: string]: string };
  tenants: { [tenant: string]: { [module: string]: string[] } };
};

/** The registered algorithm name a person meant, in any case (`es256` → `ES256`); unknown text unchanged. */
export function algName(name: string): string;

/** A coded rejection for a request-level problem, encoded by the core. */
export function rejection(code: ErrorCode, message: string, opts?: { realm?: string }): TokengateError;
/**
 * What a gate sends for `e` raised while deciding a request: `e` itself for the client's problems
 * (4xx) and stale revocation data; for any other server-side problem a 503 `data_unavailable`
 * that tells the client nothing of it (log `e`). Never a 500.
 */
export function answered(e: TokengateError, opts?: { realm?: string }): TokengateError;
/** The longest token the core reads, in bytes: a longer one is refused with `token_too_large` before any of it is decoded. */
export function maxTokenBytes(): number;
/** `seconds` from now (negative: in the past; a finite number, else `options_invalid`) in the core's wording: "in 4 min 10 s", "4 min 10 s ago", "now". */
export function relativeTime(seconds: number): string;
/** An expiry `seconds` from now in the core's wording: "expires in 54 min", "expired now" (at 0: expired, as an inspection's status), "expired 3 min ago". */
export function expiryText(seconds: number): string;
/** The `WWW-Authenticate` value for a request with no credential (RFC 6750 §3.1). */
export function bareChallenge(realm?: string): string;

/** The unverified `iss` (for routing to a per-issuer validator only). */
export function peekIssuer(token: string): string | undefined;
/** The index among `issuers` of the issuer that checks `token` (its `iss`, else the first); throws `issuer_not_allowed` for another `iss`. */
export function chooseIssuer(token: string, issuers: string[], opts?: { realm?: string }): number;
/** Unverified string claims by name (for choosing a tenant's grants, which the core then applies). */
export function peekClaims(token: string, names: string[]): (string | undefined)[];
export function inspect(text: string, opts?: { now?: number; refreshThreshold?: number }): Inspection;
export function lintCatalog(): { code: LintCode; severity: Lint['severity']; advice: string; reference: string }[];
export function checkScopes(granted: Scopes, requirement: string, grants?: Scopes): true;
export function verifyJws(
  token: string,
  keys: Jwks | Jwk | string,
  options?: Policy,
): { header: Record<string, Json>; payload: Uint8Array };
export function mint(privateJwk: Jwk | string, claims: Record<string, Json> | string, opts?: { header?: Record<string, Json> }): string;
export function generateKey(alg?: string, opts?: { kid?: string; rsaBits?: number }): Jwk;
export function publicJwk(privateJwk: Jwk | string): Jwk;
export function errorCodes(): { code: ErrorCode; status: number; oauthError: string; description: string }[];
export function version(): string;
