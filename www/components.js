// What the inspector page (www/app.js) and the DevTools extension's panel (extension/panel.js)
// both show for one credential: the coloured token, summary, timeline, parts, findings and
// scopes. Everything rendered comes from the core's inspect(); this file only lays it out.
import { inspect, checkScopes, errorCodes, Validator, TokengateError } from './lib/js/browser.js';

/** One line per registered name, shown on hover and to screen readers. */
export const EXPLAIN = {
  iss: 'Issuer: who minted the token (RFC 7519 §4.1.1)',
  sub: 'Subject: the user or client the token is about (§4.1.2)',
  aud: 'Audience: the services meant to accept it (§4.1.3)',
  exp: 'Expiration time: not accepted on or after this instant (§4.1.4)',
  nbf: 'Not before: not accepted before this instant (§4.1.5)',
  iat: 'Issued at: when it was minted (§4.1.6)',
  jti: 'JWT ID: unique id, what revocation lists name (§4.1.7)',
  scope: 'Granted scopes, space-separated (RFC 8693 §4.2)',
  scp: 'Granted scopes (array or string)',
  scopes: 'Granted scopes (array)',
  type: 'Token type: access vs refresh (tokengate default claim)',
  typ: 'Media type of the token, e.g. JWT (RFC 7515 §4.1.9)',
  alg: 'Signature algorithm (RFC 7515 §4.1.1); "none" is never accepted',
  kid: 'Key ID: which key of the issuer signed it (RFC 7515 §4.1.4)',
  cty: 'Content type of the payload (RFC 7515 §4.1.10)',
  crit: 'Extensions a validator must understand (RFC 7515 §4.1.11)',
  jku: 'A URL of keys: never used to choose a key',
  jwk: 'An embedded key: never used to choose a key',
  x5u: 'A certificate URL: never used to choose a key',
  x5c: 'A certificate chain: never used to choose a key',
  azp: 'Authorized party: the client the token was issued to (OIDC)',
  client_id: 'OAuth client the token was issued to (RFC 8693 §4.3)',
};

// C0 and C1 controls, DEL, the line and paragraph separators and the bidirectional marks,
// embeddings, overrides and isolates (which reorder what follows them on screen), as the CLI
// shows them: visible escapes. A <pre> keeps its line breaks and tabs.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };
const escaped = (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
/** Text from a token or a request as it is drawn: its control and bidi characters as escapes. */
export const visible = (value, { lines = false } = {}) => String(value).replace(lines ? CONTROL_BUT_LINES : CONTROL, escaped);

/** An element; every text and attribute value in it is drawn with visible() (no raw controls). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  const lines = tag === 'pre';
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = visible(v, { lines });
    else if (k === 'style')
      e.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike style attributes
    else e.setAttribute(k, visible(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' ? visible(c, { lines }) : c);
  return e;
}

/** A message from the core, with its `code` spans as <code> (no literal backticks on screen). */
export function prose(text) {
  const out = document.createDocumentFragment();
  String(text)
    .split('`')
    .forEach((piece, i) => {
      if (piece) out.append(i % 2 ? el('code', { text: piece }) : visible(piece));
    });
  return out;
}

/** A copy-to-clipboard button for `value()` (read when clicked). */
export function copyButton(label, value) {
  const b = el('button', { type: 'button', class: 'copy', 'aria-label': `Copy ${label}`, text: 'Copy' });
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value());
      b.textContent = 'Copied';
    } catch {
      b.textContent = 'Copy failed';
    }
    setTimeout(() => (b.textContent = 'Copy'), 1500);
  });
  return b;
}

/**
 * True when any part failed to decode, the core reported an error, or the core found no claims
 * object in a JWT's payload (`claims: null`, e.g. a payload of `[1]`): never a green badge.
 */
export const isMalformed = (r) =>
  Boolean(r.error) || (r.parts ?? []).some((p) => !p.ok) || (r.kind === 'jwt' && (r.claims === null || typeof r.claims !== 'object'));

/** The core's findings of severity error (numeric_date_invalid, token_too_large, …). */
export const errorLints = (r) => (r.lints ?? []).filter((l) => l.severity === 'error');

/** The badge follows the core's inspection: its status, unless a part or a finding says otherwise. */
export function statusBadge(r) {
  if (isMalformed(r)) return el('span', { class: 'badge malformed', id: 'status', text: 'malformed' });
  const errors = errorLints(r);
  if (errors.length)
    return el('span', { class: 'badge malformed', id: 'status', title: errors.map((l) => l.code).join(', '), text: 'invalid' });
  const label =
    { active: 'active', expiring_soon: 'expiring soon', expired: 'expired', not_yet_valid: 'not yet valid', unknown: r.kind }[r.status] ??
    r.status;
  return el('span', { class: `badge ${r.status}`, id: 'status', text: label });
}

