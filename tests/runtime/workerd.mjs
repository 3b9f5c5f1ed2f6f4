// Runs a worker in workerd through Miniflare the way wrangler would: esbuild bundles it with the
// `workerd` export condition, and the wasm stays a separate precompiled module (CompiledWasm),
// because workerd will not compile wasm from bytes.
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';

const root = new URL('../../', import.meta.url);

/** Bundles `entry` (a path from the project root) into artifacts/NAME/index.js; returns its path. */
export async function bundleWorker(entry, name) {
  // The bundle keeps `../pkg-edge/tokengate_bg.wasm` (the edge module, which the `workerd`
  // entry loads) as an import, resolved next to artifacts/NAME/.
  mkdirSync(new URL('artifacts/pkg-edge/', root), { recursive: true });
  copyFileSync(new URL('pkg-edge/tokengate_bg.wasm', root), new URL('artifacts/pkg-edge/tokengate_bg.wasm', root));
  const outfile = new URL(`artifacts/${name}/index.js`, root).pathname;
  await build({
    entryPoints: [new URL(entry, root).pathname],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['*.wasm'],
    logLevel: 'error',
  });
  return outfile;
}

/** Miniflare options for the bundled script (`extra`: bindings, KV namespaces…). */
export function workerdOptions(scriptPath, extra = {}) {
  return {
    modules: true,
    scriptPath,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-01',
    host: '127.0.0.1',
    ...extra,
  };
}

/** A ready Miniflare for the bundled script. */
export async function startWorkerd(scriptPath, extra = {}) {
  const mf = new Miniflare(workerdOptions(scriptPath, extra));
  try {
    await mf.ready;
  } catch (e) {
    await mf.dispose(); // a Miniflare whose start failed still holds its workerd process
    throw e;
  }
  return mf;
}
