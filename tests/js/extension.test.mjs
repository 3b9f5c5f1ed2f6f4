// The DevTools extension in headless Chromium, loaded unpacked from dist/extension/ (built by
// `npm run build:extension`). DevTools opens for every tab (--auto-open-devtools-for-tabs), so the
// extension's devtools page captures the test page's requests through chrome.devtools.network,
// as for a person; the panel's own page is opened in a tab (DevTools' UI cannot be driven
// headless) and receives the same relayed requests. A test page on 127.0.0.1 sends a JWT, an API
// key and a cookie; the panel lists them and, with a worker configuration loaded, shows what the
// worker would answer. Every request the browser makes is recorded: none may leave 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tg from 'tokengate';
import { launchWithExtension } from '../runtime/chromium.mjs';
import { listen, now, waitFor } from '../runtime/helpers.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}artifacts/screenshots`;
mkdirSync(shots, { recursive: true });
execFileSync('bash', ['scripts/extension.sh'], { cwd: root });
const extDir = `${root}dist/extension`;

const ISS = 'https://auth.example';
const key = tg.generateKey('ES256', { kid: 'es-1' });
const t = now();
const mint = (extra = {}) =>
  tg.mint(key, {
    iss: ISS,
    aud: 'api',
    sub: 'user-1',
    iat: t - 60,
    exp: t + 3240,
    jti: `j-${Math.random()}`,
    scope: 'users:read',
    ...extra,
  });
const good = mint();
const expired = mint({ sub: 'user-old', iat: t - 7200, exp: t - 3600 });
const cookieToken = mint({ sub: 'cookie-user' });
const apiKey = tg.apiKey.generate();
const CONFIG = {
  issuers: [{ issuer: ISS, audience: 'api', jwks: 'main' }],
  credentials: { cookie: 'tg_session', apiKeyHeader: 'X-API-Key' },
  routes: [
    { method: 'GET', path: '/api/users', scope: 'users:read' },
    { method: 'GET', path: '/api/admin', scope: 'admin' },
  ],
};

// The test page: bearer requests first, then the API key, then the cookie (set by the page, so
// it rides only on the last request).
// No favicon: the browser's request for it would carry the cookie while it is set.
const PAGE = `<!doctype html><title>app</title><link rel="icon" href="data:," /><script>
(async () => {
  const bearer = (t) => ({ headers: { Authorization: 'Bearer ' + t } });
  await fetch('/api/users', bearer(${JSON.stringify(good)}));
  await fetch('/api/admin', { headers: { ...bearer(${JSON.stringify(good)}).headers, 'X-Session': 'opaque-session-7' } });
  await fetch('/api/users?page=2', bearer(${JSON.stringify(expired)}));
  await fetch('/api/users', { headers: { 'X-API-Key': ${JSON.stringify(apiKey)} } });
  document.cookie = 'tg_session=${cookieToken}; path=/';
  document.cookie = 'sid=s-123; path=/';
  await fetch('/api/me');
  document.cookie = 'tg_session=; path=/; max-age=0';
  document.cookie = 'sid=; path=/; max-age=0';
  // Only a header the user may name: not listed until then.
  await fetch('/api/session', { headers: { 'X-Session': 'opaque-session-8' } });
  document.title = 'done';
})();
</script>`;

// A malformed API key (one character off: its checksum fails) and a token for another audience.
const badKey = `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`;
const otherAud = mint({ sub: 'user-aud', aud: 'other' });
const MORE = `<!doctype html><title>more</title><script>
(async () => {
  await fetch('/api/users?bad=1', { headers: { 'X-API-Key': ${JSON.stringify(badKey)} } });
  await fetch('/api/users?aud=1', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(otherAud)} } });
  document.title = 'done';
})();
</script>`;

// Three 200s, then the same token with an API key too (a 400 from the worker): two answers.
const MIXED = `<!doctype html><title>mixed</title><script>
(async () => {
  const auth = { Authorization: 'Bearer ' + ${JSON.stringify(good)} };
  for (let i = 0; i < 3; i++) await fetch('/api/users?m=1', { headers: auth });
  await fetch('/api/users?m=1', { headers: { ...auth, 'X-API-Key': ${JSON.stringify(apiKey)} } });
  document.title = 'done';
})();
</script>`;

// The same URL with the same token fetched two at a time, four times: pairs that start in the
// same millisecond (a HAR entry's start has no finer grain), so nothing but the request itself
// tells them apart.
const SAME = `<!doctype html><title>same</title><script>
(async () => {
  const init = { headers: { Authorization: 'Bearer ' + ${JSON.stringify(mint({ sub: 'user-same' }))} } };
  for (let i = 0; i < 4; i++) await Promise.all([fetch('/api/users?same=1', init), fetch('/api/users?same=1', init)]);
  document.title = 'done';
})();
</script>`;

// A busy page: more requests than the panel keeps, each with its own token (so its own row).
const BUSY_N = 600;
const busyTokens = Array.from({ length: BUSY_N }, (_, i) => mint({ sub: `busy-${i}` }));
const BUSY = `<!doctype html><title>busy</title><script>
(async () => {
  const tokens = ${JSON.stringify(busyTokens)};
  for (let i = 0; i < tokens.length; i++) await fetch('/api/users?busy=' + i, { headers: { Authorization: 'Bearer ' + tokens[i] } });
  document.title = 'done';
})();
</script>`;

// Subjects with bidi controls (drawn raw, "admin\u202Egnp.exe" reads as "adminexe.png") and C0
// controls (a newline, NUL, backspace).
const bidiSub = 'admin\u202Egnp.exe\u2066x\u2069';
const ctrlSub = 'line1\nline2\u0000\b';
const ODD = `<!doctype html><title>odd</title><script>
(async () => {
  await fetch('/api/users?odd=1', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(mint({ sub: bidiSub }))} } });
  await fetch('/api/users?odd=2', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(mint({ sub: ctrlSub }))} } });
  document.title = 'done';
})();
</script>`;

// Pages the later tests make (path -> HTML).
const PAGES = new Map();
const pageOf = (body) =>
  `<!doctype html><title>x</title><link rel="icon" href="data:," /><script>(async () => {${body}; document.title = 'done'; })();</script>`;

