// The JS boundary under attack: every export, constructor, method and option of the public API
// called with arbitrary JS values in every argument position. The rule: the core never traps. A
// call returns, or throws a `TokengateError` or a `TypeError` (or the error a hostile getter threw
// itself) that was raised in JS before anything reached the wasm glue; never a
// `WebAssembly.RuntimeError`, never a wasm-bindgen internal error, never an exception unwound
// through wasm frames. After the run the same instance still gives the right answers.
//
// Deterministic: TG_BOUNDARY_SEED=<n> replays a run (the seed is printed), TG_BOUNDARY_RUNS=<n>
// sets the number of random combinations, TG_BOUNDARY_FILTER=<regex> keeps only matching calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tg from 'tokengate';
import { ISS, NOW, claims as standardClaims } from '../runtime/helpers.mjs';

Error.stackTraceLimit = 40;

const SEED = Number(process.env.TG_BOUNDARY_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
const RUNS = Number(process.env.TG_BOUNDARY_RUNS ?? 5000);
const FILTER = process.env.TG_BOUNDARY_FILTER ? new RegExp(process.env.TG_BOUNDARY_FILTER) : null;
const TRACE = process.env.TG_BOUNDARY_TRACE === '1'; // print each call before making it
const PROFILE = process.env.TG_BOUNDARY_PROFILE === '1'; // print the slowest values and entries
// Later calls on a trapped instance fail for that reason alone: TG_BOUNDARY_FIRST=1 exits at the
// first trap (printing `TRAP <index> <call>`), TG_BOUNDARY_START=<n> skips the calls before index
// n (run again with the printed index + 1, in a fresh process, to list every trapping call).
const FIRST = process.env.TG_BOUNDARY_FIRST === '1';
const START = Number(process.env.TG_BOUNDARY_START ?? 0);

// ---------------------------------------------------------------------------------------------
// Known-good fixtures.

const priv = tg.generateKey('ES256', { kid: 'k1' });
const hmac = tg.generateKey('HS256', { kid: 'h1' });
const pub = tg.publicJwk(priv);
const jwks = { keys: [pub] };
const claims = standardClaims({ jti: 't-1' });
const good = tg.mint(priv, claims);
const goodHs = tg.mint(hmac, claims);
// Expired long ago and without iat/nbf: valid only for a clock before 2001.
const expired = tg.mint(priv, { iss: ISS, sub: 'user-1', aud: 'api', exp: 1_000_000_000, jti: 't-2' });
const listJson = { schema: 1, version: 3, generated_at: NOW, jti: [{ iss: ISS, jti: 'other', until: NOW + 600 }] };
const list = new tg.RevocationList(listJson);
const revokedList = new tg.RevocationList({ ...listJson, version: 4, jti: [{ iss: ISS, jti: 't-1', until: NOW + 600 }] });
const { raw, record } = tg.apiKey.create({ name: 'svc', owner: 'user-9', scopes: ['users:read'], now: NOW });
const entry = { kind: 'jti', iss: ISS, jti: 't-9', until: NOW + 600 };
const named = [{ name: 'r1', entry }];
const snapshot = tg.revocations.snapshot(named, { prevVersion: 1, now: NOW, source: 's' });
const routes = { protect: '/api/', routes: [{ path: '/api/users/*', method: 'GET', scope: 'users:read' }] };
const router = new tg.Router(routes, { realm: 'api' });
const keyEntry = { status: 'active', created_at: NOW - 100, jwk: pub };
const baseOptions = { keys: jwks, issuer: ISS, audience: 'api' };

const V = new tg.Validator(baseOptions); // native (node:crypto / WebCrypto)
const VC = new tg.Validator({ ...baseOptions, cache: true }); // with the verified-token cache
const VW = new tg.Validator({ ...baseOptions, keys: { keys: [hmac] }, native: false }); // pure wasm
const M = new tg.Validator(baseOptions); // the one whose state the attack changes

const POLICY = {
  algorithms: ['ES256'],
  issuer: ISS,
  audience: ['api'],
  subject: 'user-1',
  typ: 'JWT',
  tokenTypeClaim: 'type',
  tokenTypes: 'access',
  requireExp: true,
  leeway: 60,
  maxLifetime: 3600,
  maxAge: 3600,
  requiredClaims: ['sub'],
  claimValues: { sub: 'user-1' },
  requireJti: true,
  maxTokenBytes: 8192,
  maxJsonDepth: 16,
  crit: [],
  scope: 'users:read',
  scopeClaims: ['scope'],
  maxRevocationAge: 3600,
};
const POLICY_KEYS = Object.keys(POLICY);

// ---------------------------------------------------------------------------------------------
// Hostile values.

class Hostile extends Error {}
const boom = () => {
  throw new Hostile('hostile getter');
};
const throwingProxy = new Proxy(
  {},
  { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, getPrototypeOf: boom, set: boom, defineProperty: boom },
);
const { proxy: revoked, revoke } = Proxy.revocable({}, {});
revoke();
const nested = (depth, leaf, wrap) => {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = wrap(v);
  return v;
};
const circular = { a: 1 };
circular.self = circular;
const circularArray = [];
circularArray.push(circularArray);
const protoKey = JSON.parse('{"__proto__": {"polluted": true}, "kty": "EC"}');
const protoKeyScopes = JSON.parse('{"__proto__": ["admin"]}');
const MB = 'a'.repeat(1 << 20);
const MB_WIDE = '\u00e9'.repeat(1 << 19);
const dense = Array.from({ length: 100_000 }, (_, i) => `s${i}`);
const sparseHuge = new Array(2 ** 32 - 1);
sparseHuge[7] = 'users:read';

// Values that call back into the same validator while the library reads them.
const reenterString = {
  toString() {
    V.validate(good, { now: NOW });
    return 'users:read';
  },
};
const reenterGetter = {
  get now() {
    V.validate(good, { now: NOW });
    return NOW;
  },
  get scope() {
    VC.validate(good, { now: NOW, grants: 'users:read' });
    return 'users:read';
  },
};

// Values that cost milliseconds per call: tried in every argument position, not in every option.
const HEAVY = { heavy: true };
const HOSTILE = [
  ['undefined', undefined],
  ['null', null],
  ['true', true],
  ['false', false],
  ['0', 0],
  ['-0', -0],
  ['1', 1],
  ['-1', -1],
  ['0.5', 0.5],
  ['-2.5', -2.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['2**53', 2 ** 53],
  ['2**32', 2 ** 32],
  ['2**31', 2 ** 31],
  ['1e308', 1e308],
  ['-1e308', -1e308],
  ['MIN_VALUE', Number.MIN_VALUE],
  ['0n', 0n],
  ['-1n', -1n],
  ['2n**64n', 2n ** 64n],
  ['Symbol()', Symbol('hostile')],
  ['Symbol.iterator', Symbol.iterator],
  ['""', ''],
  ['" "', ' '],
  ['"a"', 'a'],
  ['1 MB ASCII', MB, HEAVY],
  ['1 MB non-ASCII', MB_WIDE, HEAVY],
  ['lone high surrogate', '\uD800'],
  ['lone low surrogate', 'x\uDC00y'],
  ['NUL', 'a\u0000b'],
  ['Latin-1 bytes', '\xff\xfe\xc3\x28'],
  ['U+FFFD', '\uFFFD\uFFFF'],
  ['emoji', '\u{1F600}'],
  ['"[object Object]"', '[object Object]'],
  ['"null"', 'null'],
  ['"{}"', '{}'],
  ['"[]"', '[]'],
  ['JSON keys text', '{"keys":[]}'],
  ['"1800000000"', '1800000000'],
  ['"__proto__"', '__proto__'],
  ['scope text', 'users:read'],
  ['[]', []],
  ['[[]]', [[]]],
  ['nested array 10000', nested(10_000, 'x', (v) => [v])],
  ['nested object 10000', nested(10_000, 'x', (v) => ({ a: v }))],
  ['sparse [, "a"]', [, 'a']], // eslint-disable-line no-sparse-arrays
  ['sparse length 2**32-1', sparseHuge],
  ['array of 100k strings', dense, HEAVY],
  ['["a", 1]', ['a', 1]],
  ['[null]', [null]],
  ['[undefined]', [undefined]],
  ['[Symbol]', [Symbol('x')]],
  ['[{}]', [{}]],
  ['[Object.prototype]', [Object.prototype]],
  ['array with throwing index getter', Object.defineProperty(['a', 'b'], 0, { get: boom })],
  ['array-like length 2**32-1', { length: 2 ** 32 - 1 }],
  ['array-like length -1', { length: -1, 0: 'a' }],
  ['{}', {}],
  ['Object.prototype', Object.prototype],
  ['Object.create(null)', Object.create(null)],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['throwing getters', { get keys() { return boom(); }, get now() { return boom(); }, get scope() { return boom(); }, get grants() { return boom(); }, get kty() { return boom(); } }], // prettier-ignore
  ['throwing toString', { toString: boom }],
  ['throwing valueOf', { valueOf: boom }],
  ['throwing toJSON', { toJSON: boom }],
  ['throwing toPrimitive', { [Symbol.toPrimitive]: boom }],
  ['toString -> text', { toString: () => 'users:read' }],
  ['valueOf -> NOW', { valueOf: () => NOW }],
  ['toJSON -> undefined', { toJSON: () => undefined }],
  ['toJSON -> JWKS', { toJSON: () => jwks }],
  ['toPrimitive -> 0', { [Symbol.toPrimitive]: () => 0 }],
  ['Proxy throwing every trap', throwingProxy],
  ['Proxy returning Object.prototype', new Proxy({}, { get: () => Object.prototype })],
  ['Proxy over an array', new Proxy(['users:read'], {})],
  ['Proxy over a JWKS', new Proxy(jwks, {})],
  ['revoked Proxy', revoked],
  ['arrow function', () => 'users:read'],
  ['async function', async () => {}],
  ['class', class {}],
  ['function with keys', Object.assign(function f() {}, { keys: [pub] })],
  ['Date(0)', new Date(0)],
  ['Date(NaN)', new Date(NaN)],
  ['RegExp', /users:read/],
  ['Map', new Map([['keys', []]])],
  ['Set', new Set(['users:read'])],
  ['WeakMap', new WeakMap()],
  ['Promise', Promise.resolve('users:read')],
  ['Error', new Error('x')],
  ['Uint8Array(0)', new Uint8Array(0)],
  ['Uint8Array(32)', new Uint8Array(32).fill(0x41)],
  ['Float64Array([NaN])', new Float64Array([NaN])],
  ['ArrayBuffer', new ArrayBuffer(16)],
  ['DataView', new DataView(new ArrayBuffer(4))],
  ['Buffer', Buffer.from('users:read')],
  ['__proto__ key (JSON.parse)', protoKey],
  ['__proto__ scopes', protoKeyScopes],
  ['{ __proto__: null, kty }', { __proto__: null, kty: 'EC' }],
  ['new String', new String('users:read')],
  ['new Number', new Number(NOW)],
  ['new Boolean(false)', new Boolean(false)],
  ['Object(1n)', Object(1n)],
  ['Object(Symbol())', Object(Symbol('boxed'))],
  ['circular object', circular],
  ['circular array', circularArray],
  ['frozen object', Object.freeze({ kty: 'EC', crv: 'P-256' })],
  ['core-error lookalike', { code: 'token_expired', status: 401, message: 'x' }],
  ['wasm-handle lookalike', { __wbg_ptr: 0 }],
  ['wasm-handle lookalike 2**31', { __wbg_ptr: 2 ** 31 }],
  ['forged RevocationList', Object.create(tg.RevocationList.prototype)],
  ['forged RevocationList with _h', Object.assign(Object.create(tg.RevocationList.prototype), { _h: { __wbg_ptr: 8 } })],
  ['forged Validator', Object.create(tg.Validator.prototype)],
  ['real RevocationList', list],
  ['real Validator', V],
  ['TokengateError', new tg.TokengateError({ code: 'token_expired', status: 401, message: 'x' })],
  ['re-entering toString', reenterString],
  ['re-entering getters', reenterGetter],
  ['JWK with Proxy member', { kty: 'EC', crv: new Proxy({}, { get: boom }), x: pub.x, y: pub.y }],
  ['JWKS with a throwing getter', { get keys() { return boom(); } }], // prettier-ignore
];
const HOSTILE_FLAGS = new Map(HOSTILE.map(([l, , flags]) => [l, flags]));
const LIGHT = HOSTILE.filter(([, , flags]) => !flags?.heavy);

// ---------------------------------------------------------------------------------------------
// The public API: every entry with the known-good value of each argument and the paths inside
// it (dotted, for option objects and JSON inputs) that the attack replaces.

const A = (good, paths = []) => ({ good, paths });
const CALL_OPTS = A({ now: NOW, scope: 'users:read', grants: 'users:read billing:read', revocations: list }, [
  'now',
  'scope',
  'grants',
  'revocations',
  'revocations.version',
  'revocations.jti',
  'bogus',
]);
const JWKS = A(jwks, ['keys', 'keys.0', 'keys.0.kty', 'keys.0.crv', 'keys.0.x', 'keys.0.y', 'keys.0.kid', 'keys.0.alg', 'keys.0.use']);
const LIST = A(listJson, [
  'schema',
  'version',
  'generated_at',
  'jti',
  'jti.0',
  'jti.0.iss',
  'jti.0.jti',
  'jti.0.until',
  'subjects',
  'apikeys',
]);
const RECORD = A(record, ['id', 'hash', 'name', 'owner', 'scopes', 'scopes.0', 'created_at', 'expires_at', 'state', 'revoked_at']);
const PRIV = A(priv, ['kty', 'crv', 'd', 'x', 'y', 'kid', 'alg']);
// HMAC where the key type does not matter to the boundary: signing and verifying take microseconds.
const SECRET = A(hmac, ['kty', 'k', 'kid', 'alg']);
const SECRETS = A({ keys: [hmac] }, ['keys', 'keys.0', 'keys.0.kty', 'keys.0.k', 'keys.0.kid', 'keys.0.alg']);
const TOKEN = A(good);

const API = [
  [
    'new Validator',
    [
      A({ ...baseOptions, ...POLICY, keys: { keys: [hmac] }, algorithms: ['HS256'] }, [
        ...POLICY_KEYS,
        'keys',
        'keys.keys',
        'revocations',
        'grants',
        'realm',
        'cache',
        'native',
        'bogus',
      ]),
    ],
    (o) => new tg.Validator(o),
  ],
  [
    'new Validator (cache)',
    [A({ ...baseOptions, cache: { size: 10, failureTtl: 5 } }, ['cache.size', 'cache.failureTtl'])],
    (o) => new tg.Validator(o),
  ],
  ['Validator#setKeys', [JWKS], (k) => M.setKeys(k)],
  ['Validator#setRevocations', [LIST], (l) => M.setRevocations(l)],
  ['Validator#setGrants', [A('users:read')], (g) => M.setGrants(g)],
  ['Validator#cacheStats', [A(undefined)], (x) => VC.cacheStats(x)],
  ['Validator#validate', [TOKEN, CALL_OPTS], (t, o) => V.validate(t, o)],
  ['Validator#validate (cache)', [TOKEN, CALL_OPTS], (t, o) => VC.validate(t, o)],
  ['Validator#validate (wasm)', [A(goodHs), CALL_OPTS], (t, o) => VW.validate(t, o)],
  ['Validator#validateAsync', [TOKEN, CALL_OPTS], (t, o) => V.validateAsync(t, o)],
  ['Validator#validateAsync (cache)', [TOKEN, CALL_OPTS], (t, o) => VC.validateAsync(t, o)],
  ['Validator#validateApiKey', [A(raw), RECORD, CALL_OPTS], (r, rec, o) => V.validateApiKey(r, rec, o)],
  ['new RevocationList', [LIST], (l) => new tg.RevocationList(l)],
  ['RevocationList#pruned', [A(NOW)], (n) => list.pruned(n)],
  ['RevocationList#toJSON', [A(undefined)], (x) => list.toJSON(x)],
  ['peekIssuer', [TOKEN], (t) => tg.peekIssuer(t)],
  ['peekClaims', [TOKEN, A(['sub', 'iss'], ['0', '1'])], (t, n) => tg.peekClaims(t, n)],
  [
    'chooseIssuer',
    [TOKEN, A([ISS, 'https://b.example'], ['0', '1']), A({ realm: 'api' }, ['realm'])],
    (t, n, o) => tg.chooseIssuer(t, n, o),
  ],
  ['inspect', [TOKEN, A({ now: NOW, refreshThreshold: 300 }, ['now', 'refreshThreshold'])], (t, o) => tg.inspect(t, o)],
  ['checkScopes', [A(['users:read', 'billing:read'], ['0']), A('users:read'), A('users:read')], (g, r, x) => tg.checkScopes(g, r, x)],
  ['verifyJws', [A(goodHs), SECRETS, A({ algorithms: ['HS256'] }, POLICY_KEYS)], (t, k, o) => tg.verifyJws(t, k, o)],
  [
    'mint',
    [SECRET, A(claims, ['iss', 'exp', 'scope']), A({ header: { cty: 'x' } }, ['header', 'header.alg', 'header.kid', 'header.crit'])],
    (k, c, o) => tg.mint(k, c, o),
  ],
  ['generateKey', [A('ES256'), A({ kid: 'k2' }, ['kid', 'rsaBits'])], (a, o) => tg.generateKey(a, o)],
  // Only the rsaBits member, and no absent value: a call that reached key generation takes seconds.
  [
    'generateKey (RSA bits)',
    [A({ rsaBits: 1 }, ['rsaBits'])],
    (o) => tg.generateKey('RS256', o),
    { random: false, whole: false, bare: false, skip: ['undefined', 'null'], goodFails: true },
  ],
  ['publicJwk', [PRIV], (k) => tg.publicJwk(k)],
  ['apiKey.generate', [A(undefined)], (x) => tg.apiKey.generate(x)],
  ['apiKey.hash', [A(raw)], (r) => tg.apiKey.hash(r)],
  ['apiKey.parse', [A(raw)], (r) => tg.apiKey.parse(r)],
  [
    'apiKey.create',
    [A({ name: 'n', owner: 'o', scopes: ['users:read'], ttl: 3600, maxTtl: 7200, description: 'd', now: NOW }, ['name', 'owner', 'scopes', 'scopes.0', 'ttl', 'maxTtl', 'description', 'now'])], // prettier-ignore
    (s) => tg.apiKey.create(s),
  ],
  ['apiKey.validate', [A(raw), RECORD, A({ now: NOW }, ['now'])], (r, rec, o) => tg.apiKey.validate(r, rec, o)],
  ['apiKey.rotate', [RECORD, A({ now: NOW }, ['now'])], (rec, o) => tg.apiKey.rotate(rec, o)],
  ['apiKey.revoke', [RECORD, A({ now: NOW, purge: false }, ['now', 'purge'])], (rec, o) => tg.apiKey.revoke(rec, o)],
  ['apiKey.state', [RECORD, A({ now: NOW }, ['now'])], (rec, o) => tg.apiKey.state(rec, o)],
  ['revocations.entry', [A(entry, ['kind', 'iss', 'jti', 'until'])], (e) => tg.revocations.entry(e)],
  [
    'revocations.snapshot',
    [
      A([{ name: 'r1', entry }], ['0', '0.name', '0.entry', '0.entry.until']),
      A({ prevVersion: 1, now: NOW, source: 's' }, ['prevVersion', 'now', 'source']),
    ],
    (e, o) => tg.revocations.snapshot(e, o),
  ],
  ['lifecycle.lifetimes', [A({ leeway: 60, maxLifetime: 3600 }, ['leeway', 'maxLifetime', 'bogus'])], (p) => tg.lifecycle.lifetimes(p)],
  [
    'lifecycle.until',
    [A({ leeway: 60 }, ['leeway', 'maxLifetime']), A({ kind: 'token', exp: NOW + 600, now: NOW }, ['kind', 'exp', 'now'])],
    (p, w) => tg.lifecycle.until(p, w),
  ],
  ['lifecycle.storedEntry', [A(entry, ['kind', 'iss', 'jti', 'until'])], (e) => tg.lifecycle.storedEntry(e)],
  [
    'lifecycle.effectiveRevocations',
    [
      A(JSON.stringify(snapshot)),
      A(named, ['0', '0.name', '0.entry', '0.entry.until']),
      A({ source: snapshot.source, now: NOW }, ['source', 'now']),
    ],
    (s, e, o) => tg.lifecycle.effectiveRevocations(s, e, o),
  ],
  [
    'lifecycle.uncoveredRevocations',
    [A(snapshot, ['version', 'jti', 'jti.0', 'jti.0.until']), A(named, ['0', '0.name', '0.entry'])],
    (d, e) => tg.lifecycle.uncoveredRevocations(d, e),
  ],
  ['lifecycle.nextVersion', [A(3), A(NOW)], (p, n) => tg.lifecycle.nextVersion(p, n)],
  ['lifecycle.checkApiKeyRecord', [RECORD], (r) => tg.lifecycle.checkApiKeyRecord(r)],
  [
    'new Router',
    [
      A(routes, ['protect', 'routes', 'routes.0', 'routes.0.path', 'routes.0.method', 'routes.0.scope', 'allowUnicodePaths']),
      A({ realm: 'api' }, ['realm']),
    ],
    (c, o) => new tg.Router(c, o),
  ],
  ['Router#decide', [A('GET'), A('/api/users/1')], (m, p) => router.decide(m, p)],
  [
    'workerConfig',
    [
      A({ issuers: [{ issuer: ISS, jwks: 'jwks' }] }, [
        'issuers',
        'issuers.0',
        'issuers.0.issuer',
        'issuers.0.jwks',
        'realm',
        'routes',
        'cacheTtl',
        'credentials',
      ]),
    ],
    (c) => tg.workerConfig(c),
  ],
  ['rotation.entry', [A(keyEntry, ['status', 'created_at', 'retired_at', 'jwk', 'jwk.kid', 'jwk.x'])], (e) => tg.rotation.entry(e)],
  [
    'rotation.plan',
    [
      A([keyEntry], ['0', '0.status', '0.created_at', '0.jwk']),
      A({ now: NOW, rotationDays: 30, maxActive: 3 }, ['now', 'rotationDays', 'maxActive', 'maxAge']),
      A({ leeway: 60 }, ['leeway', 'maxLifetime']),
    ],
    (e, s, p) => tg.rotation.plan(e, s, p),
  ],
  ['rejection', [A('invalid_request'), A('m'), A({ realm: 'api' }, ['realm'])], (c, m, o) => tg.rejection(c, m, o)],
  ['bareChallenge', [A('api')], (r) => tg.bareChallenge(r)],
  ['relativeTime', [A(90)], (s) => tg.relativeTime(s)],
  ['new Validator (API keys only)', [A({ keys: null, issuer: ISS }, ['keys', 'issuer', 'realm', 'cache'])], (o) => new tg.Validator(o)],
  ['parseScopes', [A('users:read users:*')], (s) => tg.parseScopes(s)],
  ['sourceDigest', [A(['a', 'b'], ['0', '1'])], (i) => tg.sourceDigest(i)],
  ['errorCodes', [A(undefined)], (x) => tg.errorCodes(x)],
  ['version', [A(undefined)], (x) => tg.version(x)],
  ['new TokengateError', [A({ code: 'token_expired', status: 401, message: 'm' }, ['code', 'status'])], (e) => new tg.TokengateError(e)],
];

/** A copy of `base` with `path` set to `value` (plain data only; arrays and objects cloned). */
function withPath(base, path, value) {
  const parts = path.split('.');
  const root = Array.isArray(base) ? [...base] : { ...base };
  let node = root;
  for (const [i, p] of parts.entries()) {
    if (i === parts.length - 1) {
      // defineProperty: a "__proto__" or "bogus" key becomes an own property, as JSON.parse makes it.
      Object.defineProperty(node, p, { value, enumerable: true, writable: true, configurable: true });
    } else {
      let copy = {};
      try {
        const child = node[p];
        // (A hostile 2**32-1 slot array set by an earlier path is not spread: it would exhaust the heap.)
        if (Array.isArray(child)) copy = child.length <= dense.length ? [...child] : [];
        else if (child && typeof child === 'object') copy = { ...child };
      } catch {
        // a hostile value set by an earlier path: replace it
      }
      node[p] = copy;
      node = node[p];
    }
  }
  return root;
}

// ---------------------------------------------------------------------------------------------
// The verdict on one call.

const CODES = new Set(tg.errorCodes().map((c) => c.code));
const INTERNAL =
  /unreachable|memory access out of bounds|out of bounds memory|recursive use of an object|null pointer passed to rust|already (mutably )?borrowed|attempted to take ownership|unwrap_throw|expected a string argument|Maximum call stack/i;

function describe(v) {
  try {
    if (v instanceof Error) return `${v.name}: ${v.message}`;
    return typeof v === 'object' && v !== null ? `object ${JSON.stringify(v)?.slice(0, 200)}` : `${typeof v} ${String(v)}`;
  } catch {
    return typeof v;
  }
}

/** Null when the throw is a normal error; otherwise why it is not. */
function verdict(e) {
  if (e instanceof WebAssembly.RuntimeError) return `WebAssembly.RuntimeError: ${e.message}`;
  if (e instanceof tg.TokengateError) {
    if (!CODES.has(e.code) || typeof e.status !== 'number' || typeof e.wwwAuthenticate !== 'string') {
      return `malformed TokengateError ${describe(e)}`;
    }
    return null;
  }
  if (!(e instanceof Error)) return `threw a non-Error: ${describe(e)}`;
  const stack = String(e.stack);
  if (INTERNAL.test(e.message)) return `internal error ${e.name}: ${e.message}`;
  if (/wasm:\/\/|wasm-function/.test(stack)) return `${e.name} unwound through wasm frames: ${e.message}`;
  // A type mismatch found by the generated glue means the value crossed the boundary unchecked.
  if (/\/pkg\/tokengate\.js:/.test(stack)) return `${e.name} inside the wasm-bindgen glue: ${e.message}`;
  if (e instanceof TypeError || e instanceof Hostile) return null;
  return `unexpected ${e.name}: ${e.message}`;
}

const stats = { calls: 0, returned: 0, coded: 0, typeErrors: 0, hostile: 0 };
const failures = new Map();

let seq = 0;

async function attempt(label, fn) {
  const index = seq++;
  if (index < START || (FILTER && !FILTER.test(label))) return;
  stats.calls++;
  if (TRACE) process.stderr.write(`${label}\n`);
  const t0 = PROFILE ? performance.now() : 0;
  try {
    let r = fn();
    if (r instanceof Promise) r = await r;
    stats.returned++;
  } catch (e) {
    const why = verdict(e);
    if (why) {
      if (FIRST) {
        const trap = e instanceof WebAssembly.RuntimeError || INTERNAL.test(e?.message) || /wasm:\/\//.test(e?.stack);
        console.log(`${trap ? 'TRAP' : 'FAILURE'} ${index} ${label}: ${why}`);
        if (trap) process.exit(3);
      }
      if (!failures.has(why)) failures.set(why, []);
      failures.get(why).push(label);
    } else if (e instanceof tg.TokengateError) stats.coded++;
    else if (e instanceof Hostile) stats.hostile++;
    else stats.typeErrors++;
  }
  if (PROFILE) {
    const key = label.match(/= (.*)\)$/)?.[1] ?? label.split('(')[0];
    profile.set(key, (profile.get(key) ?? 0) + performance.now() - t0);
  }
}

const profile = new Map();
process.on('exit', () => {
  if (!PROFILE) return;
  const top = [...profile].sort((a, b) => b[1] - a[1]).slice(0, 15);
  for (const [k, ms] of top) console.log(`# profile ${Math.round(ms)} ms ${k}`);
});

function report() {
  const lines = [];
  for (const [why, labels] of failures) {
    lines.push(`${why} (${labels.length} calls), e.g.:`);
    for (const l of labels.slice(0, 12)) lines.push(`    ${l}`);
  }
  return lines.join('\n');
}

/** The instance is not poisoned: known-good calls still give the right answers. */
async function stillDecides() {
  assert.equal(V.validate(good, { now: NOW, scope: 'users:read' }).subject, 'user-1');
  assert.equal((await V.validateAsync(good, { now: NOW, scope: 'users:read' })).subject, 'user-1');
  assert.equal(VC.validate(good, { now: NOW }).subject, 'user-1');
  assert.equal(VW.validate(goodHs, { now: NOW }).subject, 'user-1');
  assert.throws(
    () => V.validate(expired, { now: NOW }),
    (e) => e instanceof tg.TokengateError && e.code === 'token_expired',
  );
  assert.throws(
    () => V.validate(good, { now: NOW, revocations: revokedList }),
    (e) => e.code === 'token_revoked',
  );
  assert.throws(
    () => V.validate(good, { now: NOW, scope: 'admin' }),
    (e) => e.code === 'insufficient_scope' && e.status === 403,
  );
  assert.deepEqual(V.validate(good, { now: NOW, grants: ['users:read'] }).scopes, ['users:read']);
  M.setKeys(jwks);
  M.setRevocations(list);
  M.setGrants('users:read billing:read');
  assert.equal(M.validate(good, { now: NOW }).subject, 'user-1');
  const fresh = new tg.Validator({ ...baseOptions, ...POLICY, tokenTypes: undefined, cache: true });
  assert.equal(fresh.validate(good, { now: NOW }).subject, 'user-1');
  assert.equal(tg.apiKey.validate(raw, record, { now: NOW }).subject, 'user-9');
  assert.equal(V.validateApiKey(raw, record, { now: NOW }).subject, 'user-9');
  assert.equal(tg.checkScopes('users:read', 'users:read or admin'), true);
  assert.equal(tg.peekIssuer(good), ISS);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(tg.verifyJws(good, jwks).payload)), claims);
  assert.equal(tg.inspect(good, { now: NOW }).status, 'active');
}