/** The token with its header, payload and signature in their colours (as jwt.io shows them). */
export function colouredToken(text, { redact = false } = {}) {
  const box = el('div', { class: 'token-parts', id: 'token-parts', 'aria-label': 'Token parts' });
  const pieces = text.split('.');
  if (pieces.length < 2 || text.startsWith('tgk_')) {
    box.append(el('span', { class: 'tp-other', text: redact ? redacted(text) : text }));
    return box;
  }
  const names = ['header', 'payload', 'signature', 'extra', 'extra'];
  pieces.forEach((p, i) => {
    if (i) box.append(el('span', { class: 'tp-dot', text: '.' }));
    const shown = redact ? redacted(p) : p;
    box.append(el('span', { class: `tp-${names[Math.min(i, 4)]}`, title: names[Math.min(i, 4)], text: shown }));
  });
  return box;
}

/** A value with only its first and last characters left, for screenshots. */
// Nothing of the value is kept, not even its length: the part structure (the dots) is what shows.
export const redacted = () => '••••';

function claimsTable(title, obj, times = {}, now) {
  const rows = Object.entries(obj).map(([k, v]) => {
    const t = times[k];
    return el(
      'tr',
      {},
      el('th', { scope: 'row', title: EXPLAIN[k] ?? '', ...(EXPLAIN[k] ? { 'aria-description': EXPLAIN[k], class: 'explained' } : {}) }, k),
      el('td', {}, el('code', { text: JSON.stringify(v) }), t ? el('span', { class: 'when', text: ` ${t.iso} (${t.relative})` }) : null),
    );
  });
  const slug = title.toLowerCase();
  return el(
    'div',
    { class: `part part-${slug}` },
    el(
      'h3',
      {},
      title,
      ' ',
      copyButton(`${slug} JSON`, () => JSON.stringify(obj, null, 2)),
    ),
    el('table', { class: 'claims' }, el('tbody', {}, ...rows)),
  );
}

function renderSummary(box, r, now, redact) {
  box.replaceChildren();
  if (r.kind === 'apikey') {
    const a = r.apikey;
    // The core gives a hash only for a key it could parse; otherwise its reason is shown. A
    // redacted hash is not written at all (not merely hidden): it is what the store finds.
    const hash = typeof a.hash === 'string' ? a.hash : null;
    box.append(
      el(
        'h2',
        {},
        'tokengate API key ',
        el('span', {
          class: `badge ${a.checksumValid ? 'active' : 'expired'}`,
          id: 'status',
          text: a.checksumValid ? 'checksum valid' : 'checksum wrong',
        }),
      ),
      ...(a.error ? [el('p', { class: 'error', id: 'error', role: 'alert' }, prose(a.error))] : []),
      el(
        'dl',
        {},
        el('dt', { text: 'Prefix' }),
        el('dd', { text: a.prefix }),
        ...(hash === null
          ? []
          : [
              el('dt', { text: 'SHA-256 (the store looks the record up by this)' }),
              redact
                ? el('dd', { id: 'apikey-hash-redacted', text: 'Redacted.' })
                : el(
                    'dd',
                    {},
                    el('code', { id: 'apikey-hash', text: hash }),
                    ' ',
                    copyButton('hash', () => hash),
                  ),
            ]),
      ),
    );
    return;
  }
  box.append(
    el(
      'h2',
      {},
      `${r.kind === 'jwt' ? 'JWT' : r.kind.toUpperCase()} `,
      statusBadge(r),
      r.alg ? el('span', { class: 'alg', text: ` ${r.alg}` }) : null,
    ),
  );
  if (r.error) box.append(el('p', { class: 'error', id: 'error', role: 'alert' }, `${r.error[0]}: `, prose(r.error[1])));
  if (typeof r.expiresIn === 'number' && r.expiresInText) {
    const at = r.times?.exp ? ` (${new Date(r.times.exp.unix * 1000).toLocaleString()})` : '';
    box.append(
      el('p', {
        id: 'expiry',
        text:
          r.expiresIn >= 0
            ? `Expires ${r.expiresInText}${at}${r.needsRefresh ? ' — refresh now' : ''}.`
            : `Expired ${r.expiresInText}${at}.`,
      }),
    );
  }
  if (r.lifetime && r.lifetimeText) box.append(el('p', { class: 'when', id: 'lifetime', text: `Lifetime ${r.lifetimeText}.` }));
  void now;
}

