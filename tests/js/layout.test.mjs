// The layout, checked: the library (js/*.js, what the npm package exports) never imports upward
// into the operator CLI (js/admin, js/cli, bin/) or the worker (worker/); the CLI reaches the
// library only through the package's entry points; the worker is an HTTP layer that imports only
// the package's entry points (`tokengate`, `tokengate/store`); no module graph has a cycle; and
// each entry point's declarations name exactly what it exports at run time.
// The import statements (static, re-exports and dynamic) are read by esbuild's parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { build } from 'esbuild';

const ROOT = new URL('../../', import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function walk(dir) {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(ROOT, path)).isDirectory() ? walk(path) : /\.(m?js)$/.test(name) ? [path] : [];
  });
}
const files = ['js', 'worker', 'bin'].flatMap(walk);

/** Which part of the house a file belongs to (undefined: none, which is itself a failure). */
function part(file) {
  if (/^js\/[^/]+\.m?js$/.test(file)) return 'library';
  if (/^(js\/admin|js\/cli|bin)\//.test(file)) return 'cli';
  if (file.startsWith('worker/')) return 'worker';
  if (file.startsWith('pkg/') || file.startsWith('pkg-edge/')) return 'wasm';
  return undefined;
}

/** `exports` subpath → the files it points to (every condition), e.g. `tokengate/store` → [js/store.js]. */
function entryPoints(exportsMap) {
  const targets = (v) => (typeof v === 'string' ? [v] : Object.values(v).flatMap(targets));
  const out = new Map();
  for (const [subpath, v] of Object.entries(exportsMap)) {
    const files = targets(v).filter((t) => /\.m?js$/.test(t));
    if (files.length) out.set(join(pkg.name, subpath), [...new Set(files.map((t) => normalize(t)))]);
  }
  return out;
}
const entries = entryPoints(pkg.exports);
const entryFiles = new Set([...entries.values()].flat());

/** Every file's imports: `[{ specifier, kind, file }]`, `file` set for local modules. */
async function imports() {
  const { metafile } = await build({
    entryPoints: files,
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    outdir: 'artifacts/layout',
    format: 'esm',
    platform: 'node',
    packages: 'external',
    external: ['*.wasm'],
    logLevel: 'silent',
  });
  const graph = new Map();
  for (const [file, { imports }] of Object.entries(metafile.inputs)) {
    graph.set(
      file,
      imports.map((i) => {
        const specifier = i.original ?? i.path;
        if (!i.external) return { specifier, kind: i.kind, file: i.path };
        // External but relative (the .wasm module): a local file all the same.
        if (specifier.startsWith('.')) return { specifier, kind: i.kind, file: normalize(join(dirname(file), specifier)) };
        // The package's own name resolves to its entry files (under any condition).
        return { specifier, kind: i.kind, file: undefined, entry: entries.get(specifier) };
      }),
    );
  }
  return graph;
}

/** Cycles among local modules (the package's own name stands for every file it points to). */
function cycles(graph) {
  const edges = (f) => (graph.get(f) ?? []).flatMap((i) => i.entry ?? (i.file ? [i.file] : []));
  const found = [];
  const state = new Map(); // file -> 'open' | 'done'
  const stack = [];
  const visit = (f) => {
    state.set(f, 'open');
    stack.push(f);
    for (const g of edges(f)) {
      if (state.get(g) === 'open') found.push([...stack.slice(stack.indexOf(g)), g].join(' → '));
      else if (!state.has(g)) visit(g);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

/** What each part may import; a list of `file: specifier (why)` for everything else. */
function violations(graph) {
  const deps = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const bad = [];
  for (const [file, list] of graph) {
    const from = part(file);
    if (from === undefined) bad.push(`${file}: not in the library, the CLI or the worker`);
    if (from === 'wasm') continue;
    for (const i of list) {
      const to = i.file && part(i.file);
      const say = (why) => bad.push(`${file}: ${i.specifier} (${why})`);
      if (from === 'library') {
        // Down only: other library modules, the wasm glue, Node built-ins, its own entry points.
        if (i.file ? !['library', 'wasm'].includes(to) : !(i.specifier.startsWith('node:') || i.entry))
          say('the library imports only itself, the wasm glue, node: built-ins and its own entry points');
      } else if (from === 'cli') {
        if (i.file && to === 'library' && !entryFiles.has(i.file)) say('the CLI reaches the library through its entry points only');
        else if (i.file && !['cli', 'library'].includes(to)) say('the CLI imports the library and itself only');
        else if (!i.file && !(i.specifier.startsWith('node:') || i.entry || deps.has(i.specifier)))
          say('not a node: built-in, a package entry point or a declared dependency');
      } else if (from === 'worker') {
        if (i.file ? to !== 'worker' : !i.entry)
          say('the worker imports the package by its entry points (`tokengate`, `tokengate/store`) only');
      }
    }
  }
  return bad;
}

const graph = await imports();

test('every file under js/, worker/ and bin/ is read, and its imports are found', () => {
  assert.deepEqual(
    files.filter((f) => !graph.has(f)),
    [],
  );
  // The parser sees multi-line, re-exported and dynamic imports alike.
  const specifiers = (f) => graph.get(f).map((i) => i.specifier);
  assert.ok(specifiers('worker/index.js').includes('tokengate/store'));
  assert.ok(specifiers('js/store.js').includes('./config.js'), 'export … from');
  assert.ok(specifiers('bin/tokengate.js').includes('../js/admin/cli.js'), 'import()');
});

test('the package exports the library and the KV data model, each with its declarations', () => {
  assert.deepEqual([...entries.keys()].sort(), ['tokengate', 'tokengate/store']);
  for (const [subpath, v] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    assert.ok(typeof v === 'object' && Object.keys(v)[0] === 'types', `${subpath}: "types" first`);
    for (const f of Object.values(v)) assert.ok(statSync(join(ROOT, f)).isFile(), f);
    for (const f of Object.values(v)) assert.match(normalize(f), /^js\/[^/]+$/, `${subpath}: ${f} is a library file`);
  }
});

test('the library never imports upward; the CLI uses its entry points; the worker only the package', () => {
  assert.deepEqual(violations(graph), []);
});

test('no import cycles among the modules', () => {
  assert.deepEqual(cycles(graph), []);
});

test('the checks fail for the right reason on a graph that breaks them', () => {
  const g = new Map([
    ['js/core.js', [{ specifier: './admin/cli.js', file: 'js/admin/cli.js' }]],
    ['js/admin/cli.js', [{ specifier: '../core.js', file: 'js/core.js' }]],
    ['worker/index.js', [{ specifier: '../js/store.js', file: 'js/store.js' }]],
    ['js/store.js', [{ specifier: 'tokengate', entry: entries.get('tokengate') }]],
    ['js/node.js', [{ specifier: './store.js', file: 'js/store.js' }]],
    ['js/extra/x.js', []],
  ]);
  assert.deepEqual(violations(g), [
    'js/core.js: ./admin/cli.js (the library imports only itself, the wasm glue, node: built-ins and its own entry points)',
    'js/admin/cli.js: ../core.js (the CLI reaches the library through its entry points only)',
    'worker/index.js: ../js/store.js (the worker imports the package by its entry points (`tokengate`, `tokengate/store`) only)',
    'js/extra/x.js: not in the library, the CLI or the worker',
  ]);
  assert.deepEqual(cycles(g), ['js/core.js → js/admin/cli.js → js/core.js', 'js/store.js → js/node.js → js/store.js']);
});

/** The value exports a declaration file names (`export const|function|class`). */
const declared = (dts) =>
  [
    ...new Set(
      [...readFileSync(join(ROOT, dts), 'utf8').matchAll(/^export (?:declare )?(?:const|function|class|let) (\w+)/gm)].map((m) => m[1]),
    ),
  ].sort();

test("each entry point's declarations name exactly its run-time exports", async () => {
  for (const [subpath, v] of Object.entries(pkg.exports)) {
    if (subpath === './package.json') continue;
    const name = join(pkg.name, subpath);
    assert.deepEqual(declared(v.types), Object.keys(await import(name)).sort(), `${name}: ${relative('.', v.types)}`);
  }
});