// ---------------------------------------------------------------------------------------------

test('the known-good arguments of every entry are accepted (so the attack reaches past them)', async () => {
  for (const [name, args, fn, flags = {}] of API) {
    if (flags.goodFails) continue;
    await assert.doesNotReject(async () => fn(...args.map((a) => a.good)), name);
  }
});

test(`every argument position and option with every hostile value (seed ${SEED})`, async (t) => {
  const started = Date.now();
  for (const [name, args, fn, flags = {}] of API) {
    const entryStarted = Date.now();
    for (const [i, arg] of args.entries()) {
      const goods = args.map((a) => a.good);
      for (const [hl, hv] of HOSTILE) {
        if (flags.skip?.includes(hl)) continue;
        const whole = [...goods];
        whole[i] = hv;
        if (flags.whole !== false) await attempt(`${name}(arg ${i} = ${hl})`, () => fn(...whole));
        for (const path of HOSTILE_FLAGS.get(hl)?.heavy ? [] : arg.paths) {
          const partial = [...goods];
          partial[i] = withPath(arg.good, path, hv);
          await attempt(`${name}(arg ${i}.${path} = ${hl})`, () => fn(...partial));
        }
      }
    }
    // Missing and extra arguments.
    if (flags.bare !== false) await attempt(`${name}()`, () => fn());
    await attempt(`${name}(...goods, extra)`, () => fn(...args.map((a) => a.good), Object.prototype, NaN));
    if (Date.now() - entryStarted > 1000) t.diagnostic(`${name}: ${Date.now() - entryStarted} ms`);
  }
  t.diagnostic(`hand table: ${stats.calls} calls in ${Date.now() - started} ms`);
  assert.equal(failures.size, 0, `calls that trapped or broke the boundary:\n${report()}`);
  await stillDecides();
});