let server;
let context;
let id;
let panel;
const requests = [];
// Where a request may go: the test page's origin, the extension, and what a test adds.
const allowed = [];
const errors = [];
let origin;

before(async () => {
  server = await listen((req, res) => {
    if (req.url === '/') return res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    if (req.url === '/mixed') return res.writeHead(200, { 'content-type': 'text/html' }).end(MIXED);
    if (req.url === '/more') return res.writeHead(200, { 'content-type': 'text/html' }).end(MORE);
    if (req.url === '/busy') return res.writeHead(200, { 'content-type': 'text/html' }).end(BUSY);
    if (req.url === '/odd') return res.writeHead(200, { 'content-type': 'text/html' }).end(ODD);
    if (req.url === '/same') return res.writeHead(200, { 'content-type': 'text/html' }).end(SAME);
    const page = PAGES.get(req.url);
    if (page) return res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    // As the tokengate worker does for every JSON answer: no-store (which DevTools' network
    // events once missed, so the panel listed almost nothing behind a real worker).
    // Some answers only, so both ways DevTools reports a request are exercised.
    const headers = { 'content-type': 'application/json' };
    if (!req.url.startsWith('/api/admin')) headers['cache-control'] = 'no-store';
    res.writeHead(200, headers).end('{"ok":true}');
  });
  origin = `http://127.0.0.1:${server.address().port}`;
  // The panel's size from the start (a DevTools panel docked in a 1400 px window is about that).
  ({ context, id } = await launchWithExtension(extDir, { devtools: true, viewport: { width: 1400, height: 900 } }));
  allowed.push(`${origin}/`, `chrome-extension://${id}/`);
  context.on('request', (r) => requests.push(r.url()));
  panel = await context.newPage();
  panel.on('pageerror', (e) => errors.push(String(e)));
  await panel.goto(`chrome-extension://${id}/panel.html`);
  await panel.waitForSelector('body[data-ready=true]', { timeout: 30_000 }).catch(() => {
    throw new Error(`panel did not start: ${errors.join('; ')}`);
  });
});
after(async () => {
  await context?.close();
  server?.close();
});

/**
 * A new tab, once its DevTools (and so the extension's devtools page) watches it: DevTools opens
 * with the tab on its own time and records only from then on, so a page loaded before that is not
 * seen by anyone. The panel creates the tab (so it knows its id) and names the tabs it watches.
 */
async function openTab() {
  const [app, tab] = await Promise.all([
    context.waitForEvent('page'),
    panel.evaluate(() => chrome.tabs.create({ url: 'about:blank' }).then((t) => t.id)),
  ]);
  await panel.waitForFunction((t) => document.getElementById('watching').dataset.tabs?.split(' ').includes(String(t)), tab, {
    timeout: 30_000,
  });
  return app;
}

/** Loads `path` once in a new, watched tab and waits until `seen()` holds. */
async function load(path, seen, timeout = 15_000) {
  const app = await openTab();
  await app.goto(`${origin}${path}`);
  await app.waitForFunction(() => document.title === 'done');
  await waitFor(seen, { timeout, message: `the panel never listed what ${path} sent` });
  return { app, loads: 1 };
}

/** The listed rows as shown, by column (and `href`, the URL cell's title: the whole URL). */
const rows = () =>
  panel.$$eval('#list tbody tr', (trs) =>
    trs.map((tr) => ({
      ...Object.fromEntries([...tr.cells].map((c) => [c.className.split(' ')[0], c.textContent.trim()])),
      href: tr.querySelector('td.url')?.title,
    })),
  );

test('every load of the page is listed whole, its first request too: the JWT, API key and cookie with method, URL, status, time, kind, subject and expiry', async () => {
  const app = await openTab();
  const times = (r) => Number(/×(\d+)/.exec(r.source)?.[1] ?? 1);
  const LOADS = 5;
  let list;
  for (let load = 1; load <= LOADS; load++) {
    await app.goto(`${origin}/`);
    await app.waitForFunction(() => document.title === 'done');
    // Each of the five requests with a credential once more, the first one (sent as soon as
    // the page runs) included; never twice, whichever way DevTools reported it.
    await waitFor(async () => (list = await rows()).length === 5 && list.every((r) => times(r) === load), {
      timeout: 15_000,
      message: () => `load ${load} of ${LOADS}: ${JSON.stringify(list.map((r) => [r.url, r.source]))}`,
    });
  }
  const by = (pred) => list.find(pred);
  const users = by((r) => r.url.endsWith('/api/users') && r.source.startsWith('Authorization: Bearer'));
  assert.ok(users, JSON.stringify(list));
  assert.equal(users.source, `Authorization: Bearer ×${LOADS}`);
  assert.equal(users.method, 'GET');
  assert.equal(users.status, '200');
  // When it started (the browser's clock) and how long it took.
  assert.match(users.time, /^\d\d:\d\d:\d\d \(\d+ ms\)$/);
  assert.equal(users.kind, 'JWT ES256');
  assert.equal(users.sub, 'user-1');
  // Tokens were minted when the file loaded; a slow start can take a minute or two.
  assert.match(users.exp, /^expires in [45]\d min( \d+ s)?$/);
  assert.match(by((r) => r.url.endsWith('/api/users?…')).exp, /^expired 1 h( \d+ (min|s))? ago$/);
  assert.equal(by((r) => r.source.startsWith('X-API-Key')).kind, 'apikey');
  const cookie = by((r) => r.source.startsWith('cookie tg_session'));
  assert.equal(cookie.sub, 'cookie-user');
  assert.match(cookie.url, /\/api\/me$/);
  // The panel says since when it watches (a request before DevTools opened is not seen).
  assert.match(await panel.textContent('#watching'), /^Watching \d+ tabs?; each from when its DevTools opened\.$/);
  console.log(`first request listed on ${LOADS}/${LOADS} loads`);
  await app.close();
});

