// Compiled by `tsc --noEmit` in `npm test`: the declarations describe the API as users call it.
import {
  Validator,
  TokengateError,
  apiKey,
  checkScopes,
  generateKey,
  inspect,
  mint,
  publicJwk,
  type Json,
  type Verified,
  revocations,
  sourceDigest,
  parseScopes,
  peekClaims,
} from 'tokengate';

const priv = generateKey('ES256', { kid: 'k1' });
const v = new Validator({ keys: { keys: [publicJwk(priv)] }, issuer: 'https://issuer.example', audience: 'api', cache: { size: 100 } });
const token: string = mint(priv, { sub: 'user-1', exp: 2_000_000_000 });

try {
  const r: Verified = v.validate(token, { scope: 'users:read' });
  const sub: string | null = r.subject;
  const scopes: string[] = r.scopes;
  void [sub, scopes, r.expiresAt, r.tokenId, r.claims, r.header];
} catch (e) {
  if (e instanceof TokengateError) {
    const header: string = e.wwwAuthenticate;
    const status: number = e.status;
    void [header, status, e.code === 'token_expired'];
  }
}
void v.validateAsync(token).then((r) => r.kind);

// The application's own claims, typed as with jose's jwtVerify<Payload>; the registered claims keep
// the types the core checks, and unnamed claims are JSON.
interface TenantClaims {
  tenant: string;
  roles: string[];
}
const typed = v.validate<TenantClaims>(token, { now: 1_800_000_000 });
const tenant: string = typed.claims.tenant;
const roles: string[] = typed.claims.roles;
const exp: number | undefined = typed.claims.exp;
const aud: string | string[] | undefined = typed.claims.aud;
// @ts-expect-error: exp is a NumericDate, never a string
const expText: string = typed.claims.exp;
// @ts-expect-error: the payload type says tenant is a string
const tenantNumber: number = typed.claims.tenant;
void [tenant, roles, exp, aud, expText, tenantNumber];
void v.validateAsync<TenantClaims>(token).then((r): string[] => [r.claims.tenant, ...r.claims.roles]);
const plain: Verified = v.validate(token);
const iss: string | undefined = plain.claims.iss;
const extra: Json | undefined = plain.claims['x-custom'];
void [iss, extra];
const tenantResult: Verified<TenantClaims> = typed;
void tenantResult;
const { raw, record } = apiKey.create({ name: 'ci', owner: 'user-9', scopes: ['deploy:write'] });
apiKey.validate(raw, record);
checkScopes(['users:*'], 'users:read');
const kind: 'jwt' | 'jwe' | 'apikey' | 'unknown' = inspect(token).kind;
void kind;
// @ts-expect-error: a policy typo is a type error (and options_invalid at run time)
new Validator({ keys: { keys: [] }, isuer: 'x' });
const rotated: { raw: string; record: { id: string } } = apiKey.rotate(record);
const state: 'active' | 'expired' | 'revoked' | 'purged' = apiKey.state(apiKey.revoke(rotated.record as typeof record, { purge: true }));
void state;
const entry = revocations.entry({ kind: 'subject', iss: 'https://id.example', sub: 'u', before: 1, until: 2 });
const list = revocations.snapshot([{ name: 'revocation:1', entry }], { source: sourceDigest(['revocation:1']) });
void [list.version, list.source, parseScopes('users:* billing:read'), peekClaims(token, ['tenant'])[0]];

// The KV data model (`tokengate/store`), as the worker and the CLI use it.
import { PREFIX, parseConfig, readRevocations, type Kv } from 'tokengate/store';
declare const kv: Kv;
const config = parseConfig('{"issuers":[]}', 'TOKENGATE_CONFIG');
void readRevocations(kv, { now: 1 }).then((r): string => (r.behind ? r.text : PREFIX.key('jwks:main')));
void config.realm;
