// Per-isolate cache of what the worker reads from KV: a TTL (the KV propagation bound), single
// flight (concurrent requests in one isolate share one read), and last-known-good when a reload
// fails, up to a bound. The parsed values are wasm-side handles, built once per version.

export class Cached {
  /**
   * @param {() => Promise<any>} load reads and parses; throws on KV errors or invalid data
   * @param {{ ttl: number, maxStale: number }} bounds seconds
   */
  constructor(load, bounds) {
    this.load = load;
    this.bounds = bounds;
    this.value = undefined;
    this.loadedAt = 0;
    this.inflight = null;
    this.lastError = null;
    this.reads = 0;
    this.failures = 0;
  }

  /** The value, reloading when older than the TTL (or when `force`); single flight. */
  async get({ force = false } = {}) {
    const now = Date.now();
    if (!force && this.value !== undefined && now - this.loadedAt < this.bounds.ttl * 1000) return this.value;
    this.inflight ??= this.#reload().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  async #reload() {
    this.reads++;
    try {
      this.value = await this.load(this.value);
      this.loadedAt = Date.now();
      this.lastError = null;
      return this.value;
    } catch (e) {
      this.failures++;
      this.lastError = String(e?.message ?? e);
      console.error(JSON.stringify({ event: 'kv_load_failed', error: this.lastError }));
      // Last known good, until it is older than the bound; then fail closed.
      if (this.value !== undefined && Date.now() - this.loadedAt < this.bounds.maxStale * 1000) return this.value;
      throw new Unavailable(`data unavailable: ${this.lastError}`);
    }
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

/**
 * Reads a JSON document from KV. A missing key is an error naming it, unless `missing` gives the
 * value to use instead; invalid JSON always is.
 */
export async function readJson(kv, key, counter, missing) {
  counter.reads++;
  const text = await kv.get(key);
  if (text === null) {
    if (missing !== undefined) return missing;
    throw new Error(`KV key "${key}" is missing`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`KV key "${key}" is not JSON: ${e.message}`);
  }
}
