// Issuers whose keys an identity provider publishes (`jwksUri`, `discovery`, the
// `cloudflare-access` profile): fetched by the worker, kept in the colo's Cache API and in KV
// (`remote:<issuer>`) so a new isolate starts from those copies and not from the provider (read
// in that order: Cache API, then KV, then the provider, each only while the core still wants a
// newer copy), refreshed in the background before they expire (stale-while-revalidate through
// `waitUntil`), one fetch in flight per isolate, an unknown kid forcing at most one refetch per
// `kidCooldown`. Every decision (URL rule, discovery check, key rules, max-age, when to refresh,
// how long stale keys serve, whether a copy answers a wanted kid) is the core's: this file only
// moves bytes between fetch, the Cache API, KV and the validators.
import { fetchRemoteKeys, remoteKeys } from 'tokengate/store';
import { Unavailable } from './store.js';

/** Waits for `p` while keeping this request's own timer pending (workerd cancels a request that
 *  only awaits another request's I/O as hung). */
function awaitShared(p, ms) {
  let timer;
  const guard = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable('remote keys: the fetch in flight did not finish')), ms);
  });
  return Promise.race([p, guard]).finally(() => clearTimeout(timer));
}

export class RemoteIssuer {
  constructor(iso, issuer, config) {
    this.iso = iso;
    this.issuer = issuer;
    this.config = config;
    this.key = remoteKeys.kvKey(issuer.issuer);
    // Not reachable from outside the worker: no request can read or plant this entry.
    this.cacheUrl = `https://tokengate.internal/remote/${encodeURIComponent(issuer.issuer)}`;
    this.set = null; // RemoteKeySet handle (with this isolate's wanted refetches)
    this.loading = null; // first read
    this.inflight = null; // one refresh per isolate
    this.value = null; // { jwks, validators, text }
    this.openedFor = null; // the jwksUri (null: discovery) `set` was opened for
    this.stats = {
      fetches: 0,
      refreshes: 0,
      kvReads: 0,
      kvWrites: 0,
      kvSkipped: 0,
      kvFailures: 0,
      cacheReads: 0,
      cacheHits: 0,
      cacheWrites: 0,
      forced: 0,
    };
  }

