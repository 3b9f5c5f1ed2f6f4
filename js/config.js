// Worker configuration: `TOKENGATE_CONFIG` (JSON, a wrangler.toml var), overridden by the KV key
// `config` when present. The core checks it and fills in every default; invalid configuration
// is a logged server error, never an accept.
import { workerConfig } from 'tokengate';

/** The checked configuration with defaults, or an Error naming `source` and every problem. */
export function parseConfig(text, source) {
  try {
    return workerConfig(text);
  } catch (e) {
    throw new Error(`${source}: ${e.message}`);
  }
}

/** The time-limit options of an issuer as its validator gets them (absent: the core's defaults). */
export const issuerPolicy = (issuer) => ({ leeway: issuer?.leeway, maxLifetime: issuer?.maxLifetime });