test('two requests to one URL started in the same millisecond are two: one row, counted, each in the detail', async () => {
  const same = async () => (await rows()).filter((r) => r.href?.endsWith('/api/users?same=1'));
  let last;
  const { app } = await load('/same', async () => (last = await same()).length === 1 && last[0].source === 'Authorization: Bearer ×8');
  assert.deepEqual(
    last.map((r) => [r.source, r.sub]),
    [['Authorization: Bearer ×8', 'user-same']],
  );
  await panel.click('#list tbody tr:has(td.sub:text-is("user-same"))');
  await panel.waitForSelector('#requests h3');
  assert.equal(await panel.textContent('#requests h3'), '8 requests');
  assert.equal(await panel.$$eval('#requests tbody tr', (trs) => trs.length), 8);
  await app.close();
});

test('headers and cookies the user names are captured too, in this panel only', async () => {
  // The page loaded again in an open tab (its DevTools holds the requests), before naming anything.
  const me = async () => Number(/×(\d+)$/.exec((await rows()).find((r) => r.url === '/api/me')?.source ?? '')?.[1] ?? 1);
  const seen = await me();
  const { app } = await load('/', async () => (await me()) > seen);
  const before = await rows();
  await panel.click('#capture-extra summary');
  await panel.fill('#extra-name', 'X-Session');
  await panel.click('#extra-form button');
  await panel.fill('#extra-name', 'sid');
  await panel.selectOption('#extra-kind', 'cookie');
  await panel.click('#extra-form button');
  const named = async () => (await rows()).filter((r) => /^(X-Session|cookie sid)/.test(r.source));
  let last;
  await waitFor(async () => (last = await named()).length >= 3, {
    timeout: 10_000,
    message: () => `named header and cookie not listed: ${JSON.stringify(last)}`,
  });
  // A request already listed (it has a bearer token too), one the devtools page had skipped (only
  // the named header), and the cookie next to tg_session.
  assert.deepEqual(last.map((r) => `${r.source.replace(/ ×\d+$/, '')} ${r.url}`).sort(), [
    'X-Session /api/admin',
    'X-Session /api/session',
    'cookie sid /api/me',
  ]);
  assert.ok(
    last.every((r) => r.kind === 'unknown'),
    JSON.stringify(last),
  );
  assert.deepEqual(await panel.$$eval('#extra-list li', (li) => li.map((l) => l.textContent.replace('×', '').trim())), [
    'header X-Session',
    'cookie sid',
  ]);
  // Not stored: the names live in the panel's memory.
  assert.equal(await panel.evaluate(() => localStorage.length), 0);
  await panel.click('#extra-list button[aria-label="Stop capturing header X-Session"]');
  await panel.click('#extra-list button[aria-label="Stop capturing cookie sid"]');
  assert.deepEqual(await named(), []);
  assert.equal((await rows()).length, before.length);
  await app.close();
});

