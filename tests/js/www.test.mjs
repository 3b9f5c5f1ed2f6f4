// The inspector page in headless Chromium, served from www/ on 127.0.0.1: each scenario pastes a
// token, checks what a person sees, and saves a screenshot to artifacts/screenshots/. No request
// may leave for another origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tg from 'tokengate';
import { serve } from '../runtime/serve.mjs';
import { launch } from '../runtime/chromium.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const shots = `${root}artifacts/screenshots`;
mkdirSync(shots, { recursive: true });
execFileSync('bash', ['scripts/www.sh'], { cwd: root });

const now = Math.floor(Date.now() / 1000);
const SECRET = 'correct horse battery staple, long enough for HS256';
const hsKey = { kty: 'oct', k: Buffer.from(SECRET).toString('base64url'), kid: 'hs' };
const esKey = tg.generateKey('ES256', { kid: 'es-1' });
const edKey = tg.generateKey('EdDSA', { kid: 'ed-1' });
const claims = (extra = {}) => ({
  iss: 'https://auth.example',
  sub: 'user-1',
  aud: 'api',
  iat: now - 60,
  exp: now + 3600,
  jti: 'j-1',
  scope: 'users:read users:write billing:read',
  ...extra,
});

let server;
let browser;
let page;
const offsite = [];
before(async () => {
  server = await serve(`${root}www`);
  browser = await launch();
  page = await browser.newPage();
  page.on('request', (r) => {
    if (!r.url().startsWith(`http://127.0.0.1:${server.address().port}/`)) offsite.push(r.url());
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForSelector('body[data-ready=true]', { timeout: 30_000 }).catch(() => {
    throw new Error(`page did not start: ${errors.join('; ')}`);
  });
});
after(async () => {
  await browser?.close();
  server?.close();
});

async function paste(token, shot) {
  await page.fill('#token', token);
  await page.waitForSelector('#summary h2');
  if (shot) await page.screenshot({ path: `${shots}/${shot}.png`, fullPage: true });
}
const text = (sel) => page.textContent(sel);

async function verifyWith(kind, material, extra = {}) {
  await page.check(`input[name=keykind][value=${kind}]`);
  await page.fill('#key', material);
  await page.fill('#v-iss', extra.iss ?? '');
  await page.fill('#v-aud', extra.aud ?? '');
  await page.click('#verify-form button');
  await page.waitForSelector('#verify-result');
  return text('#verify-result');
}

test('HS256: active status, claims, scopes by resource, verification with the secret', async () => {
  await paste(tg.mint(hsKey, claims()));
  assert.equal(await text('#status'), 'active');
  assert.match(await text('#parts'), /"user-1"/);
  assert.equal(
    await page.getAttribute('#parts th[title^="Expiration"]', 'title'),
    'Expiration time: not accepted on or after this instant (§4.1.4)',
  );
  assert.match(await text('#scopes'), /users\s*read, write/);
  // HMAC with an https issuer is flagged.
  assert.ok(await page.$('#lints [data-code=hs_alg_public_issuer]'));
  await page.fill('#requirement', 'users:read and admin');
  assert.equal(await text('#requirement-out'), 'Missing: admin');
  await page.fill('#requirement', 'users:write or admin');
  assert.equal(await text('#requirement-out'), 'Satisfied.');
  assert.match(await verifyWith('secret', SECRET, { iss: 'https://auth.example', aud: 'api' }), /^Valid: HS256/);
  assert.match(await verifyWith('secret', 'another secret that is also long enough'), /^signature_invalid/);
  // A huge pasted secret is a wrong key, not a page error (it used to overflow the stack).
  assert.match(await verifyWith('secret', 'x'.repeat(200_000)), /^signature_invalid/);
  await page.screenshot({ path: `${shots}/hs256-verified.png`, fullPage: true });
});

test('ES256 and EdDSA: verification with a JWKS, and the worker error for a wrong audience', async () => {
  for (const [key, alg] of [
    [esKey, 'ES256'],
    [edKey, 'EdDSA'],
  ]) {
    await paste(tg.mint(key, claims()), alg.toLowerCase());
    assert.match(await text('#summary h2'), new RegExp(alg));
    const jwks = JSON.stringify({ keys: [tg.publicJwk(key)] });
    assert.match(await verifyWith('jwks', jwks), new RegExp(`^Valid: ${alg} signature by ${key.kid}`));
    assert.match(await verifyWith('jwks', jwks, { aud: 'other' }), /^audience_not_allowed/);
    assert.match(await text('#verify-out'), /HTTP 401 with WWW-Authenticate: Bearer realm="api", error="invalid_token"/);
  }
});

test('expired token: status badge, expiry line and timeline', async () => {
  await paste(tg.mint(esKey, claims({ iat: now - 7200, exp: now - 3600 })), 'expired');
  assert.equal(await text('#status'), 'expired');
  assert.match(await text('#summary'), /Expired 1 h ago/);
  assert.match(await page.getAttribute('#timeline .bar', 'aria-label'), /^iat .* exp .* now /);
  assert.match(await verifyWith('jwks', JSON.stringify(tg.publicJwk(esKey))), /^token_expired/);
});

test('malformed token: the broken part is named with its position', async () => {
  const [h, , s] = tg.mint(esKey, claims()).split('.');
  await paste(`${h}.eyJzdWIi$$.${s}`, 'malformed');
  assert.match(await text('#parts .broken'), /payload: not valid base64url at character \d+/);
  assert.equal(await page.isHidden('#verify'), false);
});

test('API key: prefix, checksum and hash', async () => {
  const raw = tg.apiKey.generate();
  await paste(raw, 'apikey');
  assert.equal(await text('#status'), 'checksum valid');
  assert.equal(await text('#apikey-hash'), tg.apiKey.hash(raw));
  await paste(`${raw.slice(0, -1)}${raw.endsWith('0') ? '1' : '0'}`);
  assert.equal(await text('#status'), 'checksum wrong');
  assert.equal(await page.isHidden('#verify'), true);
});

test('dark scheme on a narrow window: no horizontal scrolling; every control is labelled and reachable by keyboard', async () => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 360, height: 800 });
  await paste(tg.mint(edKey, claims()), 'dark-narrow');
  const { overflow, unlabelled, bg } = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    unlabelled: [...document.querySelectorAll('input, textarea, button')]
      .filter((c) => !c.closest('[hidden]'))
      .filter((c) => c.tagName !== 'BUTTON' && !(c.labels?.length || c.getAttribute('aria-label')))
      .map((c) => c.id || c.outerHTML),
    bg: getComputedStyle(document.body).backgroundColor,
  }));
  assert.ok(overflow <= 0, `scrolls sideways by ${overflow}px`);
  assert.deepEqual(unlabelled, []);
  assert.equal(bg, 'rgb(22, 24, 29)');
  // Tab from the token box reaches the requirement field and the verify controls.
  await page.focus('#token');
  const seen = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    seen.push(
      await page.evaluate(
        () => document.activeElement?.id || document.activeElement?.getAttribute('name') || document.activeElement?.tagName,
      ),
    );
  }
  assert.ok(seen.includes('requirement') && seen.includes('keykind') && seen.includes('key'), seen.join(' '));
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('a text file dropped on the box is inspected', async () => {
  const token = tg.mint(esKey, claims({ sub: 'dropped-user' }));
  const dt = await page.evaluateHandle((t) => {
    const d = new DataTransfer();
    d.items.add(new File([`${t}\n`], 'token.txt', { type: 'text/plain' }));
    return d;
  }, token);
  await page.dispatchEvent('#token', 'drop', { dataTransfer: dt });
  await page.waitForFunction(() => document.querySelector('#parts')?.textContent.includes('dropped-user'));
  assert.equal(await page.inputValue('#token'), token);
});

