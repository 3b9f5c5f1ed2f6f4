// Seeds the local KV for `npm start`: a demo issuer (an ES256 key pair kept across restarts in
// .wrangler/demo/), a revocation list, grants and a demo API key. Prints ready-to-paste curl lines.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as tg from '../js/node.js';

const ISS = 'https://demo.tokengate.local';
const AUD = 'demo-api';
const dir = '.wrangler/demo';
const base = process.env.TOKENGATE_URL ?? 'http://127.0.0.1:8787';
mkdirSync(dir, { recursive: true });

const now = Math.floor(Date.now() / 1000);
const keyFile = `${dir}/private.json`;
if (!existsSync(keyFile)) writeFileSync(keyFile, JSON.stringify(tg.generateKey('ES256'), null, 2));
const priv = JSON.parse(readFileSync(keyFile, 'utf8'));

const apiFile = `${dir}/apikey.json`;
if (!existsSync(apiFile)) {
  writeFileSync(
    apiFile,
    JSON.stringify(tg.apiKey.create({ name: 'demo ci', owner: 'svc-ci', scopes: ['users:read'], ttl: 90 * 86400, now })),
  );
}
const { raw, record } = JSON.parse(readFileSync(apiFile, 'utf8'));

const jwks = { schema: 1, version: 1, keys: [{ status: 'active', created_at: now, jwk: tg.publicJwk(priv) }] };
const revocations = { schema: 1, version: 1, generated_at: now, jti: [{ iss: ISS, jti: 'demo-revoked', until: now + 86400 }] };
const grants = { schema: 1, version: 1, issuers: {} };
const entries = [
  { key: 'jwks:demo', value: JSON.stringify(jwks) },
  { key: 'revocations', value: JSON.stringify(revocations) },
  { key: 'grants', value: JSON.stringify(grants) },
  { key: `apikey:${record.hash}`, value: JSON.stringify(record) },
];
writeFileSync(`${dir}/seed.json`, JSON.stringify(entries));
execFileSync(
  'node_modules/.bin/wrangler',
  ['kv', 'bulk', 'put', `${dir}/seed.json`, '--binding', 'TOKENGATE', '--local', '--persist-to', '.wrangler/state'],
  {
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);

const token = (claims) => tg.mint(priv, { iss: ISS, aud: AUD, sub: 'user-1', type: 'access', tenant: 'acme', ...claims });
const valid = token({ iat: now, exp: now + 3600, jti: crypto.randomUUID(), scope: 'users:read billing:read' });
const expired = token({ iat: now - 7200, exp: now - 3600, jti: crypto.randomUUID(), scope: 'users:read' });
const revoked = token({ iat: now, exp: now + 3600, jti: 'demo-revoked', scope: 'users:read' });

console.log(`
tokengate demo: seeded local KV (issuer ${ISS}, audience ${AUD}); serving on ${base}

  # valid token: 200, the echo upstream shows the identity headers
  curl -i ${base}/api/users -H 'Authorization: Bearer ${valid}'
  # expired token: 401 token_expired
  curl -i ${base}/api/users -H 'Authorization: Bearer ${expired}'
  # valid token without the admin scope: 403 insufficient_scope
  curl -i ${base}/api/admin -H 'Authorization: Bearer ${valid}'
  # revoked jti: 401 token_revoked
  curl -i ${base}/api/users -H 'Authorization: Bearer ${revoked}'
  # API key (scope users:read): 200
  curl -i ${base}/api/users -H 'X-API-Key: ${raw}'
  # no credential: 401 with WWW-Authenticate: Bearer realm="tokengate-demo"
  curl -i ${base}/api/users
  # health
  curl -s ${base}/.well-known/tokengate/health
  # inspector page
  open ${base}/
`);
