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
  assert.match(await text('#summary'), /Expired 1 h (\d+ s )?ago/);
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
  assert.match(await text('#timeline .warning'), /^exp is past the 30 d maximum lifetime \(\d{4}-/);
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

test('timeline labels never overlap one another, the heading or the caption, and stay inside the timeline, at 360, 800 and 1200 px', async () => {
  const day = 86_400;
  const cases = {
    close: { iat: now - 10, nbf: now - 5, exp: now + 3600 },
    same: { iat: now, nbf: now, exp: now + 30 },
    far: { iat: now - 20 * day, nbf: now - 20 * day, exp: now + 5 * day },
    expired: { iat: now - 7200, exp: now - 3600 },
    future: { iat: now + 3600, nbf: now + 7200, exp: now + 9000 },
    over: { iat: now - 60, exp: now - 60 + 40 * day },
    huge: { iat: now - 10, nbf: now - 9, exp: now + 3650 * day },
  };
  for (const width of [360, 800, 1200]) {
    await page.setViewportSize({ width, height: 900 });
    for (const [name, times] of Object.entries(cases)) {
      await paste(tg.mint(esKey, claims(times)));
      const { box, labels, others } = await page.$eval('#timeline', (t) => ({
        box: t.getBoundingClientRect().toJSON(),
        labels: [...t.querySelectorAll('.mark span')].map((s) => ({ text: s.textContent, ...s.getBoundingClientRect().toJSON() })),
        others: [...t.querySelectorAll('h2, .warning')].map((e) => ({ text: e.tagName, ...e.getBoundingClientRect().toJSON() })),
      }));
      const where = `${name} at ${width} px`;
      assert.ok(labels.some((l) => l.text === 'now') && labels.some((l) => l.text === 'exp'), where);
      if (name === 'huge' || name === 'over')
        assert.ok(
          labels.some((l) => l.text === 'max lifetime'),
          where,
        );
      const apart = (a, b) => a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
      const all = [...labels, ...others];
      for (let i = 0; i < labels.length; i++) {
        const l = labels[i];
        assert.ok(l.left >= box.left && l.right <= box.right && l.top >= box.top && l.bottom <= box.bottom, `${where}: ${l.text} outside`);
        for (let j = i + 1; j < all.length; j++) assert.ok(apart(l, all[j]), `${where}: ${l.text} overlaps ${all[j].text}`);
      }
      if (name === 'huge') await page.screenshot({ path: `${shots}/timeline-huge-${width}.png`, fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("an API key the core cannot read shows the core's reason: no hash, no Copy, no undefined", async () => {
  const raw = tg.apiKey.generate();
  const last = raw.at(-1);
  for (const bad of [`${raw.slice(0, -1)}${last === 'A' ? 'B' : 'A'}`, 'tgk_', 'tgk_<img id=pwn src=x>']) {
    await paste(bad);
    const reason = tg.inspect(bad).apikey.error;
    assert.ok(reason, bad);
    assert.equal(await text('#error'), reason);
    assert.equal(await page.$('#apikey-hash'), null);
    assert.equal(await page.$('button[aria-label="Copy hash"]'), null);
    assert.doesNotMatch(await text('main'), /undefined/);
    assert.doesNotMatch(await page.content(), /undefined/);
  }
  assert.equal(await page.$('#pwn'), null);
});

test('redacted, nothing of the credential is in the DOM: no token part, API key or hash, in text or attributes', async () => {
  const raw = tg.apiKey.generate();
  const jwt = tg.mint(esKey, claims({ sub: 'redacted-subject' }));
  await page.fill('#token', '');
  await page.waitForFunction(() => !document.querySelector('#summary h2'));
  const secrets = [raw, tg.apiKey.hash(raw), raw.slice(4), ...jwt.split('.'), 'redacted-subject'];
  // Both ways a caller redacts: the option, and the body's class (the panel's Redact toggle).
  for (const how of ['option', 'class']) {
    await page.evaluate(
      async ([credentials, how]) => {
        const c = await import('/components.js');
        if (how === 'class') document.body.classList.add('redacting');
        for (const text of credentials) {
          const boxes = Object.fromEntries(
            ['summary', 'timeline', 'parts', 'lints', 'scopes'].map((n) => [n, document.createElement('section')]),
          );
          const holder = document.createElement('div');
          holder.className = 'redaction-test';
          holder.append(c.colouredToken(text, { redact: true }), ...Object.values(boxes));
          document.body.append(holder);
          c.renderInspection(boxes, text, how === 'option' ? { redact: true } : {});
        }
      },
      [[raw, jwt], how],
    );
    assert.match(await page.textContent('.redaction-test'), /SHA-256/); // the key was drawn, redacted
    const html = await page.content();
    for (const s of secrets) assert.ok(!html.includes(s), `${how}: ${s.slice(0, 12)}… is in the DOM`);
    await page.evaluate(() => {
      document.querySelectorAll('.redaction-test').forEach((e) => e.remove());
      document.body.classList.remove('redacting');
    });
  }
});

test("a refused key is explained by the core's message: the secret-length advice only for a short secret, no figures of the page's own", async () => {
  await paste(tg.mint(hsKey, claims()));
  const core = async (keys) => {
    try {
      await new tg.Validator({ keys }).validateAsync(tg.mint(hsKey, claims()));
    } catch (e) {
      return `${e.code}: ${e.message}`;
    }
    throw new Error('valid');
  };
  const refused = {
    'unsupported alg': JSON.stringify({ keys: [{ kty: 'oct', alg: 'XX1', k: hsKey.k }] }),
    'not JSON': 'nope',
    'half JSON': '{not json',
    'too deep': `${'['.repeat(5000)}${']'.repeat(5000)}`,
  };
  const worker =
    'This is a problem with the key, not with the token: tokengate refuses this key. A worker configured with it accepts nothing ' +
    '(it reports the configuration as unavailable).';
  for (const [what, keys] of Object.entries(refused)) {
    const expected = await core(keys);
    assert.match(expected, /^key_invalid: /, what);
    assert.equal(await verifyWith('jwks', keys), expected, what);
    assert.equal(await text('#verify-worker'), worker, what);
    assert.doesNotMatch(await text('#verify-out'), /at least|bytes|Unexpected token/, what);
  }
  // A short secret: the core names the minimum, and that is the advice shown.
  const short = await verifyWith('secret', 'your-256-bit-secret');
  assert.equal(
    short,
    'key_invalid: key "hs": HMAC key is 19 bytes, shorter than the 32-byte hash output; use a secret of at least 32 bytes',
  );
  assert.equal(await text('#verify-worker'), worker);
});

test("every duration on the page is the core's wording: expiry, lifetime, claim times and the maximum lifetime", async () => {
  const t0 = Math.floor(Date.now() / 1000);
  const t = tg.mint(esKey, claims({ iat: t0 - 20, exp: t0 + 3560 }));
  await paste(t);
  assert.equal(await text('#lifetime'), `Lifetime ${tg.inspect(t).lifetimeText}.`);
  assert.equal(await text('#lifetime'), 'Lifetime 59 min 40 s.');
  assert.match(await text('#expiry'), /^Expires in 5\d min( \d+ s)? \(/);
  const when = await page.$$eval('#parts .when', (s) => s.map((e) => e.textContent));
  assert.match(when.join('|'), /\(2\d s ago\)/);
  const huge = tg.mint(esKey, claims({ iat: now - 10, nbf: now - 9, exp: now - 10 + 3650 * 86_400 }));
  await paste(huge);
  assert.equal(await text('#lifetime'), 'Lifetime 10 years.');
  assert.match(await text('#expiry'), /^Expires in 9 years 364 d \(/);
  assert.match(await text('#timeline .warning'), new RegExp(`^exp is past the ${tg.inspect(huge).maxLifetimeText} maximum lifetime`));
  // Past a year the core counts years: no "3650 days", nor any count of days that is a year or more.
  const main = await text('main');
  assert.doesNotMatch(main, /\bdays?\b/);
  for (const [, d] of main.matchAll(/(\d+) d\b/g)) assert.ok(Number(d) < 365, `${d} d`);
});

test('no request left for another origin', () => {
  assert.deepEqual(offsite, []);
});