test('a configuration the core refuses is shown as its message; keys it refuses are a 503, as the worker answers', async () => {
  // No worker yet: the detail says where its answer would come from.
  await panel.click('#list tbody tr');
  assert.match(await panel.textContent('#verdict-none'), /Load a worker configuration/);
  const bogus = { ...CONFIG, issuers: [{ ...CONFIG.issuers[0], bogus: 1 }] };
  await panel.fill('#config', JSON.stringify(bogus));
  await panel.click('#load-config');
  await panel.waitForSelector('#config-status.error');
  // The core's `field` spans as code, no literal backticks.
  assert.match(await panel.textContent('#config-status'), /^options_invalid: configuration: unknown field bogus, expected one of issuer,/);
  assert.ok(await panel.$('#config-status code'));
  assert.doesNotMatch(await panel.textContent('#config-status'), /`/);
  // Two keys with one kid: the worker cannot build its validator, logs key_invalid and answers
  // 503 data_unavailable (never a 500) to every request of that issuer.
  await panel.fill('#config', JSON.stringify(CONFIG));
  await panel.fill('#keys', JSON.stringify({ keys: [tg.publicJwk(key), tg.publicJwk(key)] }));
  await panel.click('#load-config');
  await waitFor(async () => (await rows()).some((r) => r.verdict === '503 data_unavailable'), { message: 'no 503 for refused keys' });
  assert.match(
    await panel.textContent('#config-status .key-problem'),
    /^Keys for https:\/\/auth\.example refused: key_invalid: key set has two keys with kid "es-1"; the worker answers 503 data_unavailable\.$/,
  );
  assert.ok(!(await rows()).some((r) => /^5\d\d (?!data_unavailable)/.test(r.verdict)), JSON.stringify(await rows()));
  await panel.click('#list tbody tr:has(td.url:text-matches("/api/admin$"))');
  assert.match(await panel.textContent('#verdict-status'), /^HTTP 503 data_unavailable: /);
  assert.match(await panel.textContent('#verdict-note'), /configuration problem.*key_invalid/);
  assert.equal(await panel.$('#verdict-www'), null);
});

test('with a worker configuration loaded, each request shows what the worker would answer', async () => {
  await panel.fill('#config', JSON.stringify(CONFIG));
  await panel.fill('#keys', JSON.stringify({ keys: [tg.publicJwk(key)] }));
  await panel.click('#load-config');
  await waitFor(async () => (await rows()).every((r) => r.verdict && r.verdict !== '…'), { message: 'no verdicts' });
  const list = await rows();
  const verdict = (pred) => list.find(pred)?.verdict;
  assert.equal(
    verdict((r) => r.url.endsWith('/api/users') && r.sub === 'user-1'),
    '200',
  );
  assert.equal(
    verdict((r) => r.url.endsWith('/api/admin')),
    '403 insufficient_scope',
  );
  assert.equal(
    verdict((r) => r.sub === 'user-old'),
    '401 token_expired',
  );
  // An API key needs the worker's KV record: undecided here, and said so.
  assert.equal(
    verdict((r) => r.source.startsWith('X-API-Key')),
    '?',
  );
  // /api/me has no route: under `protect`, the worker answers 404.
  assert.equal(
    verdict((r) => r.sub === 'cookie-user'),
    '404 route_not_found',
  );

  // A 404 carries no challenge (the worker sends WWW-Authenticate on 400/401/403 only).
  await panel.click('#list tbody tr:has(td.url:text-matches("/api/me$"))');
  await panel.waitForSelector('#verdict-route');
  assert.match(await panel.textContent('#verdict-status'), /^HTTP 404 route_not_found/);
  assert.equal(await panel.$('#verdict-www'), null);

  // The selected 403: the answer for that request, the route and its scope, the challenge.
  await panel.click('#list tbody tr:has(td.url:text-matches("/api/admin$"))');
  await panel.waitForSelector('#verdict-www');
  assert.equal(await panel.textContent('#verdicts h2'), `What the worker would answer for GET ${origin}/api/admin`);
  assert.match(await panel.textContent('#verdict-status'), /^HTTP 403 insufficient_scope/);
  assert.match(await panel.textContent('#verdict-www'), /^WWW-Authenticate: Bearer realm="api", error="insufficient_scope".*scope="admin"/);
  assert.equal(await panel.textContent('#verdict-route'), 'Route: GET /api/admin; scope required: admin');
  // The inspector's components: coloured parts, claims, findings.
  assert.ok(await panel.$('#token-parts .tp-header'));
  assert.match(await panel.textContent('#parts'), /"user-1"/);
  assert.equal(await panel.textContent('#status'), 'active');

  // Every column fits at 1400 px: nothing scrolls sideways, and a cell cut short has its text as a title.
  const fit = await panel.evaluate(() => {
    const list = document.querySelector('.list');
    const table = document.getElementById('list');
    return {
      width: window.innerWidth,
      page: document.documentElement.scrollWidth - window.innerWidth,
      list: list.scrollWidth - list.clientWidth,
      table: table.getBoundingClientRect().right - list.getBoundingClientRect().right,
      cut: [...table.querySelectorAll('th, td')].filter((c) => c.scrollWidth > c.clientWidth && !c.title).map((c) => c.textContent),
      columns: [...table.tHead.rows[0].cells].map((c) => c.textContent),
    };
  });
  assert.equal(fit.width, 1400);
  assert.deepEqual([fit.page <= 0, fit.list <= 0, fit.table <= 0.5], [true, true, true], JSON.stringify(fit));
  assert.deepEqual(fit.cut, []);
  assert.deepEqual(fit.columns, ['method', 'URL', 'status', 'time', 'credential', 'kind', 'subject', 'expiry', 'worker']);

  // Verify the selected token with a pasted JWKS, as on the inspector page.
  const verify = async (material, aud = '') => {
    await panel.fill('#key', material);
    await panel.fill('#v-aud', aud);
    await panel.click('#verify-form button');
    await panel.waitForSelector('#verify-result');
    return panel.textContent('#verify-result');
  };
  const jwks = JSON.stringify({ keys: [tg.publicJwk(key)] });
  assert.match(await verify(jwks), /^Valid: ES256 signature by es-1; subject user-1/);
  assert.match(await verify(jwks, 'billing'), /^audience_not_allowed/);
  assert.equal(await panel.textContent('#verify-out #aud-diff'), 'Expected audience "billing"; the token has "api".');
  assert.match(await verify(JSON.stringify({ keys: [tg.publicJwk(tg.generateKey('ES256', { kid: 'es-1' }))] })), /^signature_invalid/);
  await verify(jwks);

  await panel.evaluate(() => window.scrollTo(0, 0));
  for (const scheme of ['light', 'dark']) {
    await panel.emulateMedia({ colorScheme: scheme });
    // The viewport only: a full-page capture resizes the page, and DevTools (open on every tab here)
    // then draws its size overlay into the picture.
    await panel.screenshot({ path: `${shots}/extension-${scheme}.png` });
  }
  await panel.emulateMedia({ colorScheme: 'light' });
  if (process.env.TG_UPDATE_DOCS || !existsSync(`${root}docs/extension.png`))
    copyFileSync(`${shots}/extension-light.png`, `${root}docs/extension.png`);
});

test('a group never hides a differing answer: three 200s and a 400 for one token and URL are two rows', async () => {
  const mixed = async () => (await rows()).filter((r) => r.url.endsWith('/api/users?…') && r.sub === 'user-1');
  const { app, loads } = await load('/mixed', async () => (await mixed()).length >= 2);
  // Each load sends three 200s and then one 400 (a load before DevTools attached is not seen).
  const counted = async () =>
    (await mixed()).map((r) => [r.source.replace(/ ×\d+$/, ''), Number(/×(\d+)$/.exec(r.source)?.[1] ?? 1), r.verdict]).sort();
  let last;
  const whole = (l) => l.length === 2 && l[0][2] === '400 invalid_request' && l[1][2] === '200' && l[1][1] === 3 * l[0][1];
  await waitFor(async () => whole((last = await counted())), {
    timeout: 10_000,
    message: () => `not two rows, 3 × 200 and 1 × 400 per load: ${loads} load(s), ${JSON.stringify(last)}`,
  });
  assert.deepEqual(
    last.map(([source, , verdict]) => [source, verdict]),
    [
      ['Authorization: Bearer', '400 invalid_request'],
      ['Authorization: Bearer', '200'],
    ],
  );
  assert.ok(last[0][1] >= 1 && last[0][1] <= loads, JSON.stringify(last));
  await app.close();
});

test("a malformed API key is the worker's 401 apikey_malformed; an audience mismatch shows expected and actual", async () => {
  const find = async (q) => (await rows()).find((r) => r.verdict && q(r));
  const bad = (r) => r.href.endsWith('/api/users?bad=1');
  const aud = (r) => r.href.endsWith('/api/users?aud=1');
  const { app } = await load('/more', async () => Boolean((await find(bad)) && (await find(aud))));
  assert.equal((await find(bad)).verdict, '401 apikey_malformed');
  assert.equal((await find(aud)).verdict, '401 audience_not_allowed');
  await panel.click('#list tbody tr:has(td.sub:text-is("user-aud"))');
  await panel.waitForSelector('#verdicts #aud-diff');
  assert.equal(await panel.textContent('#verdicts #aud-diff'), 'Expected audience "api"; the token has "other".');
  assert.match(await panel.textContent('#verdict-www'), /error="invalid_token"/);
  await app.close();
  // Back to the 403 the next test pins.
  await panel.click('#list tbody tr:has(td.url:text-matches("/api/admin$"))');
});

test('redact hides the token, the subject and the URL query; nothing is stored unless pinned', async () => {
  // A verification made before Redact is turned on: what it printed leaves the page.
  await panel.fill('#key', JSON.stringify({ keys: [tg.publicJwk(key)] }));
  await panel.fill('#v-aud', '');
  await panel.click('#verify-form button');
  const verified = await (await panel.waitForSelector('#verify-result')).textContent();
  const subject = /subject ([^;,\s]+)/.exec(verified)?.[1];
  assert.ok(subject, verified);
  await panel.check('#redact');
  assert.equal(await panel.evaluate(() => document.getElementById('verify-out').childNodes.length), 0);
  assert.ok(
    !(await panel.evaluate(() => document.documentElement.outerHTML)).includes(subject),
    `subject ${subject} in the DOM while redacted`,
  );
  const token = await panel.textContent('#token-parts');
  // Every part masked whole (no first and last characters), the part structure kept.
  assert.equal(token, '••••.••••.••••');
  // Nor anywhere in the DOM, drawn or not (attributes, hidden elements): no part of any token.
  const html = await panel.evaluate(() => document.documentElement.outerHTML);
  for (const t of [good, expired, cookieToken, otherAud])
    for (const part of t.split('.')) assert.ok(!html.includes(part), `a token part in the DOM while redacted: ${part}`);
  assert.ok(!html.includes(apiKey) && !html.includes(badKey), 'an API key in the DOM while redacted');
  assert.ok((await rows()).every((r) => r.sub === '' || r.sub === '•••'));
  // Key material and what verification printed (the subject) are not drawn; no "null" anywhere.
  assert.deepEqual(
    [await panel.isVisible('#keys'), await panel.isVisible('#key'), await panel.isVisible('#verify-out')],
    [false, false, false],
  );
  const shown = await panel.innerText('body');
  for (const secret of ['user-1', 'cookie-user', ...good.split('.'), apiKey, tg.publicJwk(key).x])
    assert.ok(!shown.includes(secret), `shown while redacted: ${secret}`);
  assert.doesNotMatch(shown, /null|undefined|NaN/);
  // An API key: neither it nor the hash its record is stored under.
  await panel.click('#list tbody tr:has(td.source:text-matches("^X-API-Key")):has(td.verdict:text-is("?"))');
  await panel.waitForSelector('#summary:has-text("tokengate API key")');
  const keyView = await panel.innerText('body');
  assert.ok(!keyView.includes(apiKey) && !keyView.includes(tg.apiKey.hash(apiKey)), 'API key or its hash shown while redacted');
  await panel.click('#list tbody tr:has(td.url:text-matches("/api/admin$"))');
  await panel.screenshot({ path: `${shots}/extension-redacted.png` });
  assert.equal(await panel.evaluate(() => localStorage.length), 0);
  await panel.click('#pin');
  const stored = await panel.evaluate(() => localStorage.getItem('tokengate:pinned'));
  assert.equal(JSON.parse(stored).length, 1);
  // Only the pinned credential and its request lines: no other header of those requests.
  assert.ok(stored.includes(good), stored);
  assert.ok(!stored.includes('opaque-session-7') && !stored.includes('X-Session'), stored);
  assert.deepEqual(Object.keys(JSON.parse(stored)[0].requests[0]).sort(), ['id', 'method', 'started', 'status', 'time', 'url']);
  // Cleared and reloaded, the pinned row is back (and only it); unpinned and reloaded, it is gone.
  await panel.click('#clear');
  const reload = async () => {
    await panel.reload();
    await panel.waitForSelector('body[data-ready=true]', { timeout: 30_000 });
  };
  await reload();
  const back = await rows();
  assert.equal(back.length, 1, JSON.stringify(back));
  assert.match(back[0].url, /\/api\/admin$/);
  assert.equal(back[0].sub, 'user-1');
  await panel.click('#list tbody tr');
  assert.equal(await panel.textContent('#pin'), 'Unpin');
  await panel.click('#pin');
  assert.equal(await panel.evaluate(() => JSON.parse(localStorage.getItem('tokengate:pinned')).length), 0);
  await reload();
  assert.deepEqual(await rows(), []);
  await panel.uncheck('#redact');
});

test('control and bidi characters from a token are drawn as escapes, the subject isolated', async () => {
  const odd = async () => (await rows()).filter((r) => /odd=/.test(r.href));
  await load('/odd', async () => (await odd()).length === 2);
  const subs = (await odd()).map((r) => r.sub).sort();
  assert.deepEqual(subs, ['admin\\u202egnp.exe\\u2066x\\u2069', 'line1\\nline2\\u0000\\u0008']);
  assert.equal(await panel.getAttribute('#list tbody tr:has(td.url[title$="odd=1"]) td.sub', 'dir'), 'auto');
  // Selected, the decoded token (claims, summary, headings) has none of them raw either.
  const raw = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
  for (const n of [1, 2]) {
    await panel.click(`#list tbody tr:has(td.url[title$="odd=${n}"])`);
    await panel.waitForSelector('#parts table, #parts pre');
    const text = await panel.evaluate(
      () => document.body.textContent + [...document.querySelectorAll('[title]')].map((e) => e.title).join(''),
    );
    assert.doesNotMatch(text, raw);
    assert.ok(!text.includes('line1\nline2'), 'a raw newline from a claim');
  }
  // Pin is the same small button as Copy beside it.
  const heights = await panel.$$eval('#token-view button.copy, #token-view #pin', (bs) => bs.map((b) => b.getBoundingClientRect().height));
  assert.equal(heights.length, 2);
  assert.ok(Math.abs(heights[0] - heights[1]) < 1, `Copy and Pin heights: ${heights}`);
  await panel.click('#clear');
});

