// The TypeScript declarations name exactly what the core knows: every error code, every lint
// code, every validator option and every worker-configuration field (and no others). The core's
// side is read at run time from the wasm: its code tables and the field lists its parser gives
// when it refuses an unknown field.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import * as tg from '../../js/node.js';

const source = ts.createSourceFile(
  'index.d.ts',
  readFileSync(new URL('../../js/index.d.ts', import.meta.url), 'utf8'),
  ts.ScriptTarget.Latest,
  true,
);

function declaration(name) {
  const found = source.statements.find((s) => (ts.isTypeAliasDeclaration(s) || ts.isInterfaceDeclaration(s)) && s.name.text === name);
  assert.ok(found, `index.d.ts declares ${name}`);
  return found;
}

/** The string literals of a union type alias. */
function unionMembers(name) {
  const { type } = declaration(name);
  assert.ok(ts.isUnionTypeNode(type), `${name} is a union`);
  return type.types.map((t) => {
    assert.ok(ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal), `${name}: every member is a string literal`);
    return t.literal.text;
  });
}

const propertyName = (m) => (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name) ? m.name.text : m.name.getText(source));

/** Property signatures of an interface, or of the object type of one of its properties (`path`). */
function members(name, ...path) {
  let list = declaration(name).members;
  for (const step of path) {
    const prop = list.find((m) => ts.isPropertySignature(m) && propertyName(m) === step);
    assert.ok(prop, `${name}.${path.join('.')} is declared`);
    let type = prop.type;
    if (ts.isArrayTypeNode(type)) type = type.elementType;
    if (ts.isUnionTypeNode(type)) type = type.types.find((t) => ts.isTypeLiteralNode(t)) ?? type;
    assert.ok(ts.isTypeLiteralNode(type), `${name}.${path.join('.')} is an object type`);
    list = type.members;
  }
  return list.filter((m) => ts.isPropertySignature(m)).map(propertyName);
}

/** The field list the core's parser names when it refuses an unknown field. */
function fieldsRefused(attempt) {
  try {
    attempt('__probe');
  } catch (e) {
    assert.equal(e.code, 'options_invalid', e.message);
    const m = /unknown field `__probe`, expected (?:one of )?(.*?)(?: at line|$)/.exec(e.message);
    assert.ok(m, `a field list in: ${e.message}`);
    return [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1]);
  }
  assert.fail('an unknown field was accepted');
}

const same = (actual, expected, what) =>
  assert.deepEqual([...new Set(actual)].sort(), [...new Set(expected)].sort(), `${what}: declarations and the core differ`);

test('ErrorCode names every code of the core, and no other', () => {
  const declared = unionMembers('ErrorCode');
  same(
    declared,
    tg.errorCodes().map((c) => c.code),
    'ErrorCode',
  );
  assert.equal(declared.length, new Set(declared).size, 'no code declared twice');
});

test('LintCode names every lint of the core, and no other', () => {
  same(
    unionMembers('LintCode'),
    tg.lintCatalog().map((l) => l.code),
    'LintCode',
  );
  const severities = declaration('Lint')
    .members.find((m) => propertyName(m) === 'severity')
    .type.types.map((t) => t.literal.text);
  same(
    severities,
    tg.lintCatalog().map((l) => l.severity),
    'Lint.severity',
  );
});

test('Policy declares exactly the validator options the core parses', () => {
  const core = fieldsRefused((f) => new tg.Validator({ keys: null, [f]: 1 }));
  same(members('Policy'), core, 'Policy');
  // The JS-level options beside the policy, which the binding consumes before the core sees it.
  const extra = members('ValidatorOptions');
  same(extra, ['keys', 'revocations', 'grants', 'realm', 'cache', 'native'], 'ValidatorOptions');
});

test('WorkerConfig declares exactly the configuration fields the core parses, at every level', () => {
  const issuer = { issuer: 'https://issuer.example', jwks: 'jwks' };
  const config = (extra) => ({ issuers: [issuer], ...extra });
  const cases = [
    [members('WorkerConfig'), (f) => tg.workerConfig(config({ [f]: 1 })), 'WorkerConfig'],
    [members('WorkerIssuer'), (f) => tg.workerConfig({ issuers: [{ ...issuer, [f]: 1 }] }), 'WorkerIssuer'],
    [members('WorkerConfig', 'credentials'), (f) => tg.workerConfig(config({ credentials: { [f]: 1 } })), 'credentials'],
    [members('WorkerConfig', 'identityHeaders'), (f) => tg.workerConfig(config({ identityHeaders: { [f]: 1 } })), 'identityHeaders'],
    [members('WorkerConfig', 'routes'), (f) => tg.workerConfig(config({ routes: [{ path: '/api/x', [f]: 1 }] })), 'routes[]'],
    [members('WorkerConfig', 'remoteKeys'), (f) => tg.workerConfig(config({ remoteKeys: { [f]: 1 } })), 'remoteKeys'],
    [
      members('WorkerIssuer', 'tenantGrants'),
      (f) => tg.workerConfig({ issuers: [{ ...issuer, tenantGrants: { [f]: 1 } }] }),
      'tenantGrants',
    ],
  ];
  for (const [declared, attempt, what] of cases) same(declared, fieldsRefused(attempt), what);
  // Every field the completed configuration carries is declared.
  for (const field of Object.keys(tg.workerConfig(config({})))) assert.ok(members('WorkerConfig').includes(field), field);
});

test("the README's configuration table has a row for every field the core parses", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('### Configuration'), readme.indexOf('**One meaning per value**'));
  const rows = new Set(
    [...table.matchAll(/^\| ((?:`[A-Za-z]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1])),
  );
  const fields = fieldsRefused((f) => tg.workerConfig({ issuers: [{ issuer: 'https://issuer.example', jwks: 'jwks' }], [f]: 1 }));
  const missing = fields.filter((f) => !rows.has(f));
  assert.deepEqual(missing, [], 'fields without a row in the README table');
});

test('RemoteJwksOptions declares exactly the options the core parses for a remote key source', () => {
  const uri = 'https://idp.example/jwks';
  same(
    members('RemoteJwksOptions'),
    fieldsRefused((f) => tg.remoteJwks({ jwksUri: uri, [f]: 1 })),
    'RemoteJwksOptions',
  );
  same(
    members('RemoteJwksOptions', 'remoteKeys'),
    fieldsRefused((f) => tg.remoteJwks({ jwksUri: uri, remoteKeys: { [f]: 1 } })),
    'RemoteJwksOptions.remoteKeys',
  );
});

test("the README's claim policy table has a row for every validator option the core parses", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## Claim policy');
  const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| option |', start)));
  const rows = new Set(
    [...table.matchAll(/^\| ((?:`[A-Za-z]+`(?:, )?)+) \|/gm)].flatMap((m) => [...m[1].matchAll(/`([^`]+)`/g)].map((x) => x[1])),
  );
  const fields = fieldsRefused((f) => new tg.Validator({ keys: null, [f]: 1 }));
  assert.deepEqual(
    fields.filter((f) => !rows.has(f)),
    [],
    'options without a row in the README table',
  );
});