const LANE = 1.2; // rem between two rows of timeline labels
const GAP = 6; // px between two labels on one row

/**
 * Places the timeline's labels from their drawn widths: each centred on its mark but kept inside
 * the line's box, and moved up a row while it would touch a label to its left. Percentages alone
 * cannot do it: how wide "max lifetime" is depends on the font and the window.
 */
function placeLabels(bar) {
  const width = bar.clientWidth;
  if (!width) return; // not laid out (hidden): the resize observer places them when it is
  const marks = [...bar.querySelectorAll('.mark')].map((m) => ({ m, s: m.firstElementChild, x: m.offsetLeft + m.offsetWidth / 2 }));
  marks.sort((a, b) => a.x - b.x);
  const rowEnds = [];
  for (const k of marks) {
    const w = k.s.offsetWidth;
    const left = Math.min(Math.max(0, k.x - w / 2), Math.max(0, width - w));
    let row = rowEnds.findIndex((end) => end + GAP <= left);
    if (row < 0) row = rowEnds.length;
    rowEnds[row] = left + w;
    k.s.style.cssText = `left:${(left - k.m.offsetLeft).toFixed(1)}px;top:${-1.3 - row * LANE}rem`;
  }
  bar.style.marginTop = `${0.5 + Math.max(0, rowEnds.length - 1) * LANE}rem`;
}

const observers = new WeakMap(); // timeline box → the observer re-placing its labels on resize

function renderTimeline(box, r, now) {
  box.replaceChildren();
  const t = r.times ?? {};
  if (!t.exp && !t.iat) return;
  const points = [
    ['iat', t.iat?.unix],
    ['nbf', t.nbf?.unix],
    ['exp', t.exp?.unix],
  ].filter(([, v]) => typeof v === 'number');
  // The core's maximum lifetime (the default policy's) is marked when the token reaches past it.
  const maxLifetime = t.iat ? t.iat.unix + r.maxLifetime : null;
  if (maxLifetime && t.exp && t.exp.unix > maxLifetime) points.push(['max lifetime', maxLifetime]);
  const all = [...points.map(([, v]) => v), now];
  const lo = Math.min(...all);
  const hi = Math.max(...all, lo + 1);
  const pct = (v) => ((v - lo) / (hi - lo)) * 100;
  const pos = (v) => `${pct(v).toFixed(2)}%`;
  points.sort((a, b) => a[1] - b[1]);
  const bar = el('div', {
    class: 'bar',
    role: 'img',
    'aria-label': [...points, ['now', now]]
      .sort((a, b) => a[1] - b[1])
      .map(([n, v]) => `${n} ${new Date(v * 1000).toISOString()}`)
      .join(', '),
  });
  if (t.exp) {
    const soon = t.exp.unix - 60;
    bar.append(
      el('div', {
        class: 'zone soon',
        style: `left:${pos(Math.max(lo, soon))};width:calc(${pos(t.exp.unix)} - ${pos(Math.max(lo, soon))})`,
        title: 'expiring soon',
      }),
    );
  }
  for (const [name, v] of [...points, ['now', now]])
    bar.append(el('div', { class: `mark ${name.replace(' ', '-')}`, style: `left:${pos(v)}` }, el('span', { text: name })));
  box.append(el('h2', { text: 'Timeline' }), bar);
  if (maxLifetime && t.exp && t.exp.unix > maxLifetime)
    box.append(
      el('p', {
        class: 'warning',
        text: `exp is past the ${r.maxLifetimeText} maximum lifetime (${new Date(maxLifetime * 1000).toISOString()}).`,
      }),
    );
  placeLabels(bar);
  observers.get(box)?.disconnect();
  if (typeof ResizeObserver === 'function') {
    const o = new ResizeObserver(() => placeLabels(bar));
    o.observe(bar);
    observers.set(box, o);
  }
}

function renderParts(box, r, now) {
  box.replaceChildren();
  const broken = (r.parts ?? []).filter((p) => !p.ok);
  if (broken.length) box.append(el('ul', { class: 'broken' }, ...broken.map((p) => el('li', { class: 'error' }, prose(p.error)))));
  if (r.header) box.append(claimsTable('Header', r.header, {}, now));
  if (r.claims) box.append(claimsTable('Claims', r.claims, r.times, now));
  else if (r.payloadText) box.append(el('h3', { text: 'Payload' }), el('pre', { text: r.payloadText }));
}