// A small seeded PRNG (mulberry32): the same seed gives the same calls.
function prng(seed) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

test(`random combinations (seed ${SEED}, TG_BOUNDARY_SEED to replay)`, async (t) => {
  const rnd = prng(SEED);
  const pick = (a) => a[Math.floor(rnd() * a.length)];
  const KEYS = [
    'keys',
    'kty',
    'now',
    'scope',
    'grants',
    'length',
    '0',
    'toJSON',
    'toString',
    '__proto__',
    'code',
    'status',
    'jti',
    'until',
  ];
  const randomString = () => {
    const n = Math.floor(rnd() * 12);
    let s = '';
    for (let i = 0; i < n; i++)
      s += String.fromCharCode(pick([0, 0x20, 0x2e, 0x41, 0x7f, 0xe9, 0xd800, 0xdc00, 0xfffe, Math.floor(rnd() * 0x10000)]));
    return pick([s, `eyJ${s}.eyJ${s}.${s}`, `tgk_${s}`, `users:${s}`]);
  };
  const value = (depth = 0) => {
    const r = rnd();
    if (r < 0.45 || depth > 2) return pick(r < 0.01 ? HOSTILE : LIGHT)[1];
    if (r < 0.55) return pick([Math.floor(rnd() * 2 ** 40) - 2 ** 39, rnd() * 1e6, -rnd(), NOW + Math.floor(rnd() * 1e4)]);
    if (r < 0.7) return randomString();
    if (r < 0.85) return Array.from({ length: Math.floor(rnd() * 4) }, () => value(depth + 1));
    const o = {};
    for (let i = Math.floor(rnd() * 4); i > 0; i--) {
      const k = pick(KEYS);
      const v = value(depth + 1);
      if (!Object.hasOwn(o, k)) Object.defineProperty(o, k, { value: v, enumerable: true });
    }
    return o;
  };
  const entries = API.filter((e) => e[3]?.random !== false);
  const before = stats.calls;
  const started = Date.now();
  for (let run = 0; run < RUNS; run++) {
    const [name, args, fn] = pick(entries);
    const labels = [];
    const values = args.map((a, i) => {
      const r = rnd();
      if (r < 0.35) return a.good;
      if (r < 0.65 || a.paths.length === 0) {
        labels.push(`arg ${i}`);
        return value();
      }
      let v = a.good;
      for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
        const path = pick(a.paths);
        labels.push(`arg ${i}.${path}`);
        v = withPath(v, path, value());
      }
      return v;
    });
    await attempt(`${name} run ${run} (${labels.join(', ') || 'all good'})`, () => fn(...values));
  }
  t.diagnostic(`random: ${stats.calls - before} calls (seed ${SEED}) in ${Date.now() - started} ms`);
  assert.equal(failures.size, 0, `calls that trapped or broke the boundary (seed ${SEED}):\n${report()}`);
  await stillDecides();
});