  /** The configured JWKS URL (null: discovery): every copy adopted must come from it. */
  get #jwksUri() {
    return this.issuer.jwksUri ?? null;
  }

  /** Keys held for another source than the one configured now (the configuration changed in
   *  this isolate) are dropped: the next read starts from the copies, checked again. */
  #checkSource() {
    if (this.set === null || this.openedFor === this.#jwksUri) return;
    this.set = null;
    this.value = null;
  }

  get source() {
    return this.issuer.jwksUri !== undefined
      ? { issuer: this.issuer.issuer, jwksUri: this.issuer.jwksUri }
      : { issuer: this.issuer.issuer };
  }

  #timing() {
    return [this.config.kidCooldown, this.config.keysMaxStale];
  }

  /** A copy as a handle; one from another source than the configured one is an empty set. */
  #open(text, where) {
    try {
      const s = remoteKeys.open(this.issuer.issuer, text, this.#jwksUri);
      if (s.ignored) console.error(JSON.stringify({ event: 'remote_keys_ignored', issuer: this.issuer.issuer, where, error: s.ignored }));
      return s;
    } catch (e) {
      console.error(JSON.stringify({ event: 'remote_keys_invalid', issuer: this.issuer.issuer, where, error: e.message }));
      return null;
    }
  }

  /** Keeps whichever copy holds the newer fetch (the handle, and its wanted kids, stay). */
  #adopt(s) {
    if (s === null) return;
    if (this.set === null) {
      this.set = s;
      this.openedFor = this.#jwksUri;
    } else this.set.adoptIfNewer(s);
  }

  #wanted() {
    return this.set.fetchWanted(Date.now(), ...this.#timing());
  }

  /** The colo's copy, or null (none, unreadable, or no Cache API). */
  async #readCache() {
    this.stats.cacheReads++;
    try {
      const hit = await caches.default.match(this.cacheUrl);
      if (!hit) return null;
      const s = this.#open(await hit.text(), 'cache');
      if (!s || s.ignored) return null;
      this.stats.cacheHits++;
      return s;
    } catch (e) {
      console.error(JSON.stringify({ event: 'remote_keys_cache_failed', issuer: this.issuer.issuer, error: String(e?.message ?? e) }));
      return null;
    }
  }

  #kvFailed(op, e) {
    this.stats.kvFailures++;
    console.error(JSON.stringify({ event: 'remote_keys_kv_failed', issuer: this.issuer.issuer, op, error: String(e?.message ?? e) }));
  }

  /** KV's copy, or an empty set when KV has none or holds one the core refuses; null when the
   *  read failed (then nothing is known of what KV holds). */
  async #readKv() {
    this.stats.kvReads++;
    this.iso.counter.reads++;
    let text;
    try {
      text = await this.iso.kv.get(this.key);
    } catch (e) {
      // A KV outage must not keep the provider from being asked: no copy, the refresh goes on.
      this.#kvFailed('get', e);
      return null;
    }
    return this.#open(text, 'kv') ?? remoteKeys.open(this.issuer.issuer, null, this.#jwksUri);
  }

  /** The Cache API copy, then KV's while the core still wants a newer one. */
  async #read() {
    const cached = await this.#readCache();
    this.#adopt(cached);
    if (cached !== null && !this.#wanted()) return;
    const kv = await this.#readKv();
    if (kv === null) {
      // What KV holds stays as last known (none, in a new isolate: a fetch is written).
      if (this.set === null) this.#adopt(remoteKeys.open(this.issuer.issuer, null, this.#jwksUri));
      return;
    }
    this.#adopt(kv);
    // What KV holds, for the core's decision whether a fetch is written (the handle may be KV's copy itself).
    if (kv === this.set) this.set.persisted();
    else this.set.storedIs(kv);
  }

  /** One fetch from the provider, its result written to KV, and to the Cache API when good (each
   *  write on its own: one failing, as KV does past one write per second per key, skips neither). */
  async #fetch() {
    // Wants registered after this point are not answered by this fetch (it may predate them).
    const ticket = this.set.ticket;
    let failure;
    try {
      let fetches;
      ({ failure, fetches } = await fetchRemoteKeys(this.set, this.source, { policy: this.config.remoteKeys }));
      this.stats.fetches += fetches;
    } finally {
      this.set.answered(ticket);
    }
    if (failure) console.error(JSON.stringify({ event: 'remote_keys_fetch_failed', issuer: this.issuer.issuer, ...failure }));
    // KV takes about one write per second per key: the core writes only what KV's copy lacks
    // (other keys, or a copy old enough to be rewritten); a 304 or the same body is not written.
    if (this.set.mustPersist(Date.now(), this.config.kidCooldown)) {
      try {
        await this.iso.kv.put(this.key, this.set.toJSON());
        this.stats.kvWrites++;
        // Not recorded when the write failed: the core still sees KV lacking it, the next fetch writes.
        this.set.persisted();
      } catch (e) {
        this.#kvFailed('put', e);
      }
    } else this.stats.kvSkipped++;
    if (!failure) await this.#writeCache();
  }

  /** The fetched document as the colo's copy, kept as long as the core says its keys serve. */
  async #writeCache() {
    const ttl = this.set.keepSeconds(Date.now(), this.config.keysMaxStale);
    if (ttl === 0) return;
    try {
      const headers = { 'content-type': 'application/json', 'cache-control': `max-age=${ttl}` };
      await caches.default.put(this.cacheUrl, new Response(this.set.toJSON(), { headers }));
      this.stats.cacheWrites++;
    } catch (e) {
      console.error(JSON.stringify({ event: 'remote_keys_cache_failed', issuer: this.issuer.issuer, error: String(e?.message ?? e) }));
    }
  }

  /**
   * One refresh: the copies first (another isolate may have fetched), then the provider once if
   * the core still wants it (`force`: the cron, always). A kid wanted while a fetch was in flight
   * is not answered by it: the request that wanted it starts the next refresh (see `get`), so
   * no refresh outlives its starter's `waitUntil` by being extended for later requests.
   */
  refresh({ force = false } = {}) {
    if (this.inflight === null) this.#checkSource();
    this.inflight ??= (async () => {
      this.stats.refreshes++;
      try {
        await this.#read();
        if (force || this.#wanted()) await this.#fetch();
      } finally {
        this.#apply();
        this.inflight = null;
      }
    })();
    return this.inflight;
  }

  /** New validators only when the key set changed (each validator keeps its cache otherwise). */
  #apply() {
    if (!this.set?.hasKeys) return;
    const text = this.set.jwks();
    if (this.value?.text === text) return;
    this.value = { jwks: JSON.parse(text), validators: new Map(), text };
  }

  /**
   * The refresh in flight, started by this request when none is: then it is also this request's
   * `waitUntil`, so it runs to its end even when this request answers first (its wait expired,
   * or it answered from the keys held). Other requests await it; I/O tied to a request that has
   * answered would never settle for them (and no later refresh would start while it is held).
   */
  #join(waitUntil) {
    const started = this.inflight === null;
    const p = this.refresh();
    if (started) waitUntil?.(p.catch((e) => console.error(String(e?.message ?? e))));
    return p;
  }

  /** `{ jwks, validators }` to validate with now; throws `Unavailable` when no usable keys. */
  async get({ force = false, waitUntil } = {}) {
    const wait = remoteKeys.joinWait(this.config.remoteKeys.timeout);
    this.#checkSource();
    if (this.set === null) {
      if (this.loading === null) {
        // The first read, shared the same way as a refresh (see `#join`).
        this.loading = this.#read().then(() => this.#apply());
        waitUntil?.(this.loading.catch(() => {}));
      }
      try {
        await awaitShared(this.loading, wait);
      } finally {
        this.loading = null;
      }
    }
    if (force) {
      // The want (`mayForce`) is on the handle: the refresh fetches unless a copy holds the kid.
      // A refresh already in flight may predate the want: then this request starts the next one
      // (its own `waitUntil`), within what is left of its wait.
      this.stats.forced++;
      const end = Date.now() + wait;
      for (let round = 0; round < 2; round++) {
        const left = end - Date.now();
        if (left <= 0) break;
        await awaitShared(this.#join(waitUntil), left).catch((e) => console.error(String(e?.message ?? e)));
        if (this.inflight !== null || !this.#wanted()) break;
      }
    }
    const action = this.set.action(Date.now(), ...this.#timing());
    if (action === 'refresh') {
      if (this.inflight === null) this.#join(waitUntil);
    } else if (action === 'fetch') {
      await awaitShared(this.#join(waitUntil), wait).catch((e) => console.error(String(e?.message ?? e)));
    }
    const after = this.set.action(Date.now(), ...this.#timing());
    if (!this.value || after === 'fetch' || after === 'unavailable') {
      const s = JSON.parse(this.set.summary(Date.now(), ...this.#timing()));
      const why = s.lastError ? `${s.lastError.reason}: ${s.lastError.message}` : 'no keys fetched yet';
      throw new Unavailable(`remote keys of ${this.issuer.issuer}: ${why}`);
    }
    return this.value;
  }

  /** Whether `token`'s unknown kid may force a refetch now (the core allows one per `kidCooldown`). */
  mayForce(token) {
    return this.set !== null && this.set.want(String(token ?? ''), Date.now(), this.config.kidCooldown);
  }

  /** What health shows for this issuer. */
  health() {
    const s = this.set ? JSON.parse(this.set.summary(Date.now(), ...this.#timing())) : null;
    return { source: s?.source ?? this.issuer.jwksUri ?? 'discovery', remote: s, isolate: this.stats };
  }
}
