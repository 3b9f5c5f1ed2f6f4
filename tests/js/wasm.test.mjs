// The wasm build, exercised from Node through the generated glue: the same decisions as the
// Rust suite, crossing the binding (handles, errors as coded objects, native-path split).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tg from '../../pkg/tokengate.js';
import { NOW, claims as standardClaims } from '../runtime/helpers.mjs';
import { reader, sections } from '../../scripts/single-value.mjs';

tg.initSync({ module: readFileSync(new URL('../../pkg/tokengate_bg.wasm', import.meta.url)) });
const claims = standardClaims({ jti: 't-1', scope: 'users:read' });

function setup(alg) {
  const priv = tg.generateKey(alg, 'k1');
  // An HMAC key has no public half (publicJwk refuses it): its verifier holds the secret itself.
  const verifying = alg.startsWith('HS') ? JSON.parse(priv) : JSON.parse(tg.publicJwk(priv));
  const jwks = JSON.stringify({ keys: [verifying] });
  return { priv, v: new tg.Validator(jwks, { issuer: 'https://issuer.example', audience: 'api' }, 'api') };
}

test('mint and validate in wasm for every algorithm family', () => {
  for (const alg of ['HS256', 'RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'ES256K', 'EdDSA']) {
    const { priv, v } = setup(alg);
    const out = v.validate(tg.mint(priv, JSON.stringify(claims)), NOW);
    assert.equal(out.subject, 'user-1', alg);
    assert.deepEqual(out.scopes, ['users:read']);
    assert.equal(out.alg, alg);
  }
});

test('rejections cross the binding as coded errors with WWW-Authenticate', () => {
  const { priv, v } = setup('ES256');
  const expired = tg.mint(priv, JSON.stringify({ ...claims, exp: NOW - 3600, iat: NOW - 7200 }));
  assert.throws(
    () => v.validate(expired, NOW),
    (e) => e.code === 'token_expired' && e.status === 401 && e.wwwAuthenticate.startsWith('Bearer realm="api", error="invalid_token"'),
  );
  assert.throws(
    () => v.validate('not.a.token', NOW),
    (e) => e.code === 'token_malformed',
  );
  const ctx = new tg.Context();
  ctx.setScope(new tg.ScopeRequirement('admin'));
  assert.throws(
    () => v.validateWith(tg.mint(priv, JSON.stringify(claims)), NOW, ctx),
    (e) => e.code === 'insufficient_scope' && e.status === 403 && e.scope === 'admin',
  );
  assert.throws(
    () => new tg.Validator('{"keys":[]}', {}, 'api'),
    (e) => e.code === 'key_invalid',
  );
});

test('prepare/finish lets the signature run outside wasm with the same decision', () => {
  const { priv, v } = setup('EdDSA');
  const token = tg.mint(priv, JSON.stringify(claims));
  const p = v.prepare(token);
  assert.equal(p.alg, 'EdDSA');
  assert.deepEqual([...p.candidates], [0]);
  assert.equal(new TextDecoder().decode(p.signingInput), token.slice(0, token.lastIndexOf('.')));
  assert.equal(v.verifyCandidate(p, 0), true);
  assert.equal(v.finish(p, 0, NOW, new tg.Context()).subject, 'user-1');
  // A primitive that says "no" yields signature_invalid; claims are never read first.
  assert.throws(
    () => v.finish(v.prepare(token), undefined, NOW, new tg.Context()),
    (e) => e.code === 'signature_invalid',
  );
});

test('revocation handle, API keys and inspection', () => {
  const { priv, v } = setup('HS256');
  const list = new tg.RevocationList(
    JSON.stringify({ schema: 1, version: 7, generated_at: NOW, jti: [{ iss: 'https://issuer.example', jti: 't-1', until: NOW + 600 }] }),
  );
  const ctx = new tg.Context();
  ctx.setRevocations(list);
  assert.throws(
    () => v.validateWith(tg.mint(priv, JSON.stringify(claims)), NOW, ctx),
    (e) => e.code === 'token_revoked',
  );
  assert.equal(list.version, 7);
  const { raw, record } = tg.apiKeyCreate('svc', 'user-9', 'users:read', undefined, undefined, NOW);
  assert.equal(tg.apiKeyParse(raw), record.hash);
  assert.equal(v.validateApiKey(raw, JSON.stringify(record), NOW, new tg.Context()).subject, 'user-9');
  assert.throws(
    () => v.validateApiKey(raw, undefined, NOW, new tg.Context()),
    (e) => e.code === 'apikey_unknown',
  );
  const i = tg.inspect(tg.mint(priv, JSON.stringify(claims)), NOW);
  assert.equal(i.kind, 'jwt');
  assert.equal(i.status, 'active');
  assert.equal(tg.inspect(raw, NOW).kind, 'apikey');
});

/** Each export's number of results, read from the module's type, function and export sections. */
function exportResults(bytes) {
  const results = [];
  const imported = [];
  const defined = [];
  const exports = {};
  for (const { id, body } of sections(bytes)) {
    const r = reader(bytes, body);
    if (id === 1) {
      for (let n = r.u(); n > 0; n--) {
        r.skip(1); // 0x60, a function type
        r.skip(r.u()); // parameters, one byte each (numbers and externref)
        results.push(r.u());
        r.skip(results.at(-1));
      }
    } else if (id === 2) {
      for (let n = r.u(); n > 0; n--) {
        r.skip(r.u()); // module
        r.skip(r.u()); // name
        const kind = bytes[r.at++];
        if (kind === 0) imported.push(r.u());
        else if (kind === 1) (r.skip(1), bytes[r.at++] & 1 ? (r.u(), r.u()) : r.u());
        else if (kind === 2) bytes[r.at++] & 1 ? (r.u(), r.u()) : r.u();
        else r.skip(2);
      }
    } else if (id === 3) {
      for (let n = r.u(); n > 0; n--) defined.push(r.u());
    } else if (id === 7) {
      for (let n = r.u(); n > 0; n--) {
        const length = r.u();
        const name = new TextDecoder().decode(bytes.subarray(r.at, r.at + length));
        r.skip(length);
        const kind = bytes[r.at++];
        const index = r.u();
        if (kind === 0) exports[name] = results[index < imported.length ? imported[index] : defined[index - imported.length]];
      }
    }
  }
  return exports;
}

test('no export returns multiple values (each such signature costs V8 a compiled wrapper)', () => {
  for (const dir of ['pkg', 'pkg-edge']) {
    const exports = exportResults(readFileSync(new URL(`../../${dir}/tokengate_bg.wasm`, import.meta.url)));
    assert.ok(Object.keys(exports).length > 100, dir);
    assert.deepEqual(
      Object.entries(exports).filter(([, n]) => n > 1),
      [],
      dir,
    );
    // The validation calls return one number (no Result handed back through memory).
    for (const name of ['validator_begin', 'validator_complete', 'validator_run', 'validator_finishOut']) {
      assert.equal(exports[name], 1, `${dir} ${name}`);
    }
  }
});