function renderLints(box, r) {
  box.replaceChildren();
  if (!r.lints?.length) return;
  const items = r.lints.map((l) =>
    el(
      'li',
      { class: `lint ${l.severity}`, 'data-code': l.code },
      el('strong', { text: `${l.severity}: ` }),
      prose(`${l.message}. ${l.advice} `),
      l.reference ? el('a', { href: l.reference, rel: 'noreferrer noopener', target: '_blank', text: 'RFC' }) : null,
    ),
  );
  box.append(el('h2', { text: 'Findings' }), el('ul', {}, ...items));
}

function renderScopes(box, r) {
  box.replaceChildren();
  if (r.kind !== 'jwt') return;
  const rows = Object.entries(r.scopesByResource ?? {}).map(([res, actions]) =>
    el('tr', {}, el('th', { scope: 'row', text: res }), el('td', { text: actions.join(', ') })),
  );
  const field = el('input', { id: 'requirement', type: 'text', placeholder: 'users:read and (billing:read or admin)' });
  const out = el('p', { id: 'requirement-out', 'aria-live': 'polite' });
  const check = () => {
    const req = field.value.trim();
    if (!req) return out.replaceChildren();
    try {
      checkScopes(r.scopes, req);
      out.className = 'ok';
      out.textContent = 'Satisfied.';
    } catch (e) {
      out.className = 'error';
      out.replaceChildren(
        e instanceof TokengateError
          ? e.code === 'insufficient_scope'
            ? `Missing: ${e.scope}`
            : prose(`${e.code}: ${e.message}`)
          : String(e),
      );
    }
  };
  field.addEventListener('input', check);
  box.append(
    el('h2', { text: 'Scopes' }),
    rows.length
      ? el(
          'table',
          { class: 'scopes' },
          el('thead', {}, el('tr', {}, el('th', { text: 'resource' }), el('th', { text: 'actions' }))),
          el('tbody', {}, ...rows),
        )
      : el('p', { text: 'No scopes.' }),
    el('label', { for: 'requirement', text: 'Check a requirement' }),
    field,
    out,
  );
}

/**
 * Inspects `text` and renders it into `boxes` ({ summary, timeline, parts, lints, scopes }, any
 * may be missing). `clockOnly` re-renders just what moves with the clock. `redact` (by default:
 * the body has the class `redacting`, as the panel's Redact sets it) writes nothing of the
 * credential: no API key hash, no claims, findings or scopes. Returns the inspection.
 */
export function renderInspection(
  boxes,
  text,
  {
    now = Math.floor(Date.now() / 1000),
    clockOnly = false,
    redact = Boolean(globalThis.document?.body?.classList.contains('redacting')),
  } = {},
) {
  const r = inspect(text, { now });
  if (boxes.summary) renderSummary(boxes.summary, r, now, redact);
  if (boxes.timeline) renderTimeline(boxes.timeline, r, now);
  if (clockOnly) return r;
  // Redacted, nothing of the token is written: its claims, findings (they quote values) and scopes.
  for (const [name, draw] of [
    ['parts', renderParts],
    ['lints', renderLints],
    ['scopes', renderScopes],
  ])
    if (boxes[name]) redact ? boxes[name].replaceChildren() : draw(boxes[name], r, now);
  return r;
}

/**
 * A verification failure explained: the code and message, the code's description, what a
 * worker answers (a key problem is the worker's configuration, not the token: it answers 503
 * and logs it), and for an audience mismatch the expected and the actual values.
 */
export function explainRejection(e, { codes = {}, claims, audience } = {}) {
  const out = [el('p', { class: 'error', id: 'verify-result' }, `${e.code}: `, prose(e.message))];
  if (codes[e.code]?.description) out.push(el('p', {}, prose(codes[e.code].description)));
  if (e.code === 'audience_not_allowed') out.push(audienceDiff(audience, claims?.aud));
  if (e.status >= 500)
    out.push(
      el(
        'p',
        { id: 'verify-worker' },
        'This is a problem with the key, not with the token: tokengate refuses this key. A worker configured with it accepts nothing ' +
          '(it reports the configuration as unavailable).',
      ),
    );
  else
    out.push(
      el(
        'p',
        { id: 'verify-worker' },
        `An edge worker answers HTTP ${e.status} with `,
        el('code', { text: `WWW-Authenticate: ${e.wwwAuthenticate}` }),
      ),
    );
  return out;
}

/** An audience mismatch: what was expected against what the token has (none: "no aud"). */
export function audienceDiff(expected, actual) {
  const value = (v) => (v === undefined || v === null ? el('em', { text: 'none' }) : el('code', { text: JSON.stringify(v) }));
  return el('p', { id: 'aud-diff' }, 'Expected audience ', value(expected), '; the token has ', value(actual), '.');
}