// What a page keeps on its heap: the least of several samples after a full collection. The
// extension's pages share one heap, and the devtools page's read of DevTools' HAR log (every
// second) briefly holds every request in it.
async function heapKept(cdp) {
  const samples = [];
  for (let i = 0; i < 6; i++) {
    if (i) await new Promise((r) => setTimeout(r, 250));
    await cdp.send('HeapProfiler.collectGarbage');
    samples.push((await cdp.send('Runtime.getHeapUsage')).usedSize);
  }
  return Math.min(...samples);
}

test('a busy page: the list is bounded, says how many it dropped, is not redrawn when idle, and its heap does not grow', async () => {
  const before = Date.now();
  const { app } = await load('/busy', () => panel.isVisible('#dropped'));
  await app.waitForFunction(() => document.title === 'done');
  const sent = Date.now() - before;
  // How long the panel takes to answer once the page is done: measured and printed, not
  // asserted (it depends on the machine's load).
  const t0 = Date.now();
  await panel.evaluate(() => 0);
  const answered = Date.now() - t0;
  // The newest 500 listed, the rest counted (how many reach the panel depends on when DevTools
  // attached to the tab, so at least one dropped).
  const droppedCount = async () => Number(/^(\d+) older requests dropped/.exec(await panel.textContent('#dropped'))?.[1]);
  // Settled: the page's last requests relayed (the count holds for a second and a half).
  let dropped = await droppedCount();
  await waitFor(
    async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const now = await droppedCount();
      return now === dropped || ((dropped = now), false);
    },
    { timeout: 20_000, message: 'the panel never settled' },
  );
  assert.ok(dropped >= 1, `dropped: ${dropped}`);
  assert.equal((await rows()).length, 500);
  // Idle (the devtools page reads the HAR log every second): no row is drawn again.
  await panel.evaluate(() => document.querySelectorAll('#list tbody tr').forEach((tr) => (tr.probe = true)));
  const cdp = await context.newCDPSession(panel);
  const heap = () => heapKept(cdp);
  const h0 = await heap();
  await new Promise((r) => setTimeout(r, 3000));
  const h1 = await heap();
  assert.ok(
    await panel.evaluate(() => [...document.querySelectorAll('#list tbody tr')].every((tr) => tr.probe)),
    'rows drawn again while idle',
  );
  assert.ok(h1 - h0 < 1_000_000, `heap grew ${h1 - h0} bytes in 3 s idle`);
  const t1 = Date.now();
  await panel.evaluate(() => 0);
  console.log(
    `busy page: ${BUSY_N} requests sent in ${sent} ms, answered in ${answered} ms then ${Date.now() - t1} ms, dropped ${dropped}, heap ${h0} -> ${h1}`,
  );
  await cdp.detach();
  await app.close();
  await panel.click('#clear');
});

