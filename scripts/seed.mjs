// Seeds the local KV for `npm start` through the same store code as the admin CLI: a demo issuer
// (an ES256 key kept across restarts in .wrangler/demo/, its private JWK also where `tokengate
// mint --issuer` looks), a revoked jti, and a demo API key. Idempotent: what the CLI added since
// stays. Prints ready-to-paste curl lines.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as tg from '../js/node.js';
import { PREFIX, compactGrants, compactJwks, compactRevocations, listAll, putRevocation } from '../js/store.js';
import { openLocalKv } from '../js/admin/kv.js';

const ISS = 'https://demo.tokengate.local';
const AUD = 'demo-api';
const dir = '.wrangler/demo';
const base = process.env.TOKENGATE_URL ?? 'http://127.0.0.1:8787';
mkdirSync(dir, { recursive: true });

const now = Math.floor(Date.now() / 1000);
const keyFile = `${dir}/private.json`;
if (!existsSync(keyFile)) writeFileSync(keyFile, JSON.stringify({ ...tg.generateKey('ES256'), alg: 'ES256' }, null, 2), { mode: 0o600 });
const priv = JSON.parse(readFileSync(keyFile, 'utf8'));
const cliKeys = '.tokengate/keys/demo.tokengate.local';
mkdirSync(cliKeys, { recursive: true, mode: 0o700 });
if (!existsSync(`${cliKeys}/${priv.kid}.json`))
  writeFileSync(`${cliKeys}/${priv.kid}.json`, JSON.stringify(priv, null, 2), { mode: 0o600 });

const apiFile = `${dir}/apikey.json`;
if (!existsSync(apiFile)) {
  writeFileSync(
    apiFile,
    JSON.stringify(tg.apiKey.create({ name: 'demo ci', owner: 'svc-ci', scopes: ['users:read'], ttl: 90 * 86400, now })),
  );
}
const { raw, record } = JSON.parse(readFileSync(apiFile, 'utf8'));

const kv = await openLocalKv({ persistTo: '.wrangler/state' });
try {
  const keyEntry = `${PREFIX.key('jwks:demo')}${priv.kid}`;
  if ((await kv.get(keyEntry)) === null) {
    const meta = { status: 'active', created_at: now, jwk: tg.publicJwk(priv) };
    await kv.put(keyEntry, JSON.stringify(meta), { metadata: meta });
  }
  const stored = await listAll(kv, PREFIX.revocation);
  if (!stored.some((k) => k.metadata?.jti === 'demo-revoked' && k.metadata.until > now))
    await putRevocation(kv, { kind: 'jti', iss: ISS, jti: 'demo-revoked', until: now + 86400 });
  if ((await kv.get(`${PREFIX.apikey}${record.hash}`)) === null)
    await kv.put(`${PREFIX.apikey}${record.hash}`, JSON.stringify(record), { metadata: record });
  await compactJwks(kv, 'jwks:demo');
  await compactRevocations(kv, { refreshAfter: 0 });
  await compactGrants(kv);
} finally {
  await kv.close();
}

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
  # the demo issuer's public keys, for other services (and tokengate's own discovery): 200
  curl -i ${base}/.well-known/jwks.json
  # health
  curl -s ${base}/.well-known/tokengate/health
  # inspector page
  open ${base}/
`);
