// Where the edge module's bytes go, by surface: `node bench/size.mjs [WASM]` (default
// pkg-edge/tokengate_bg.wasm). For each group of exports it removes those exports from the built
// module (binaryen.js), lets wasm-opt drop what nothing else reaches and optimise again with the
// build's passes (scripts/build.sh, without --converge), and reports what the group alone costs,
// gzip -9 of the bytes by Node's zlib. Code shared by two groups is counted in neither, so the
// rows do not add up to the whole; the last row removes every group at once, leaving only what
// validating a JWT needs. Prints a markdown table; progress on stderr.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import binaryen from 'binaryen';

const root = new URL('..', import.meta.url).pathname;
const wasmPath = resolve(root, process.argv[2] ?? 'pkg-edge/tokengate_bg.wasm');
const wasmOpt = join(root, 'node_modules/.bin/wasm-opt');
// The features Rust's wasm32 target emits by default (as scripts/build.sh passes them).
const FEATURES = ['bulk-memory', 'nontrapping-float-to-int', 'sign-ext', 'mutable-globals', 'reference-types', 'multivalue'];

// Exports by the audience that needs them. What stays in every row: the Validator and its
// Context (keys, grants, revocation snapshot, scope requirements), key sets and the error codes.
const GROUPS = [
  ['inspection: inspect, lints, time wording, peeks', ['inspect', 'lintCatalog', 'expiryText', 'relativeTime', 'peekClaims', 'peekIssuer']],
  [
    'KV documents: builders, plans, stored forms',
    [
      'keySetBuild',
      'grantsBuild',
      'grantsDocument',
      'keyEntry',
      'keyPlan',
      'revocationUncovered',
      'revocationStoredForm',
      'revocationlist_toJSON',
      'revocationlist_pruned',
      'publishedDiscovery',
      'publishedMethod',
    ],
  ],
  [
    'KV documents: adoption and effective views',
    [
      'keySetEffective',
      'keySetAdoptable',
      'grantsAdoptable',
      'revocationEffective',
      'revocationExpired',
      'snapshotVersion',
      'sourceDigest',
    ],
  ],
  ['remote key sets: JWKS, discovery', ['remote*', 'chooseIssuer']],
  ['gate configuration and routes', ['parseConfig', 'router_*', 'configReloadBounds', 'reloadAction']],
  ['API keys', ['apiKey*', 'validator_validateApiKey', 'validator_forApiKeys']],
  [
    'options-object validation: validate, prepare, finish',
    ['validator_validate', 'validator_validateWith', 'validator_prepare', 'validator_prepareWith', 'validator_finish', 'prepared_*'],
  ],
  ['verifyJws', ['verifyJws']],
];

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;
const matches = (name, patterns) => patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
const input = readFileSync(wasmPath);
const work = mkdtempSync(join(tmpdir(), 'tokengate-size-'));

function without(patterns) {
  const module = binaryen.readBinary(input);
  module.setFeatures(binaryen.Features.All);
  const names = [];
  for (let i = 0; i < module.getNumExports(); i++) names.push(binaryen.getExportInfo(module.getExportByIndex(i)).name);
  const dropped = names.filter((n) => matches(n, patterns));
  if (dropped.length === 0 && patterns.length > 0) throw new Error(`no export matches ${patterns.join(', ')}`);
  for (const n of dropped) module.removeExport(n);
  const src = join(work, 'in.wasm');
  const out = join(work, 'out.wasm');
  writeFileSync(src, module.emitBinary());
  module.dispose();
  const features = FEATURES.map((f) => `--enable-${f}`);
  execFileSync(wasmOpt, ['-ocimfs', '0', '-O3', ...features, src, '-o', out]);
  const bytes = readFileSync(out);
  return { raw: bytes.length, gzip: gz(bytes), dropped: dropped.length };
}

const fmt = (n) => n.toLocaleString('en-US');
try {
  process.stderr.write(`size: ${wasmPath} (${fmt(input.length)} B, ${fmt(gz(input))} B gzipped as built)\n`);
  const base = without([]);
  const rows = [];
  for (const [label, patterns] of GROUPS) {
    process.stderr.write(`size: without ${label}\n`);
    const r = without(patterns);
    rows.push([label, r.dropped, base.raw - r.raw, base.gzip - r.gzip]);
  }
  process.stderr.write('size: without all of them\n');
  const rest = without(GROUPS.flatMap(([, p]) => p));
  console.log(`| surface (exports) | raw | gzip -9 |`);
  console.log(`| --- | --- | --- |`);
  console.log(`| whole module, re-optimised without --converge | ${fmt(base.raw)} B | ${fmt(base.gzip)} B |`);
  for (const [label, n, raw, gzip] of rows) console.log(`| ${label} (${n}) | ${fmt(raw)} B | ${fmt(gzip)} B |`);
  console.log(`| left when every group above is removed: JWT validation alone | ${fmt(rest.raw)} B | ${fmt(rest.gzip)} B |`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