/** Loads a worker configuration (and the test key) and waits until the panel took it. */
async function loadWorker(config) {
  await panel.fill('#config', JSON.stringify(config));
  await panel.fill('#keys', JSON.stringify({ keys: [tg.publicJwk(key)] }));
  await panel.click('#load-config');
  await panel.waitForSelector('#config-status.ok');
}

test("the worker's answer for what it refuses or answers itself: a UTF-8 cookie beside a token, health without its scope, a configured cookie holding garbage, a bearer with a word after it", async () => {
  await loadWorker({ ...CONFIG, credentials: { cookie: 'sess', apiKeyHeader: 'X-API-Key' } });
  const tok = JSON.stringify(mint({ sub: 'user-utf8' }));
  PAGES.set(
    '/answers',
    pageOf(`
    const auth = { Authorization: 'Bearer ' + ${tok} };
    document.cookie = 'lang=\u0440\u0443; path=/';
    document.cookie = 'mood=\u{1F600}; path=/';
    await fetch('/api/users?utf8=1', { headers: auth });
    document.cookie = 'lang=; path=/; max-age=0';
    document.cookie = 'mood=; path=/; max-age=0';
    await fetch('/.well-known/tokengate/health', { headers: auth });
    document.cookie = 'sess=garbage; path=/';
    await fetch('/api/users?cg=1');
    document.cookie = 'sess=; path=/; max-age=0';
    await fetch('/api/users?ew=1', { headers: { Authorization: 'Bearer ' + ${tok} + ' x' } });`),
  );
  const want = {
    'utf8=1': '200',
    'tokengate/health': '403 insufficient_scope',
    'cg=1': '401 token_malformed',
    'ew=1': '400 invalid_request',
  };
  const answers = async () =>
    Object.fromEntries(
      (await rows())
        .filter((r) => Object.keys(want).some((k) => r.href?.endsWith(k)))
        .map((r) => [Object.keys(want).find((k) => r.href.endsWith(k)), r.verdict]),
    );
  let last;
  const { app } = await load('/answers', async () => JSON.stringify((last = await answers())) === JSON.stringify(want)).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(last)}; errors ${JSON.stringify(errors)}`);
  });
  assert.deepEqual(last, want);
  assert.equal((await rows()).find((r) => r.href.endsWith('cg=1')).source, 'cookie sess');
  assert.deepEqual(errors, []);
  await panel.click('#list tbody tr:has(td.url[title$="tokengate/health"])');
  await panel.waitForSelector('#verdict-www');
  assert.match(await panel.textContent('#verdict-www'), /error="insufficient_scope".*scope="tokengate:health"/);
  await app.close();
  await panel.click('#clear');
});

test('the expiry column follows the clock, and the answer stays the one the worker gave at the time of the request', async () => {
  await loadWorker({ ...CONFIG, issuers: [{ ...CONFIG.issuers[0], leeway: 0 }] });
  // Minted once the tab is watched (DevTools opens on its own time), valid for a few seconds.
  const app = await openTab();
  const t0 = now();
  const short = mint({ sub: 'short-lived', iat: t0 - 5, exp: t0 + 6 });
  PAGES.set('/short', pageOf(`await fetch('/api/users?short=1', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(short)} } });`));
  const row = async () => (await rows()).find((r) => r.href?.endsWith('short=1'));
  await app.goto(`${origin}/short`);
  await waitFor(async () => (await row())?.verdict === '200', { timeout: 15_000, message: 'the short-lived token never listed with 200' });
  assert.match((await row()).exp, /^expires in \d s$/);
  // No request since: only the clock moves the row on.
  let last;
  await waitFor(async () => /^expired \d+ s ago$/.test((last = await row()).exp), {
    timeout: 15_000,
    message: () => `still ${last.exp} at ${now() - (t0 + 4)} s past its exp`,
  });
  // Decided again (the configuration loaded once more) after it expired: the worker answered 200 then.
  await panel.click('#load-config');
  await panel.waitForSelector('#config-status.ok');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await row()).verdict, '200');
  assert.match(await panel.getAttribute('#list tbody tr:has(td.url[title$="short=1"]) td.verdict', 'title'), /at the request's time/);
  await app.close();
  await panel.click('#clear');
});

test('tokens over the core size limit are listed as too large with their size, not kept; selecting one answers at once', async () => {
  await loadWorker(CONFIG);
  const N = 40;
  const SZ = 300_000;
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const hdr = b64({ alg: 'ES256', typ: 'JWT' });
  // A token of 20,000 claims, and N of SZ bytes each, all different (the page builds them).
  const wide = `${hdr}.${b64({ iss: ISS, sub: 'wide', exp: now() + 600, ...Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, i])) })}.c2ln`;
  PAGES.set(
    '/big',
    pageOf(`
    await fetch('/api/users?wide=1', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(wide)} } });
    const pad = 'A'.repeat(${SZ});
    for (let i = 0; i < ${N}; i++) {
      const p = btoa(JSON.stringify({ sub: 's' + i, pad })).replace(/=+$/, '').replace(/\\+/g, '-').replace(/\\//g, '_');
      await fetch('/api/users?big=' + i, { headers: { Authorization: 'Bearer ${hdr}.' + p + '.c2ln' } });
    }`),
  );
  const cdp = await context.newCDPSession(panel);
  const heap = () => heapKept(cdp);
  const h0 = await heap();
  const big = async () => (await rows()).filter((r) => /[?&](big|wide)=/.test(r.href ?? ''));
  let last;
  const { app } = await load(
    '/big',
    async () => (last = await big()).length === N + 1 && last.every((r) => r.verdict !== '…'),
    60_000,
  ).catch((e) => {
    throw new Error(`${e.message}: ${last?.length} rows`);
  });
  // Each as too large, with the core's message (its size) as the title; the worker's answer.
  for (const r of last) {
    assert.equal(r.kind, 'too large');
    assert.equal(r.verdict, '401 token_too_large');
  }
  const title = await panel.getAttribute('#list tbody tr:has(td.url[title$="wide=1"]) td.kind', 'title');
  assert.equal(title, `token is ${wide.length} bytes; the limit is 16384`);
  const h1 = await heap();
  // Kept of each: a bounded part (about the core's limit, here and in the devtools page), never
  // the token: a row costs a fraction of its token's size (each token is 400 KB in base64url).
  const perRow = (h1 - h0) / (N + 1);
  assert.ok(perRow < SZ / 3, `heap grew ${h1 - h0} bytes for ${N} tokens of ${SZ} bytes`);
  const kept = await panel.evaluate(() => document.documentElement.outerHTML.length);
  assert.ok(kept < 2_000_000, `the page holds ${kept} characters`);
  // Selected: the core's message, nothing decoded (no claims table of 20,000 rows), no Pin.
  await panel.click('#list tbody tr:has(td.url[title$="wide=1"])');
  await panel.waitForSelector('#too-large');
  assert.equal(
    await panel.textContent('#too-large'),
    `token_too_large: token is ${wide.length} bytes; the limit is 16384; not kept, not decoded here.`,
  );
  assert.equal(await panel.textContent('#parts'), '');
  assert.equal(await panel.$('#pin'), null);
  assert.match(await panel.textContent('#verdict-status'), /^HTTP 401 token_too_large/);
  console.log(
    `big tokens: ${N} × ${SZ} bytes and one of 20,000 claims (${wide.length} bytes): heap ${h0} -> ${h1}, ${Math.round(perRow)} bytes a row`,
  );
  await cdp.detach();
  await app.close();
  await panel.click('#clear');
});

test('at 500 px the list keeps its URL column: every cell on one line, cut ones ending in … with their text on hover', async () => {
  const long = mint({ sub: 'a-rather-long-subject-name@example.com' });
  PAGES.set(
    '/narrow',
    pageOf(
      `await fetch('/api/users/some/rather/long/path/segment/here?with=query', { headers: { Authorization: 'Bearer ' + ${JSON.stringify(long)} } });`,
    ),
  );
  const { app } = await load('/narrow', async () => (await rows()).some((r) => r.href?.includes('/segment/here')));
  await panel.setViewportSize({ width: 500, height: 900 });
  try {
    const fit = await panel.evaluate(() => {
      const table = document.getElementById('list');
      const tr = [...table.tBodies[0].rows].find((r) => r.querySelector('td.url').title.includes('/segment/here'));
      const line = parseFloat(getComputedStyle(tr.cells[0]).lineHeight) || 18;
      return {
        page: document.documentElement.scrollWidth - window.innerWidth,
        url: tr.querySelector('td.url').getBoundingClientRect().width,
        tall: [...tr.cells].filter((c) => c.getBoundingClientRect().height > 2 * line).map((c) => c.className),
        cut: [...table.querySelectorAll('th, td')].filter((c) => c.scrollWidth > c.clientWidth && !c.title).map((c) => c.textContent),
      };
    });
    assert.ok(fit.page <= 0, JSON.stringify(fit));
    assert.ok(fit.url >= 80, `URL column ${fit.url} px wide`);
    assert.deepEqual(fit.tall, []);
    assert.deepEqual(fit.cut, []);
    await panel.screenshot({ path: `${shots}/extension-500.png` });
  } finally {
    await panel.setViewportSize({ width: 1400, height: 900 });
  }
  await app.close();
  await panel.click('#clear');
});

test("a key fetch answered by a redirect is the core's redirect failure, as the worker reports it; the redirect is not followed", async () => {
  const hits = [];
  const idp = await listen((req, res) => {
    hits.push(req.url);
    if (req.url === '/jwks') return res.writeHead(302, { location: '/moved' }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [tg.publicJwk(key)] }));
  });
  const iss = `http://127.0.0.1:${idp.address().port}`;
  allowed.push(`${iss}/`, 'chrome://');
  const settings = await context.newPage();
  await settings.goto('chrome://extensions/');
  await settings.evaluate(([ext, pattern]) => chrome.developerPrivate.addHostPermission(ext, pattern), [id, `${iss}/*`]);
  await panel.fill(
    '#config',
    JSON.stringify({ issuers: [{ issuer: iss, audience: 'api', jwksUri: `${iss}/jwks` }], routes: CONFIG.routes }),
  );
  await panel.fill('#keys', '');
  await panel.click('#fetch-keys');
  await panel.waitForSelector('#config-status:has-text("Keys:")', { timeout: 15_000 });
  assert.equal(
    await panel.textContent('#config-status'),
    `Loaded: 1 issuer(s), 2 route(s). Keys: ${iss}: ${iss}/jwks: redirect: a redirect (its status hidden by the browser): not followed`,
  );
  assert.deepEqual(hits, ['/jwks']);
  await settings.close();
  idp.close();
});

