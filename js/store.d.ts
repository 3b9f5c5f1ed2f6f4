// Types for `tokengate/store`: the KV data model the edge worker reads and the operator CLI
// writes (js/store.js). Applications that only validate tokens need `tokengate` alone.
import type { IssuerPolicy, Json, KeyEntry, KeyPlan, RevocationEntry, RevocationListJson } from './index.js';

/** The part of the Workers KV API the data model uses (a KV binding, or the CLI's local/remote KV). */
export interface Kv {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, opts?: { metadata?: unknown }): Promise<unknown>;
  delete(key: string): Promise<unknown>;
  list(opts: { prefix?: string; cursor?: string }): Promise<{ keys: ListedEntry[]; list_complete: boolean; cursor?: string }>;
}
/** A listed KV key with its metadata. */
export interface ListedEntry {
  name: string;
  metadata?: any;
}

export const REVOCATIONS: 'revocations';
export const GRANTS: 'grants';
export const CONFIG: 'config';
export const MAINTENANCE: 'maintenance:last';
/** Entry name prefixes; each change is its own entry under one of them. */
export const PREFIX: {
  revocation: 'revocation:';
  grant: 'grant:';
  apikey: 'apikey:';
  audit: 'audit:';
  /** Signing keys of one published key set (`jwks:<name>`). */
  key(jwks: string): string;
};

/** The checked worker configuration with every default, or an Error naming `source` and every problem. */
export function parseConfig(text: string, source: string): { [field: string]: Json };
/** The time-limit options of an issuer as its validator gets them (absent: the core's defaults). */
export function issuerPolicy(issuer: { leeway?: number | null; maxLifetime?: number | null } | null | undefined): IssuerPolicy;

/** Time-ordered unique entry names: `<prefix><ms, base36, fixed width>-<random>`. */
export function uniqueName(prefix: string, now?: number): string;
/** Every key under a prefix, with metadata, across list pages. */
export function listAll(kv: Kv, prefix: string): Promise<ListedEntry[]>;
/** The digest a snapshot built from these listed entries records. */
export function digestOf(listed: ListedEntry[]): string;
/** A JSON document: a missing key is `doc: null`, bad JSON an `error`. */
export function readDoc(kv: Kv, key: string): Promise<{ doc: any; text: string | null; error?: string }>;
/** Fault injection (the admin CLI's consistency tests): `fn(step)` runs at each named step. */
export function onCheckpoint(fn: (step: 'after-list' | 'after-put') => Promise<void> | void): void;

/** Builds a snapshot document from the listed entries. */
export type Builder<D> = (listed: ListedEntry[], prev: any, now: number, source: string) => D | Promise<D>;
/** Brings a snapshot up to date with its entries; `refreshAfter` (seconds) rewrites an older one. */
export function converge<D>(
  kv: Kv,
  opts: { key: string; prefix: string; build: Builder<D>; refreshAfter?: number; attempts?: number },
): Promise<{ doc: D; writes: number }>;

/** The content of listed revocation entries (the value when too large for metadata); deleted ones left out. */
export function revocationEntries(kv: Kv, listed: ListedEntry[]): Promise<{ name: string; entry: any }[]>;
export function buildRevocations(
  kv: Kv,
  listed: ListedEntry[],
  prev: { version?: number } | null,
  now: number,
  source: string,
): Promise<RevocationListJson & { source: string }>;
/** The revocation list the worker enforces: the snapshot, merged with any entry it is behind. */
export function readRevocations(kv: Kv, opts?: { now?: number }): Promise<{ text: string; behind: boolean }>;

/** A published key-set document (`jwks:<name>`). */
export interface KeySetDocument {
  schema: 1;
  version: number;
  generated_at?: number;
  source?: string;
  keys: KeyEntry[];
}
/** The key set the worker publishes: the snapshot, or the live key entries when it is behind them. */
export function readJwks(kv: Kv, name: string, opts?: { now?: number }): Promise<{ doc: KeySetDocument; behind: boolean }>;
export function buildJwks(
  listed: ListedEntry[],
  prev: { version?: number } | null,
  now: number,
  source: string,
): KeySetDocument & { generated_at: number; source: string };

/** The grants document as the CLI compacts it. */
export interface GrantsDocument {
  schema: 1;
  version: number;
  generated_at: number;
  source: string;
  issuers: { [issuer: string]: string };
  tenants: { [tenant: string]: { [module: string]: string[] } };
}
export function buildGrants(
  listed: ListedEntry[],
  prev: { version?: number; issuers?: { [issuer: string]: string } } | null,
  now: number,
  source: string,
): GrantsDocument;
export function grantName(tenant: string, module: string, scope: string): string;

/** The core's rotation plan for stored key entries, with the entries in place of their kids. */
export function keyPlan<K extends KeyEntry>(
  keys: K[],
  schedule: { now: number; rotationDays: number; maxActive: number; maxAge?: number; policy?: IssuerPolicy },
): {
  active: K[];
  due: K[];
  rotationDue: KeyPlan['rotationDue'];
  newestAgeDays: KeyPlan['newestAgeDays'];
  excess: K[];
  nextCreatedAt: KeyPlan['nextCreatedAt'];
  tooOld: K[];
  removable: K[];
  removableAt(k: K): number | null;
};

