// The one test suite, run unchanged in Node, workerd and Chromium (like jose's tap/). Each case
// gets `{ tg, jose, fx }`: the tokengate entry of that runtime, jose, and the fixtures built in
// Node (tests/runtime/fixtures.mjs). Every validation case runs on all three paths.
// `edge: true` (workerd, Chromium): `tg` runs the edge module, which leaves RSA/ECDSA/EdDSA
// signatures to WebCrypto; its synchronous paths must then refuse those algorithms with
// `alg_not_allowed` (checked on every call), and the case's decision comes from the async path.
import { eq, ok, outcome, rejects } from './harness.js';

const AUD = 'api';

/** Set per case from the environment (see the export at the end). */
let EDGE = false;

/** What the edge module's synchronous path says for an algorithm only WebCrypto verifies. */
const HOST_ONLY = /checked by the host's WebCrypto/;

/** A synchronous path on the edge module: its own decision, unless it (rightly) defers to the host. */
function sync(v, t, o) {
  if (!EDGE) return v.validate(t, o);
  try {
    return v.validate(t, o);
  } catch (e) {
    if (e?.code !== 'alg_not_allowed' || !HOST_ONLY.test(e.message)) throw e;
    return v.validateAsync(t, o);
  }
}

/** The three ways to validate; all must decide the same. */
const ALL_PATHS = [
  ['wasm', { native: false }, sync],
  ['sync', { native: true }, sync],
  ['async', { native: true }, (v, t, o) => v.validateAsync(t, o)],
];

/** The edge module has no synchronous primitive: its sync path is its wasm path. */
const paths = () => (EDGE ? ALL_PATHS.slice(1) : ALL_PATHS);

/** An outcome as compared across modules: a key set refused at construction or at first use. */
const same = (o) => o.replace(/^keys:/, '');

function validators(tg, fx, options) {
  return paths().map(([name, extra, run]) => ({ name, v: new tg.Validator({ issuer: fx.ISS, audience: AUD, ...options, ...extra }), run }));
}

const jwks = (...jwks) => ({ keys: jwks });

