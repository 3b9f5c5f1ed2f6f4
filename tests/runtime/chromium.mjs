// Headless Debian Chromium through playwright-core, with the flags this closed network needs.
import { chromium } from 'playwright-core';

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** No background traffic (updates, sync, QUIC probes): a test may assert every request it sees. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launch() {
  return chromium.launch({ executablePath, args: FLAGS });
}

/**
 * A persistent context with an unpacked extension loaded (`dir`, absolute) and, with `devtools`,
 * DevTools opened for every tab (so the extension's devtools page runs, headless too). Returns
 * `{ context, id }`: id is the extension's, derived from its path as Chromium does for unpacked
 * extensions (SHA-256 of the path, first 32 hex digits written a–p). `viewport` is every page's
 * from the start: resizing a page with DevTools open draws DevTools' size overlay on it.
 */
export async function launchWithExtension(dir, { devtools = false, viewport } = {}) {
  const { createHash } = await import('node:crypto');
  const id = [...createHash('sha256').update(dir).digest('hex').slice(0, 32)]
    .map((c) => String.fromCharCode(97 + parseInt(c, 16)))
    .join('');
  const context = await chromium.launchPersistentContext('', {
    executablePath,
    headless: true,
    ...(viewport && { viewport }),
    args: [
      ...FLAGS,
      `--disable-extensions-except=${dir}`,
      `--load-extension=${dir}`,
      ...(devtools ? ['--auto-open-devtools-for-tabs'] : []),
    ],
  });
  return { context, id };
}