test('polish: coloured parts, copy buttons, human durations, no backticks, a favicon', async () => {
  await paste(tg.mint(esKey, claims({ iat: now - 60, exp: now + 3240 })));
  for (const part of ['header', 'payload', 'signature']) assert.ok(await page.$(`#token-parts .tp-${part}`), part);
  assert.ok(await page.$('button.copy[aria-label="Copy token"]'));
  assert.match(await text('#expiry'), /^Expires in 5\d min/);
  assert.doesNotMatch(await text('main'), /`/);
  assert.equal(await page.getAttribute('link[rel=icon]', 'href'), './favicon.svg');
  // Timeline labels above the line never overlap.
  await paste(tg.mint(esKey, claims({ iat: now - 10, nbf: now - 5, exp: now + 3600 })));
  const boxes = await page.$$eval('#timeline .mark:not(.now) span', (s) => s.map((e) => e.getBoundingClientRect().toJSON()));
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const [a, b] = [boxes[i], boxes[j]];
      assert.ok(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top, 'timeline labels overlap');
    }
});

test('a malformed token never gets a green badge', async () => {
  const [h, , s] = tg.mint(esKey, claims()).split('.');
  await paste(`${h}.eyJzdWIi$$.${s}`);
  assert.equal(await text('#status'), 'malformed');
  assert.notEqual(
    await page.$eval('#status', (e) => getComputedStyle(e).color),
    await page.evaluate(() => getComputedStyle(document.querySelector('.ok') ?? document.body).color),
  );
});

test('the badge follows the core: never green with an error-severity finding, and a payload of [1] is malformed', async () => {
  const [h, , s] = tg.mint(esKey, claims()).split('.');
  const b64 = (t) => Buffer.from(t).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    ['{"sub":"a","exp":"10"}', 'invalid', 'numeric_date_invalid'],
    ['{"sub":"b","exp":1e300}', 'invalid', 'numeric_date_invalid'],
    [`{"sub":"c","nbf":"x","exp":${now + 600}}`, 'invalid', 'numeric_date_invalid'],
    [JSON.stringify({ sub: 'd', exp: now + 600, pad: 'x'.repeat(20_000) }), 'invalid', 'token_too_large'],
    ['[1]', 'malformed', null],
    // Over the maximum lifetime: the default policy rejects it (lifetime_exceeded), so not green.
    [JSON.stringify({ sub: 'e', iat: now - 60, exp: now - 60 + 40 * 86400 }), 'invalid', 'lifetime_over_max'],
  ];
  for (const [payload, label, code] of cases) {
    await paste(`${h}.${b64(payload)}.${s}`);
    await page.waitForFunction((l) => document.querySelector('#status')?.textContent === l, label, { timeout: 5000 }).catch(() => {});
    assert.equal(await text('#status'), label, payload.slice(0, 40));
    assert.doesNotMatch(await page.$eval('#status', (e) => e.className), /\bactive\b/);
    if (code) assert.match(await page.$eval('#status', (e) => e.title), new RegExp(code));
  }
  // The timeline marks the core's maximum lifetime.
  assert.match(await text('#timeline .warning'), /^exp is past the 30 days maximum lifetime \(\d{4}-/);
  assert.match(await text('#lints [data-code=lifetime_over_max]'), /^error: lifetime 40 d exceeds 30 d/);
});

test("an aud mismatch shows expected and actual; jwt.io's sample secret is a key problem, not an HTTP 500", async () => {
  await paste(tg.mint(esKey, claims()));
  await verifyWith('jwks', JSON.stringify({ keys: [tg.publicJwk(esKey)] }), { aud: 'billing' });
  assert.equal(await text('#aud-diff'), 'Expected audience "billing"; the token has "api".');
  const sample =
    'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c';
  await paste(sample, 'jwtio-sample');
  assert.match(await verifyWith('secret', 'your-256-bit-secret'), /^key_invalid: .*19 bytes/);
  assert.doesNotMatch(await text('#verify-out'), /HTTP 500/);
  assert.match(await text('#verify-worker'), /problem with the key, not with the token/);
});

test('encode tab: a test token signed with HS256 or a generated ES256 key, inspected and verified', async () => {
  await page.click('#encode summary');
  assert.match(await text('#encode-warning'), /For testing only/);
  await page.selectOption('#enc-alg', 'HS256');
  await page.fill('#enc-secret', SECRET);
  await page.click('#encode-form button');
  await page.waitForSelector('#encode-result.ok');
  assert.equal(await text('#status'), 'active');
  assert.match(await verifyWith('secret', SECRET, { aud: 'api' }), /^Valid: HS256/);
  await page.selectOption('#enc-alg', 'ES256');
  await page.click('#encode-form button');
  await page.waitForSelector('#encode-jwk');
  assert.match(await verifyWith('jwks', await text('#encode-jwk')), /^Valid: ES256/);
  await page.screenshot({ path: `${shots}/encode.png`, fullPage: true });
});

test('the Verify form is written once, in components.js: the page and the panel draw the same one', async () => {
  // Neither page's HTML holds the form: both leave an empty section for verifyForm().
  for (const file of ['www/index.html', 'extension/panel.html']) {
    const html = readFileSync(`${root}${file}`, 'utf8');
    assert.match(html, /<section id="verify" aria-labelledby="verify-h"( hidden)?><\/section>/, file);
    assert.doesNotMatch(html, /verify-form|name="keykind"|id="key"/, file);
  }
  await paste(tg.mint(esKey, claims()));
  const fields = await page.$$eval('#verify input, #verify textarea, #verify button', (cs) =>
    cs.map(
      (c) => `${c.tagName.toLowerCase()} ${c.id || c.value || c.textContent}${c.labels?.[0] ? ` "${c.labels[0].textContent.trim()}"` : ''}`,
    ),
  );
  assert.deepEqual(fields, [
    'input jwks "JWKS or JWK (JSON)"',
    'input secret "HMAC secret (text)"',
    'input secret-b64 "HMAC secret (base64url)"',
    'textarea key "Key material"',
    'input v-iss "Issuer"',
    'input v-aud "Audience"',
    'input v-leeway "Leeway (s)"',
    'input v-now "Now (Unix s)"',
    'button Verify',
  ]);
  assert.equal(await text('#verify-h'), 'Verify');
  // now and leeway reach the core: a token checked at an instant past its expiry.
  await page.fill('#v-now', String(now + 7200));
  assert.match(await verifyWith('jwks', JSON.stringify(tg.publicJwk(esKey))), /^token_expired/);
  await page.fill('#v-leeway', '7200');
  assert.match(await verifyWith('jwks', JSON.stringify(tg.publicJwk(esKey))), /^Valid: ES256/);
  await page.fill('#v-now', '');
  await page.fill('#v-leeway', '');
});

test('no request left for another origin', () => {
  assert.deepEqual(offsite, []);
});