/** Converges the revocation list; with `prune`, first deletes entries past their `until`. */
export function compactRevocations(
  kv: Kv,
  opts?: { prune?: boolean; refreshAfter?: number; rebuild?: boolean },
): Promise<{ doc: RevocationListJson; writes: number; pruned: number }>;
export function compactJwks(kv: Kv, jwks: string, opts?: { rebuild?: boolean }): Promise<{ doc: KeySetDocument; writes: number }>;
export function compactGrants(kv: Kv, opts?: { rebuild?: boolean }): Promise<{ doc: GrantsDocument; writes: number }>;
/** Keys of a hand-written key set become entries first; returns how many. */
export function adoptJwks(kv: Kv, jwks: string, opts?: { rebuild?: boolean }): Promise<number>;
/** Items of the revocation document no entry covers become entries; returns how many. */
export function adoptRevocations(kv: Kv, opts?: { rebuild?: boolean }): Promise<number>;
/** Tenant grants of a hand-written grants document become entries; returns how many. */
export function adoptGrants(kv: Kv, opts?: { rebuild?: boolean; by?: string; now?: number }): Promise<number>;
/** A stored document the core cannot read: writes stop rather than replace it. */
export class UnreadableDocument extends Error {
  readonly key: string;
  readonly problem: string;
}
/** Why the core cannot read the stored text of `key`, or null when it can (or there is none). */
export function unreadable(key: string, text: string | null): string | null;
/** Stores one revocation entry (checked by the core) under a fresh name; returns the name. */
export function putRevocation(kv: Kv, entry: RevocationEntry | string): Promise<string>;

// Remote key sets (js/remote.js; the `remote:<issuer>` KV document): an identity provider's keys, by the core's rules.

/** A fetch that gave no keys, with a stable `reason` (`timeout`, `issuer_mismatch`, `too_large`, …). */
export class RemoteKeysError extends Error {
  readonly reason: string;
}

/** Bounds of a remote key fetch (seconds, bytes). */
export interface FetchPolicy {
  timeout?: number;
  maxBytes?: number;
  minMaxAge?: number;
  maxMaxAge?: number;
  discoveryMaxAge?: number;
}

/** An issuer's remote key set document (`remote:<issuer>` in KV), parsed once by the core. */
export interface RemoteKeySet {
  action(now: number, cooldown: number, keysMaxStale: number): 'use' | 'refresh' | 'fetch' | 'unavailable';
  afterFetch(url: string, response: string, body: Uint8Array, now: number, policy: string): { reason: string; message: string } | null;
  failed(reason: string, message: string, now: number): void;
  adoptIfNewer(other: RemoteKeySet): boolean;
  ifNoneMatch(url: string): string | undefined;
  /** The discovered `jwks_uri` while it is not due for rediscovery. */
  discovered(now: number, policy: string): string | undefined;
  afterDiscovery(uri: string, now: number): void;
  jwks(): string;
  readonly hasKeys: boolean;
  readonly source: string | undefined;
  /** Why the copy given to `open` was ignored (fetched from another source than the configured one). */
  readonly ignored: string | undefined;
  readonly fetchedAt: number;
  readonly attemptedAt: number;
  summary(now: number, cooldown: number, keysMaxStale: number): string;
  toJSON(): string;
  /** A refetch wanted for `token` (its kid is unknown): false within `cooldown` s of the last one. */
  want(token: string, now: number, cooldown: number): boolean;
  /** Whether a refresh holding this copy reads on (KV after the Cache API, then the provider): due, or a wanted kid missing. */
  fetchWanted(now: number, cooldown: number, keysMaxStale: number): boolean;
  /** What a fetch starting now answers; given back to `answered` when it is over. */
  readonly ticket: number;
  answered(ticket: number): void;
  /** Seconds a copy is worth keeping (until its keys are too old to use; 0: none). */
  keepSeconds(now: number, keysMaxStale: number): number;
}

export const remoteKeys: {
  fetchPolicy(policy?: FetchPolicy): Required<FetchPolicy>;
  checkUrl(url: string): void;
  discoveryUrls(issuer: string): string[];
  discovery(issuer: string, body: Uint8Array | string, policy?: FetchPolicy): string;
  mayForce(lastForced: number, now: number, cooldown: number): boolean;
  /** How long (ms) a request joining a key fetch in flight waits, for fetches timing out after `timeout` seconds. */
  joinWait(timeout: number): number;
  kvKey(issuer: string): string;
  /** `jwksUri`: the configured JWKS URL (null or omitted: discovery); a copy from another source is ignored (`ignored` says why). */
  open(issuer: string, text: string | null, jwksUri?: string | null): RemoteKeySet;
};

export function boundedFetch(
  url: string,
  opts?: { policy?: FetchPolicy; headers?: Record<string, string>; fetch?: typeof fetch },
): Promise<{ status: number; etag?: string; cacheControl?: string; body: Uint8Array }>;

export function jwksUrl(
  source: { issuer: string; jwksUri?: string },
  opts?: { policy?: FetchPolicy; fetch?: typeof fetch },
): Promise<{ url: string; fetches: number; from?: string; document?: Uint8Array }>;

export function fetchRemoteKeys(
  set: RemoteKeySet,
  source: { issuer: string; jwksUri?: string },
  opts?: { policy?: FetchPolicy; fetch?: typeof fetch },
): Promise<{ failure: { reason: string; message: string } | null; fetches: number }>;