const CASES = [
  [
    'tokengate-minted tokens validate for every algorithm, on every path',
    async ({ tg, fx }) => {
      for (const [alg, k] of Object.entries(fx.algs)) {
        for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk) })) {
          const r = await run(v, k.token, { now: fx.NOW });
          eq(r.subject, 'user-1', `${alg} ${name}`);
          eq(r.scopes, ['users:read', 'billing:read'], `${alg} ${name}`);
          eq(r.tokenId, 'jti-1');
          eq(r.expiresAt, fx.NOW + 600);
          eq(r.header.alg, alg);
          eq(r.claims.aud, AUD);
        }
      }
    },
  ],
  [
    'jose-minted tokens validate in tokengate, on every path',
    async ({ tg, fx }) => {
      for (const [alg, k] of Object.entries(fx.jose)) {
        for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk) })) {
          const r = await run(v, k.token, { now: fx.NOW });
          eq([r.subject, r.alg, r.kid], ['user-1', alg, `jose-${alg}`], `${alg} ${name}`);
        }
      }
    },
  ],
  [
    'validateAsync calls in flight together decide as they do one at a time',
    async ({ tg, fx }) => {
      // Each call keeps its parsed token in the core while its signature is checked; calls that
      // overlap must never finish with another's token, and refused ones free their place.
      for (const [alg, k] of Object.entries(fx.algs)) {
        const v = new tg.Validator({ issuer: fx.ISS, audience: AUD, keys: jwks(k.publicJwk) });
        const flipped = k.token.slice(0, -2) + (k.token.at(-2) === 'A' ? 'B' : 'A') + k.token.at(-1);
        const tokens = [k.token, flipped, 'not.a.token', fx.algs[alg === 'HS256' ? 'ES256' : 'HS256'].token];
        const one = [];
        for (const t of tokens) one.push(await outcome(() => v.validateAsync(t, { now: fx.NOW })));
        eq(one.slice(0, 3), ['ok', 'signature_invalid', 'token_malformed'], alg);
        const calls = Array.from({ length: 48 }, (_, i) => tokens[(i * 7) % tokens.length]);
        const together = await Promise.all(calls.map((t) => outcome(() => v.validateAsync(t, { now: fx.NOW }))));
        eq(
          together,
          calls.map((t) => one[tokens.indexOf(t)]),
          alg,
        );
        const r = await Promise.all([
          v.validateAsync(k.token, { now: fx.NOW }),
          v.validateAsync(k.token, { now: fx.NOW, scope: 'users:read' }),
        ]);
        eq(
          r.map((x) => x.subject),
          ['user-1', 'user-1'],
          alg,
        );
      }
    },
  ],
  [
    'tokengate-minted tokens verify in jose',
    async ({ fx, jose }) => {
      for (const [alg, k] of Object.entries(fx.algs)) {
        if (!fx.jose[alg]) continue; // jose has no ES256K
        const key = await jose.importJWK(k.publicJwk, alg);
        const { payload, protectedHeader } = await jose.jwtVerify(k.token, key, {
          issuer: fx.ISS,
          audience: AUD,
          currentDate: new Date(fx.NOW * 1000),
        });
        eq([payload.sub, protectedHeader.kid], ['user-1', `tg-${alg}`], alg);
      }
    },
  ],
  [
    'rejections carry the same stable code, status and WWW-Authenticate on every path',
    async ({ tg, fx }) => {
      const k = fx.algs.ES256;
      const other = fx.algs.RS256;
      const sig = k.token.split('.');
      const cases = [
        [k.expired, 'token_expired', 401],
        [k.wrongIss, 'issuer_not_allowed', 401],
        [k.wrongAud, 'audience_not_allowed', 401],
        [`${sig[0]}.${sig[1]}.${other.token.split('.')[2]}`, 'signature_invalid', 401],
        [other.token, 'key_not_found', 401],
        [`${btoa('{"alg":"none"}').replace(/=/g, '')}.${sig[1]}.`, 'alg_not_allowed', 401],
        ['not a token', 'token_malformed', 401],
      ];
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk), realm: 'example' })) {
        for (const [token, code, status] of cases) {
          const e = await rejects(() => run(v, token, { now: fx.NOW }), code, name);
          eq(e.status, status);
          ok(e.wwwAuthenticate.startsWith(`Bearer realm="example", error="invalid_token"`), e.wwwAuthenticate);
        }
        const e = await rejects(() => run(v, k.token, { now: fx.NOW, scope: 'admin or users:write' }), 'insufficient_scope', name);
        // RFC 6750 §3: `scope` names scopes that would suffice (the first alternative).
        eq([e.status, e.scope], [403, 'admin']);
        ok(e.wwwAuthenticate.includes('error="insufficient_scope"') && e.wwwAuthenticate.includes('scope="admin"'), e.wwwAuthenticate);
        ok(e instanceof tg.TokengateError && e instanceof Error);
      }
    },
  ],
  [
    'Wycheproof JWS vectors: the native paths decide exactly as the pure-wasm path',
    async ({ tg, fx }) => {
      let compared = 0;
      const policy = { requireExp: false, maxLifetime: 0 };
      for (const group of fx.wycheproof.testGroups) {
        const keys = group.public ?? group.private;
        const vs = paths().map(([name, extra, run]) => {
          try {
            return { name, v: new tg.Validator({ keys, ...policy, ...extra }), run };
          } catch (e) {
            return { name, error: e.code };
          }
        });
        for (const t of group.tests) {
          const got = [];
          for (const { name, v, run, error } of vs) {
            got.push(error ? `keys:${error}` : await outcome(() => run(v, t.jws ?? '', { now: fx.NOW })));
            void name;
          }
          eq(new Set(got).size, 1, `tc ${t.tcId} (${t.comment}): wasm/sync/async = ${got.join(' / ')}`);
          // And the same as the full module's pure-Rust path in Node (the fixtures' record).
          eq(same(got[0]), same(fx.wycheproofExpected[t.tcId]), `tc ${t.tcId} (${t.comment}): this module vs the full module`);
          compared++;
        }
      }
      ok(compared > 300, `only ${compared} cases`);
    },
  ],
  [
    'cache: a hit after exp is rejected, and a token without iat still expires',
    async ({ tg, fx }) => {
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(fx.algs.ES256.publicJwk), cache: true, leeway: 0 })) {
        const k = fx.algs.ES256;
        const first = await run(v, k.token, { now: fx.NOW });
        const again = await run(v, k.token, { now: fx.NOW + 1 });
        ok(first === again, `${name}: a hit returns the object already built`);
        ok(Object.isFrozen(again.claims), 'cached results are frozen');
        await rejects(() => run(v, k.token, { now: fx.NOW + 600 }), 'token_expired', name);
        await run(v, k.noIat, { now: fx.NOW });
        await run(v, k.noIat, { now: fx.NOW + 99 });
        await rejects(() => run(v, k.noIat, { now: fx.NOW + 100 }), 'token_expired', `${name} no iat`);
        ok(v.cacheStats().hits >= 2, JSON.stringify(v.cacheStats()));
      }
    },
  ],
  [
    'cache: the scope requirement of each call applies to hits',
    async ({ tg, fx }) => {
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(fx.algs.HS256.publicJwk), cache: true })) {
        const t = fx.algs.HS256.token;
        await run(v, t, { now: fx.NOW, scope: 'users:read' });
        await rejects(() => run(v, t, { now: fx.NOW, scope: 'users:write' }), 'insufficient_scope', name);
        await run(v, t, { now: fx.NOW, scope: 'users:read and billing:read' });
        // Grants narrow results; a different grant set is not served from the cached result.
        eq((await run(v, t, { now: fx.NOW, grants: 'billing:*' })).scopes, ['billing:read'], name);
        eq((await run(v, t, { now: fx.NOW })).scopes, ['users:read', 'billing:read'], name);
      }
    },
  ],
  [
    'cache: a key removed from the set and a revocation added after caching both apply',
    async ({ tg, fx }) => {
      const a = fx.algs.ES256;
      const b = fx.algs.EdDSA;
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(a.publicJwk, b.publicJwk), cache: true })) {
        await run(v, a.token, { now: fx.NOW });
        await run(v, a.token, { now: fx.NOW });
        v.setKeys(jwks(b.publicJwk));
        await rejects(() => run(v, a.token, { now: fx.NOW }), 'key_not_found', name);
        await run(v, b.token, { now: fx.NOW });
        v.setRevocations({ schema: 1, version: 2, generated_at: fx.NOW, jti: [{ iss: fx.ISS, jti: 'jti-1', until: fx.NOW + 600 }] });
        await rejects(() => run(v, b.token, { now: fx.NOW }), 'token_revoked', name);
      }
    },
  ],
  [
    'cache: every re-decision is made on what would be a hit (expired, revoked, grants, scope, key set since caching)',
    async ({ tg, fx }) => {
      const k = fx.algs.ES256;
      const other = fx.algs.EdDSA;
      const revoked = { schema: 1, version: 3, generated_at: fx.NOW, jti: [{ iss: fx.ISS, jti: 'jti-1', until: fx.NOW + 600 }] };
      const empty = { schema: 1, version: 2, generated_at: fx.NOW };
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk, other.publicJwk), cache: true, leeway: 0 })) {
        const hits = () => v.cacheStats().hits;
        /** A cached success for `opts`: the second call is a hit returning the same object. */
        const cached = async (opts) => {
          const first = await run(v, k.token, opts);
          const before = hits();
          ok((await run(v, k.token, opts)) === first && hits() === before + 1, `${name}: cached (${JSON.stringify(opts)})`);
          return first;
        };
        const read = { now: fx.NOW, scope: 'users:read' };
        await cached(read);
        // Expired since cached: the caller's clock is decided again.
        await rejects(() => run(v, k.token, { ...read, now: fx.NOW + 600 }), 'token_expired', `${name} expired`);
        await cached(read);
        // A different scope requirement on the same cached token.
        await rejects(() => run(v, k.token, { ...read, scope: 'users:write' }), 'insufficient_scope', `${name} scope`);
        eq((await run(v, k.token, { ...read, scope: 'billing:read' })).subject, 'user-1', `${name} another scope`);
        // Grants changed since cached: the issuer's grants no longer cover the route's scope.
        await cached(read);
        v.setGrants('billing:*');
        await rejects(() => run(v, k.token, read), 'insufficient_scope', `${name} grants`);
        eq((await run(v, k.token, { now: fx.NOW, scope: 'billing:read' })).scopes, ['billing:read'], `${name} narrowed`);
        v.setGrants('users:* billing:*');
        // Revoked since cached (a new list version).
        v.setRevocations(empty);
        await cached(read);
        v.setRevocations(revoked);
        await rejects(() => run(v, k.token, read), 'token_revoked', `${name} revoked`);
        v.setRevocations(empty);
        await cached(read);
        // A different key set: the key that signed it is gone.
        v.setKeys(jwks(other.publicJwk));
        await rejects(() => run(v, k.token, read), 'key_not_found', `${name} key set`);
        v.setKeys(jwks(k.publicJwk));
        eq((await run(v, k.token, read)).subject, 'user-1', `${name} key back`);
      }
    },
  ],
  [
    'results carry non-ASCII and escaped claims exactly, on every path, cached or not',
    async ({ tg, fx }) => {
      for (const [alg, k] of Object.entries(fx.algs)) {
        for (const cache of [false, true]) {
          for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk), cache })) {
            for (let i = 0; i < 2; i++) {
              const r = await run(v, k.unicode, { now: fx.NOW, scope: 'users:read' });
              eq(r.claims.name, 'Zoë ✓ 名前 😀', `${alg} ${name} cache=${cache}`);
              eq(r.claims.note, 'a "quoted" \\ \u2028 line', `${alg} ${name}`);
              eq([r.subject, r.issuer, r.tokenId, r.kid, r.alg], ['user-1', fx.ISS, 'jti-1', `tg-${alg}`, alg], `${alg} ${name}`);
              eq(r.scopes, ['users:read', 'billing:read'], `${alg} ${name}`);
              eq(r.header.kid, `tg-${alg}`);
            }
          }
        }
      }
    },
  ],
  [
    'cache: failures are served only briefly',
    async ({ tg, fx }) => {
      const k = fx.algs.HS256;
      const bad = `${k.token}x`;
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk), cache: { size: 4, failureTtl: 2 } })) {
        const misses = v.cacheStats().misses;
        await rejects(() => run(v, bad, { now: fx.NOW }), 'signature_invalid', name);
        await rejects(() => run(v, bad, { now: fx.NOW + 1 }), 'signature_invalid', name);
        eq(v.cacheStats().misses, misses + 1, `${name}: the failure was served from the cache`);
        await rejects(() => run(v, bad, { now: fx.NOW + 3 }), 'signature_invalid', name);
        eq(v.cacheStats().misses, misses + 2, `${name}: past its bound the failure is decided again`);
        for (let i = 0; i < 10; i++) await run(v, fx.algs.HS256.token, { now: fx.NOW + i });
        ok(v.cacheStats().entries <= 4, 'bounded');
      }
    },
  ],
  [
    'revocation lists, grants and per-call context',
    async ({ tg, fx }) => {
      const k = fx.algs.EdDSA;
      const list = new tg.RevocationList({
        schema: 1,
        version: 3,
        generated_at: fx.NOW - 30,
        subjects: [{ iss: fx.ISS, sub: 'user-1', before: fx.NOW - 5, until: fx.NOW + 900 }],
      });
      eq([list.version, list.size, list.generatedAt], [3, 1, fx.NOW - 30]);
      eq(JSON.parse(list.pruned(fx.NOW + 1000)).subjects ?? [], []);
      for (const { name, v, run } of validators(tg, fx, { keys: jwks(k.publicJwk), maxRevocationAge: 60, grants: 'users:*' })) {
        eq((await run(v, k.token, { now: fx.NOW })).scopes, ['users:read'], name);
        await rejects(() => run(v, k.token, { now: fx.NOW, revocations: list }), 'token_revoked', name);
        v.setRevocations(list);
        const e = await rejects(() => run(v, fx.algs.EdDSA.admin, { now: fx.NOW + 100 }), 'revocation_data_stale', name);
        eq(e.status, 503);
      }
    },
  ],
  [
    'API keys: create, parse, hash and validate against the record',
    async ({ tg, fx }) => {
      // The edge module checks API keys; creating them is the full module's (the fixtures').
      const { raw, record } = EDGE ? fx.apiKey : tg.apiKey.create({ name: 'ci', owner: 'user-9', scopes: ['deploy:write'], now: fx.NOW });
      ok(/^tgk_[0-9A-Za-z]{49}$/.test(raw), raw);
      eq(tg.apiKey.parse(raw), record.hash);
      eq(tg.apiKey.hash(raw), record.hash);
      const r = tg.apiKey.validate(raw, record, { now: fx.NOW });
      eq([r.kind, r.subject, r.scopes], ['apikey', 'user-9', ['deploy:write']]);
      await rejects(() => tg.apiKey.validate(raw, undefined, { now: fx.NOW }), 'apikey_unknown');
      // A different last character (never the same one, which would change nothing).
      await rejects(() => tg.apiKey.parse(`${raw.slice(0, -1)}${raw.endsWith('x') ? 'y' : 'x'}`), 'apikey_malformed');
      await rejects(() => tg.apiKey.validate(raw, { ...record, state: 'revoked' }, { now: fx.NOW }), 'apikey_revoked');
      const v = new tg.Validator({ keys: jwks(fx.algs.HS256.publicJwk) });
      eq(v.validateApiKey(raw, record, { now: fx.NOW, scope: 'deploy:write' }).subject, 'user-9');
      await rejects(() => v.validateApiKey(raw, record, { now: fx.NOW, scope: 'admin' }), 'insufficient_scope');
      if (!EDGE) ok(tg.apiKey.generate() !== tg.apiKey.generate());
    },
  ],
  [
    'inspect, checkScopes, verifyJws, mint, generateKey and errorCodes',
    async ({ tg, fx }) => {
      const i = tg.inspect(fx.algs.ES256.expired, { now: fx.NOW });
      eq([i.kind, i.status], ['jwt', 'expired']);
      eq(tg.inspect('garbage', { now: fx.NOW }).kind, 'unknown');
      eq(tg.checkScopes('users:* admin', 'users:write and admin'), true);
      await rejects(() => tg.checkScopes(['users:read'], 'users:write'), 'insufficient_scope');
      await rejects(() => tg.checkScopes(['users:*'], 'users:read', 'billing:*'), 'insufficient_scope');
      if (EDGE) {
        // The edge module signs nothing, verifies HMAC itself and leaves ES256 to WebCrypto.
        // Signing is the full module's: an Error that says so, not a bare TypeError.
        let threw;
        try {
          tg.mint(fx.algs.ES256.privateJwk, { hello: 'world' });
        } catch (e) {
          threw = e;
        }
        eq(
          [threw?.constructor === Error, threw?.message],
          [true, "mint is in the full module: import 'tokengate' under Node"],
          'mint on the edge module',
        );
        const out = tg.verifyJws(fx.algs.HS256.token, jwks(fx.algs.HS256.publicJwk));
        eq(JSON.parse(new TextDecoder().decode(out.payload)).sub, 'user-1');
        const e = await rejects(() => tg.verifyJws(fx.algs.ES256.token, jwks(fx.algs.ES256.publicJwk)), 'alg_not_allowed');
        ok(HOST_ONLY.test(e.message), e.message);
      } else {
        const priv = tg.generateKey('ES256', { kid: 'mine' });
        eq([priv.kty, priv.crv, priv.kid, typeof priv.d], ['EC', 'P-256', 'mine', 'string']);
        const pub = tg.publicJwk(priv);
        eq(pub.d, undefined);
        const jws = tg.mint(priv, { hello: 'world' }, { header: { typ: 'example+jws' } });
        const out = tg.verifyJws(jws, jwks(pub));
        eq(out.header.typ, 'example+jws');
        eq(JSON.parse(new TextDecoder().decode(out.payload)), { hello: 'world' });
      }
      const codes = tg.errorCodes();
      ok(codes.length >= 30 && codes.every((c) => typeof c.code === 'string' && c.status >= 400));
      ok(/^\d+\.\d+\.\d+/.test(tg.version()));
      await rejects(() => new tg.Validator({ keys: jwks(fx.algs.HS256.publicJwk), isuser: 'typo' }), 'options_invalid');
      await rejects(() => new tg.Validator({ keys: jwks(fx.algs.HS256.publicJwk), leeway: '60' }), 'options_invalid');
      // Options left undefined are the same as absent.
      eq(
        new tg.Validator({ keys: jwks(fx.algs.HS256.publicJwk), audience: undefined }).validate(fx.algs.HS256.token, { now: fx.NOW })
          .subject,
        'user-1',
      );
      await rejects(() => new tg.Validator({ keys: { keys: [] } }), 'key_invalid');
    },
  ],
];

export default CASES.map(([name, fn]) => [
  name,
  (env) => {
    EDGE = env.edge === true;
    return fn(env);
  },
]);
