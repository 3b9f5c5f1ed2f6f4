// README's esbuild recipe ("Bundlers"), run as written in a scratch project that installed the
// package (node_modules/tokengate → this checkout), then the page it builds loaded in headless
// Chromium: the bundle finds the wasm where the README says and validates a token by WebCrypto.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from 'tokengate';
import { launch } from '../runtime/chromium.mjs';
import { serve } from '../runtime/serve.mjs';
import { ROOT, now } from '../runtime/helpers.mjs';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = README.slice(README.indexOf('### Bundlers'));
const recipe = /```sh\n([\s\S]*?)```/.exec(section)?.[1];

const browser = await launch();
const servers = [];
after(async () => {
  await browser.close();
  for (const s of servers) s.close();
});

test("README's esbuild recipe builds a page that loads the wasm and validates a token", async () => {
  assert.ok(recipe, 'README has a ### Bundlers section with a sh block');
  const dir = mkdtempSync(join(tmpdir(), 'tokengate-bundle-'));
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(ROOT, join(dir, 'node_modules', 'tokengate'));
  // `npx esbuild` is the project's own esbuild (a devDependency here); nothing else runs.
  const shim = join(dir, '.shim');
  mkdirSync(shim);
  writeFileSync(
    join(shim, 'npx'),
    `#!/bin/sh\nif [ "$1" = esbuild ]; then shift; exec '${ROOT}node_modules/.bin/esbuild' "$@"; fi\necho "npx shim: only esbuild" >&2\nexit 127\n`,
  );
  chmodSync(join(shim, 'npx'), 0o755);

  const key = tg.generateKey('ES256', { kid: 'b1' });
  const jwks = { keys: [tg.publicJwk(key)] };
  const t = now();
  const token = tg.mint(key, { iss: 'https://auth.example.com', aud: 'api', sub: 'user-1', iat: t, exp: t + 600, scope: 'users:read' });
  writeFileSync(
    join(dir, 'app.js'),
    `import { Validator } from 'tokengate';
const v = new Validator({ keys: ${JSON.stringify(jwks)}, issuer: 'https://auth.example.com', audience: 'api' });
v.validateAsync(${JSON.stringify(token)}, { scope: 'users:read' }).then(
  (r) => (document.title = 'valid ' + r.subject),
  (e) => (document.title = 'error ' + (e.code ?? e.message)),
);
`,
  );
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', recipe], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${shim}:${process.env.PATH}` },
  });
  assert.equal(r.status, 0, `${recipe}\n${r.stdout}${r.stderr}`);
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><script type="module" src="js/app.js"></script>\n');

  const server = await serve(join(dir, 'site'));
  servers.push(server);
  const page = await browser.newPage();
  const requested = [];
  page.on('request', (req) => requested.push(new URL(req.url()).pathname));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => document.title !== '', null, { timeout: 30_000 });
  assert.equal(await page.title(), 'valid user-1');
  assert.deepEqual(requested, ['/', '/js/app.js', '/pkg-edge/tokengate_bg.wasm']);
});