test('validateAsync only ever rejects: a wrong receiver too', async () => {
  let p;
  assert.doesNotThrow(() => (p = tg.Validator.prototype.validateAsync.call({}, good, { now: NOW })));
  await assert.rejects(p, TypeError);
});

test('a wrong type is an error, never a decision', async () => {
  // The code the core gives for a wrong value there (or the error a hostile getter threw itself).
  const code = (c) => (e) => (e instanceof tg.TokengateError && e.code === c) || e instanceof Hostile;
  const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);
  // Not `every`: it would visit all 2**32-1 slots of a sparse array, and a getter may throw.
  const allStrings = (v) => {
    try {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
      return true;
    } catch {
      return false;
    }
  };
  const isScopes = (v) => typeof v === 'string' || allStrings(v);
  for (const [label, v] of HOSTILE) {
    // A clock that is not a finite number must not turn an expired token into a valid one.
    if (!isNumber(v) && v !== undefined && v !== null) {
      for (const val of [V, VC, VW]) {
        assert.throws(() => val.validate(expired, { now: v }), code('options_invalid'), `now = ${label}`);
      }
      await assert.rejects(V.validateAsync(expired, { now: v }), code('options_invalid'), `async now = ${label}`);
      assert.throws(() => tg.apiKey.validate(raw, record, { now: v }), code('options_invalid'), `apiKey now = ${label}`);
    }
    if (!isScopes(v) && v !== undefined) {
      // Grants and scope requirements: a string or an array of strings, nothing coerced.
      assert.throws(() => V.validate(good, { now: NOW, grants: v }), code('scope_invalid'), `grants = ${label}`);
      assert.throws(() => M.setGrants(v), code('scope_invalid'), `setGrants(${label})`);
      if (v !== null) assert.throws(() => V.validate(good, { now: NOW, scope: v }), code('scope_invalid'), `scope = ${label}`);
      assert.throws(() => tg.checkScopes(v, 'users:read'), code('scope_invalid'), `checkScopes(${label})`);
    }
    if (typeof v !== 'string') {
      assert.throws(() => V.validate(v, { now: NOW }), code('token_malformed'), `token = ${label}`);
      assert.throws(() => tg.peekIssuer(v), code('token_malformed'), `peekIssuer(${label})`);
      assert.throws(() => V.validateApiKey(v, record, { now: NOW }), code('apikey_malformed'), `api key = ${label}`);
    }
    if (!allStrings(v)) {
      assert.throws(() => tg.peekClaims(good, v), code('options_invalid'), `peekClaims names = ${label}`);
    }
    if (typeof v !== 'boolean' && v !== undefined) {
      assert.throws(() => tg.apiKey.revoke(record, { now: NOW, purge: v }), code('options_invalid'), `purge = ${label}`);
      assert.throws(() => new tg.Validator({ ...baseOptions, native: v }), code('options_invalid'), `native = ${label}`);
    }
  }
  // Errors raised at the boundary look like the core's: status, OAuth error, header.
  assert.throws(
    () => V.validate(good, { now: NOW, grants: Object.prototype }),
    (e) =>
      e.status === 500 &&
      e.oauthError === 'server_error' &&
      e.wwwAuthenticate.startsWith('Bearer realm="api", error="server_error", error_description="'),
  );
  assert.throws(
    () => V.validate(undefined),
    (e) => e.status === 401 && e.wwwAuthenticate.startsWith('Bearer realm="api", error="invalid_token"'),
  );
  // undefined members are absent, as in JSON; NaN is not silently null.
  assert.equal(new tg.Validator({ ...baseOptions, leeway: undefined }).validate(good, { now: NOW }).subject, 'user-1');
  assert.throws(() => new tg.Validator({ ...baseOptions, issuer: NaN }), code('options_invalid'));
  assert.throws(() => new tg.Validator({ ...baseOptions, maxLifetime: Infinity }), code('options_invalid'));
  // A "__proto__" own key in policy JSON is an unknown option, not a prototype.
  assert.throws(() => new tg.Validator({ ...baseOptions, ...JSON.parse('{"__proto__": {"issuer": "x"}}') }), code('options_invalid'));
  await stillDecides();
});