test("pasted keys that are not JSON are refused in the core's words, not the browser's", async () => {
  await panel.fill('#config', JSON.stringify(CONFIG));
  await panel.fill('#keys', 'nope');
  await panel.click('#load-config');
  await panel.waitForSelector('#config-status.error .key-problem');
  const status = await panel.textContent('#config-status');
  assert.equal(
    status,
    `Loaded: 1 issuer(s), ${CONFIG.routes.length} route(s). Keys for ${ISS} refused: key_invalid: key JSON: expected ident at line 1 column 2; the worker answers 503 data_unavailable.`,
  );
  assert.doesNotMatch(status, /Unexpected token|not valid JSON/);
  await loadWorker(CONFIG);
});
test("fetching issuers' keys asks for host access to exactly their origins first, and fetches nothing before", async () => {
  const hits = [];
  const idp = await listen((req, res) => {
    hits.push(req.url);
    res.writeHead(404).end();
  });
  const port = idp.address().port;
  const config = {
    issuers: [
      { issuer: `http://127.0.0.1:${port}`, audience: 'api', discovery: true },
      { issuer: 'https://keys.example', audience: 'api', jwksUri: `http://localhost:${port}/jwks` },
    ],
    routes: CONFIG.routes,
  };
  await panel.fill('#config', JSON.stringify(config));
  await panel.fill('#keys', '');
  await panel.click('#fetch-keys');
  // The browser's prompt (which headless Chromium cannot answer) is up; nothing was fetched.
  await panel.waitForSelector('#config-status:has-text("Asking for host access")');
  assert.match(
    await panel.textContent('#config-status'),
    new RegExp(
      `Asking for host access to http://127\\.0\\.0\\.1:${port}/\\*, http://localhost:${port}/\\*: answer the browser's prompt\\.`,
    ),
  );
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(hits, []);
  idp.close();
});

