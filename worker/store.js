import { reloadAction } from 'tokengate';

// Per-isolate cache of what the worker reads from KV: a TTL (the KV propagation bound),
// stale-while-revalidate with one background reload, and last-known-good when a reload fails, up
// to a bound. The parsed values are wasm-side handles, built once per version.

export class Cached {
  /**
   * @param {(prev: any) => Promise<any>} load reads and parses; throws on KV errors or invalid data
   * @param {{ ttl: number, maxStale: number }} bounds seconds
   */
  constructor(load, bounds) {
    this.load = load;
    this.bounds = bounds;
    this.value = undefined;
    this.loadedAt = 0;
    this.refreshing = null;
    this.lastError = null;
    this.reads = 0;
    this.failures = 0;
    this.started = 0;
    this.applied = 0;
  }

  /**
   * The value. Younger than the TTL: served. Older, but within `maxStale`: served while one
   * background reload runs (kept alive past the response by `waitUntil`), so no request ever
   * awaits another request's I/O (workerd cancels such a request as hung). No value yet, too
   * old, or `force`: this request reads for itself.
   */
  async get({ force = false, waitUntil } = {}) {
    const action = force ? 'read' : this.#action();
    if (action === 'use') return this.value;
    if (action === 'refresh') {
      if (this.refreshing === null) {
        this.refreshing = this.#reload()
          .catch(() => {})
          .finally(() => {
            this.refreshing = null;
          });
        waitUntil?.(this.refreshing);
      }
      return this.value;
    }
    return this.#reload();
  }

  async #reload() {
    this.reads++;
    // Reads may overlap (a request's own read beside a background one): the newest read wins.
    const seq = ++this.started;
    try {
      const value = await this.load(this.value);
      if (seq > this.applied) {
        this.applied = seq;
        this.value = value;
        // A value may say when its data was read (a copy kept elsewhere): its age counts from then.
        this.loadedAt = value?.readAt ?? Date.now();
        this.lastError = null;
      }
      return this.value;
    } catch (e) {
      this.failures++;
      this.lastError = String(e?.message ?? e);
      console.error(JSON.stringify({ event: 'kv_load_failed', error: this.lastError }));
      // Last known good, until it is older than the bound; then fail closed.
      if (this.usable()) return this.value;
      throw new Unavailable(`data unavailable: ${this.lastError}`);
    }
  }

  /** Whether a value within the staleness bound is held (what health reports as ok). */
  usable() {
    return this.#action() !== 'read';
  }

  /** The core's decision for the value held now. */
  #action() {
    return reloadAction(this.value === undefined ? null : this.loadedAt, Date.now(), this.bounds);
  }

  ageSeconds() {
    return this.value === undefined ? null : Math.floor((Date.now() - this.loadedAt) / 1000);
  }
}

/** A server-side data problem: answered 503 with Retry-After, never an accept. */
export class Unavailable extends Error {
  constructor(message) {
    super(message);
    this.name = 'Unavailable';
  }
}
