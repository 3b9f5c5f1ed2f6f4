// Validator options given as a JS object (read with serde-wasm-bindgen, then held to the core's
// options schema as JSON): the values accepted and the refusals, word for word, in both modules.
// A cyclic object, which overflowed the wasm stack, is a refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const jwks = JSON.stringify({ keys: [{ kty: 'oct', k: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', alg: 'HS256' }] });
const cyclic = { issuer: 'a' };
cyclic.self = cyclic;
let deep = {};
for (let i = 0; i < 70; i++) deep = { a: deep };
const expectSeq = 'invalid type: null, expected a sequence';
const oneOrMany = 'data did not match any variant of untagged enum OneOrMany';
const any = 'expected any valid JSON value';
const shapes = [
  [{ leeway: undefined }, null],
  [{ leeway: null }, null],
  [{ requiredClaims: undefined }, expectSeq],
  [{ leeway: 1.5 }, 'invalid type: floating point `1.5`, expected u64'],
  [{ leeway: NaN }, null],
  [{ leeway: 60n }, null],
  [{ leeway: 2n ** 64n }, "Error: Couldn't deserialize i64 or u64 from a BigInt outside i64::MIN..u64::MAX bounds"],
  [{ claimValues: new Map([['tenant', 'acme']]) }, null],
  [{ claimValues: new Map([[1, 'a']]) }, 'Error: invalid type: floating point `1.0`, expected a string key'],
  [
    {
      claimValues: new Map([
        ['a', 1],
        [2, 'b'],
      ]),
    },
    'Error: invalid type: floating point `2.0`, expected a string',
  ],
  [{ claimValues: new Map([[1e-7, 'a']]) }, 'Error: invalid type: floating point `0.0000001`, expected a string key'],
  [{ claimValues: new Map([[-1.5e21, 'a']]) }, 'Error: invalid type: floating point `-1500000000000000000000.0`, expected a string key'],
  [{ claimValues: new Map([[true, 'a']]) }, 'Error: invalid type: boolean `true`, expected a string key'],
  [{ audience: new Set(['a']) }, `Error: invalid type: JsValue(Set), ${any}`],
  [{ audience: new Uint8Array([1]) }, `Error: invalid type: byte array, ${any}`],
  [{ audience: () => 1 }, `Error: invalid type: JsValue(Function(audience)), ${any}`],
  [{ audience: Symbol('s') }, `Error: invalid type: JsValue(Symbol(s)), ${any}`],
  [{ audience: new Date(0) }, oneOrMany],
  [{ audience: new String('x') }, `Error: invalid type: JsValue(String), ${any}`],
  [{ audience: [, 'a'] }, oneOrMany],
  // An array is not the options object (serde's derive used to read one by position).
  [[1], 'invalid type: sequence, expected struct PolicyInput'],
  ['x', 'invalid type: string "x", expected struct PolicyInput'],
  [5, 'invalid type: integer `5`, expected struct PolicyInput'],
  [new Map([['issuer', 'i']]), null],
  [{ issuer: 'https://i', audience: ['a', 'b'], leeway: 30, claimValues: { t: { deep: [1, null] } } }, null],
  [cyclic, 'recursion limit exceeded'],
  // The core's reader, its position in text the module made left out.
  [{ claimValues: deep }, 'JSON nested deeper than 64 levels'],
];

for (const dir of ['pkg', 'pkg-edge']) {
  test(`option shapes are read as before (${dir})`, async () => {
    const tg = await import(`../../${dir}/tokengate.js`);
    tg.initSync({ module: readFileSync(new URL(`../../${dir}/tokengate_bg.wasm`, import.meta.url)) });
    for (const [options, refusal] of shapes) {
      let got = null;
      try {
        new tg.Validator(jwks, options, 'api');
      } catch (e) {
        assert.equal(e.code, 'options_invalid', String(e.message));
        got = e.message;
      }
      assert.equal(got, refusal === null ? null : `options: ${refusal}`);
    }
    // The misspelt field is still refused by name.
    assert.throws(() => new tg.Validator(jwks, { leway: 1 }, 'api'), { code: 'options_invalid', message: /unknown field `leway`/ });
  });
}
