// scripts/setup.sh installs wasm-bindgen-cli into a cache shared by every clone on the machine
// (~/.cache/tokengate). Two clones installing at once must never see a half-written install:
// each installs into a private directory and renames it into place. `cargo install` is replaced
// by a stand-in that writes its binary in two steps and holds in between until told to go on, so
// the test can look at the shared path exactly mid-install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, waitFor } from '../runtime/helpers.mjs';

const VERSION = /name = "wasm-bindgen"\nversion = "([^"]+)"/.exec(readFileSync(join(ROOT, 'Cargo.lock'), 'utf8'))[1];

test('two setups installing wasm-bindgen-cli at once never expose a half-written install in the shared cache', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-setup-'));
  const bin = join(dir, 'bin');
  const signals = join(dir, 'signals');
  const cache = join(dir, 'cache');
  mkdirSync(bin);
  mkdirSync(signals);
  const tool = (name, body) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  tool('rustup', 'echo wasm32-unknown-unknown');
  tool(
    'cargo',
    `root=; ver=
while [ $# -gt 0 ]; do case "$1" in --root) root=$2; shift ;; --version) ver=$2; shift ;; esac; shift; done
mkdir -p "$root/bin"
printf '#!/bin/sh\\n' > "$root/bin/wasm-bindgen"; chmod +x "$root/bin/wasm-bindgen"
touch "${signals}/half-$$"
while [ ! -e "${signals}/go" ]; do sleep 0.05; done
printf 'echo "wasm-bindgen %s"\\n' "$ver" >> "$root/bin/wasm-bindgen"`,
  );
  // Without any wasm-bindgen already on PATH (npm test's own setup puts the machine's there).
  const path = process.env.PATH.split(':').filter((p) => p && !existsSync(join(p, 'wasm-bindgen')));
  const env = { ...process.env, PATH: [bin, ...path].join(':'), XDG_CACHE_HOME: cache, HOME: dir };
  const setup = () => {
    const child = spawn('bash', ['-c', 'source scripts/setup.sh && wasm-bindgen --version'], { cwd: ROOT, env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
  };
  const halves = () => readdirSync(signals).filter((f) => f.startsWith('half-')).length;
  const shared = join(cache, 'tokengate', `wasm-bindgen-${VERSION}`, 'bin', 'wasm-bindgen');

  const a = setup();
  // Whatever fails below, the stand-ins are released, so no setup is left holding.
  t.after(() => writeFileSync(join(signals, 'go'), ''));
  await waitFor(() => halves() === 1, { timeout: 30_000, message: 'first install started' });
  assert.equal(existsSync(shared), false, 'nothing half-written at the shared path');
  const b = setup();
  await waitFor(() => halves() === 2, { timeout: 30_000, message: 'second install started' });
  assert.equal(existsSync(shared), false);
  writeFileSync(join(signals, 'go'), '');
  for (const r of await Promise.all([a, b]))
    assert.deepEqual(
      [r.code, r.out],
      [0, `tokengate: installing wasm-bindgen-cli ${VERSION} (about 4 minutes, once per machine)\nwasm-bindgen ${VERSION}\n`],
      r.err,
    );
  assert.deepEqual(readdirSync(join(cache, 'tokengate')), [`wasm-bindgen-${VERSION}`], 'no private copy left behind');
  // Installed once per machine: the next setup uses it.
  const again = spawnSync('bash', ['-c', 'source scripts/setup.sh && wasm-bindgen --version'], { cwd: ROOT, env, encoding: 'utf8' });
  assert.deepEqual([again.status, again.stdout, halves()], [0, `wasm-bindgen ${VERSION}\n`, 2]);
});