test('a jwks_uri that discovery names on another origin is asked for at a second click, for that origin only; granted, its keys are fetched', async () => {
  // Headless Chromium cannot answer the browser's permission prompt, and CDP's
  // Browser.grantPermissions/setPermission know web permissions only, not an extension's host
  // access. What a user's "Allow" grants is granted here as the extensions page's Site access
  // setting does it (chrome://extensions, developerPrivate.addHostPermission); then
  // chrome.permissions.request for that origin resolves true without a prompt, and for any
  // other origin it still waits for one.
  const hits = [];
  const serve = () =>
    listen((req, res) => {
      hits.push(`${req.socket.localPort} ${req.url}`);
      const json = (v) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
      if (req.url === '/.well-known/openid-configuration') return json({ issuer: iss, jwks_uri: `${keysOrigin}/jwks` });
      if (req.url === '/jwks') return json({ keys: [tg.publicJwk(idpKey)] });
      res.writeHead(404).end();
    });
  const idpKey = tg.generateKey('ES256', { kid: 'idp-1' });
  const [idp, keyHost] = [await serve(), await serve()];
  // Two ports of 127.0.0.1: two origins, each asked for on its own.
  const iss = `http://127.0.0.1:${idp.address().port}`;
  const keysOrigin = `http://127.0.0.1:${keyHost.address().port}`;
  allowed.push(`${iss}/`, `${keysOrigin}/`, 'chrome://');
  const settings = await context.newPage();
  await settings.goto('chrome://extensions/');
  const allow = (o) => settings.evaluate(([ext, pattern]) => chrome.developerPrivate.addHostPermission(ext, pattern), [id, `${o}/*`]);
  // The first click's answer: the issuer's origin allowed.
  await allow(iss);
  await panel.fill('#config', JSON.stringify({ issuers: [{ issuer: iss, audience: 'api', discovery: true }], routes: CONFIG.routes }));
  await panel.fill('#keys', '');
  await panel.click('#fetch-keys');
  // Discovery fetched from the issuer; its jwks_uri's origin is a second question, on a button
  // naming it, and nothing is fetched from there before it is answered.
  const button = panel.locator('#config-status button.allow-origin');
  await button.waitFor({ timeout: 15_000 }).catch(async (e) => {
    throw new Error(`no button: ${await panel.textContent('#config-status')}; fetched ${JSON.stringify(hits)}`, { cause: e });
  });
  assert.equal(await button.textContent(), `Allow ${keysOrigin} and fetch ${iss}'s keys`);
  assert.deepEqual(hits, [`${idp.address().port} /.well-known/openid-configuration`]);
  // Not granted yet: the click asks, and while the prompt waits nothing is fetched.
  await button.click();
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(hits, [`${idp.address().port} /.well-known/openid-configuration`]);
  // The prompt's answer: that origin allowed. The button asks again and fetches.
  await allow(keysOrigin);
  await button.click();
  await panel.waitForSelector(`#config-status:has-text("Keys: ${keysOrigin}/jwks")`, { timeout: 15_000 });
  assert.deepEqual(hits, [`${idp.address().port} /.well-known/openid-configuration`, `${keyHost.address().port} /jwks`]);
  assert.equal(await panel.$eval('#config-status', (e) => e.className), 'ok');
  await settings.close();
  idp.close();
  keyHost.close();
});

test('no request left 127.0.0.1 or the extension', () => {
  const foreign = requests.filter((u) => !allowed.some((a) => u.startsWith(a)));
  assert.deepEqual(foreign, []);
  assert.ok(requests.some((u) => u.startsWith(`${origin}/api/`)));
  assert.deepEqual(errors, []);
});