/** Bytes as a binary string, a byte at a time (spreading a large array overflows the stack). */
function binary(bytes) {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

let codes;
/**
 * Verifies `token` with pasted key material, as the page's and the panel's Verify forms do:
 * `{ kind: 'jwks' | 'secret' | 'secret-b64', material, options, now }` (options: issuer,
 * audience, leeway; absent ones are the core's defaults). `inspection` is the token's (a secret
 * is the key its header's kid names). Returns the elements to show.
 */
export async function verifyToken(token, { kind, material, options = {}, now }, inspection) {
  codes ??= Object.fromEntries(errorCodes().map((c) => [c.code, c]));
  let keys;
  if (kind === 'jwks') keys = material;
  else {
    const k =
      kind === 'secret-b64'
        ? material
        : btoa(binary(new TextEncoder().encode(material)))
            .replace(/\+/g, '-')
            .replace(/\//g, '_')
            .replace(/=+$/, '');
    const kid = typeof inspection?.header?.kid === 'string' ? inspection.header.kid : undefined;
    keys = { kty: 'oct', k, ...(kid ? { kid } : {}) };
  }
  try {
    // The edge module checks RSA/ECDSA/EdDSA signatures with WebCrypto: asynchronously.
    const r = await new Validator({ keys, ...options }).validateAsync(token, { now });
    return [
      el('p', {
        class: 'ok',
        id: 'verify-result',
        text: `Valid: ${r.alg} signature by ${r.kid ?? 'the key'}; subject ${r.subject ?? '(none)'}; scopes ${r.scopes.join(' ') || '(none)'}.`,
      }),
    ];
  } catch (e) {
    if (!(e instanceof TokengateError)) throw e;
    return explainRejection(e, { codes, claims: inspection?.claims, audience: options.audience });
  }
}

/**
 * The Verify form, written once for the inspector page and the extension's panel, drawn into
 * `section`: the key (a JWKS or JWK, or an HMAC secret as text or base64url), issuer, audience
 * and, with `clock`, leeway and `now`. On submit it verifies what `current()` names
 * (`{ token, inspection }`, or nothing to do) and shows the result in #verify-out.
 * `redactable`: the key field is one the panel hides while redacting.
 */
export function verifyForm(section, { heading = 'Verify', clock = false, redactable = false, current }) {
  const radio = (value, label, checked = false) =>
    el('label', {}, el('input', { type: 'radio', name: 'keykind', value, ...(checked ? { checked: '' } : {}) }), ` ${label}`);
  const field = (label, attrs) => el('label', {}, `${label} `, el('input', attrs));
  const key = el('textarea', { id: 'key', spellcheck: 'false', autocomplete: 'off', ...(redactable ? { class: 'secret' } : {}) });
  const form = el(
    'form',
    { id: 'verify-form' },
    el(
      'fieldset',
      {},
      el('legend', { text: 'Key' }),
      radio('jwks', 'JWKS or JWK (JSON)', true),
      radio('secret', 'HMAC secret (text)'),
      radio('secret-b64', 'HMAC secret (base64url)'),
      el('label', { for: 'key', text: 'Key material' }),
      key,
      redactable ? el('p', { class: 'redacted-note', text: 'Redacted.' }) : null,
    ),
    el(
      'div',
      { class: 'grid' },
      field('Issuer', { id: 'v-iss', type: 'text', placeholder: 'any' }),
      field('Audience', { id: 'v-aud', type: 'text', placeholder: 'any' }),
      clock ? field('Leeway (s)', { id: 'v-leeway', type: 'number', min: '0', placeholder: 'default' }) : null,
      clock ? field('Now (Unix s)', { id: 'v-now', type: 'number', min: '0', placeholder: 'current time' }) : null,
    ),
    el('button', { type: 'submit', text: 'Verify' }),
  );
  const out = el('div', { id: 'verify-out', 'aria-live': 'polite' });
  const value = (id) => form.querySelector(`#${id}`)?.value.trim() ?? '';
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const what = current();
    if (!what) return;
    out.replaceChildren();
    // An empty field leaves the core's default.
    const options = {};
    if (value('v-leeway')) options.leeway = Number(value('v-leeway'));
    if (value('v-iss')) options.issuer = value('v-iss');
    if (value('v-aud')) options.audience = value('v-aud');
    const now = value('v-now') ? Number(value('v-now')) : undefined;
    const kind = form.querySelector('input[name=keykind]:checked').value;
    out.replaceChildren(...(await verifyToken(what.token, { kind, material: key.value.trim(), options, now }, what.inspection)));
  });
  section.replaceChildren(el('h2', { id: 'verify-h', text: heading }), form, out);
  return { form, out };
}
