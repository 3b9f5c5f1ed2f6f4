// Worker configuration: `TOKENGATE_CONFIG` (JSON, a wrangler.toml var), overridden by the KV key
// `config` when present. Invalid configuration is a logged server error, never an accept.

export const DEFAULTS = {
  realm: 'api',
  // Paths under this prefix need a credential unless a route marks them anonymous.
  protect: '/api/',
  // `builtin:echo` (a tiny upstream that echoes the identity headers), a URL, or the ORIGIN
  // service binding when one is bound.
  origin: 'builtin:echo',
  forwardAuthorization: false,
  credentials: { cookie: null, query: null, apiKeyHeader: 'X-API-Key' },
  identityHeaders: {
    subject: 'X-Auth-Subject',
    scopes: 'X-Auth-Scopes',
    issuer: 'X-Auth-Issuer',
    tokenId: 'X-Auth-Token-Id',
    kind: 'X-Auth-Kind',
  },
  claimHeaders: {},
  issuers: [],
  routes: [],
  cacheTtl: 60,
  kidCooldown: 30,
  keysMaxStale: 3600,
  // Keep the last key documents in the Cache API so new isolates start warm.
  persistKeys: true,
  // Above the cron period (15 min) plus margin: the cron refreshes the list every 10 minutes.
  maxRevocationAge: 3600,
  rotationDays: 30,
  maxActiveKeys: 3,
  // The scope a credential needs for health details (anyone gets ok/not-ok).
  healthScope: 'tokengate:health',
};

export function parseConfig(text, source) {
  let c;
  try {
    c = typeof text === 'string' ? JSON.parse(text) : text;
  } catch (e) {
    throw new Error(`${source} is not JSON: ${e.message}`);
  }
  if (!c || typeof c !== 'object') throw new Error(`${source} must be a JSON object`);
  const config = { ...DEFAULTS, ...c, credentials: { ...DEFAULTS.credentials, ...c.credentials } };
  config.identityHeaders = { ...DEFAULTS.identityHeaders, ...c.identityHeaders };
  if (!Array.isArray(config.issuers) || config.issuers.length === 0) throw new Error(`${source}: "issuers" must list at least one issuer`);
  for (const i of config.issuers) {
    if (typeof i.issuer !== 'string' || typeof i.jwks !== 'string')
      throw new Error(`${source}: each issuer needs "issuer" and "jwks" (a KV key)`);
  }
  if (!Array.isArray(config.routes)) throw new Error(`${source}: "routes" must be an array`);
  return config;
}
