// The inspector page: renders what the core's inspect() reports, and verifies with the same
// Validator the edge worker uses. No network, no storage: the token stays in this page.
import { inspect, checkScopes, errorCodes, Validator, TokengateError } from './lib/js/browser.js';

const $ = (id) => document.getElementById(id);
const input = $('token');
const CODES = Object.fromEntries(errorCodes().map((c) => [c.code, c]));

/** One line per registered name, shown on hover and to screen readers. */
const EXPLAIN = {
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

/** Bytes as a binary string, a byte at a time (spreading a large array overflows the stack). */
function binary(bytes) {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k === 'style')
      e.style.cssText = v; // CSSOM: allowed by the page's CSP, unlike style attributes
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

let current = null; // the last inspection, for the clock and the scope check

function statusBadge(r) {
  const label =
    { active: 'active', expiring_soon: 'expiring soon', expired: 'expired', not_yet_valid: 'not yet valid', unknown: r.kind }[r.status] ??
    r.status;
  return el('span', { class: `badge ${r.status}`, id: 'status', text: label });
}

function claimsTable(title, obj, times = {}) {
  const rows = Object.entries(obj).map(([k, v]) => {
    const t = times[k];
    return el(
      'tr',
      {},
      el('th', { scope: 'row', title: EXPLAIN[k] ?? '', ...(EXPLAIN[k] ? { 'aria-description': EXPLAIN[k], class: 'explained' } : {}) }, k),
      el('td', {}, el('code', { text: JSON.stringify(v) }), t ? el('span', { class: 'when', text: ` ${t.iso} (${t.relative})` }) : null),
    );
  });
  return el('div', {}, el('h3', { text: title }), el('table', { class: 'claims' }, el('tbody', {}, ...rows)));
}

function renderSummary(r) {
  const box = $('summary');
  box.replaceChildren();
  if (r.kind === 'apikey') {
    const a = r.apikey;
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
      el(
        'dl',
        {},
        el('dt', { text: 'Prefix' }),
        el('dd', { text: a.prefix }),
        el('dt', { text: 'SHA-256 (the store looks the record up by this)' }),
        el('dd', {}, el('code', { id: 'apikey-hash', text: a.hash })),
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
  if (r.error) box.append(el('p', { class: 'error', id: 'error', role: 'alert', text: `${r.error[0]}: ${r.error[1]}` }));
  if (r.expiresIn !== null) {
    const s = r.expiresIn;
    box.append(el('p', { text: s >= 0 ? `Expires in ${s} s${r.needsRefresh ? ' — refresh now' : ''}.` : `Expired ${-s} s ago.` }));
  }
}

function renderTimeline(r) {
  const box = $('timeline');
  box.replaceChildren();
  const t = r.times ?? {};
  const now = Math.floor(Date.now() / 1000);
  const points = [
    ['iat', t.iat?.unix],
    ['nbf', t.nbf?.unix],
    ['now', now],
    ['exp', t.exp?.unix],
  ].filter(([, v]) => typeof v === 'number');
  if (!t.exp && !t.iat) return;
  // The 30-day maximum lifetime is marked when the token reaches past it.
  const maxLifetime = t.iat ? t.iat.unix + 30 * 86400 : null;
  if (maxLifetime && t.exp && t.exp.unix > maxLifetime) points.push(['max lifetime', maxLifetime]);
  const all = points.map(([, v]) => v);
  const lo = Math.min(...all);
  const hi = Math.max(...all, lo + 1);
  const pos = (v) => `${(((v - lo) / (hi - lo)) * 100).toFixed(2)}%`;
  const bar = el('div', {
    class: 'bar',
    role: 'img',
    'aria-label': points.map(([n, v]) => `${n} ${new Date(v * 1000).toISOString()}`).join(', '),
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
  for (const [name, v] of points) {
    bar.append(el('div', { class: `mark ${name.replace(' ', '-')}`, style: `left:${pos(v)}` }, el('span', { text: name })));
  }
  const note =
    maxLifetime && t.exp && t.exp.unix > maxLifetime
      ? el('p', { class: 'warning', text: `exp is past the 30-day maximum lifetime (${new Date(maxLifetime * 1000).toISOString()}).` })
      : null;
  box.append(el('h2', { text: 'Timeline' }), bar);
  if (note) box.append(note);
}

function renderParts(r) {
  const box = $('parts');
  box.replaceChildren();
  const broken = (r.parts ?? []).filter((p) => !p.ok);
  if (broken.length) box.append(el('ul', { class: 'broken' }, ...broken.map((p) => el('li', { class: 'error', text: p.error }))));
  if (r.header) box.append(claimsTable('Header', r.header));
  if (r.claims) box.append(claimsTable('Claims', r.claims, r.times));
  else if (r.payloadText) box.append(el('h3', { text: 'Payload' }), el('pre', { text: r.payloadText }));
}

function renderLints(r) {
  const box = $('lints');
  box.replaceChildren();
  if (!r.lints?.length) return;
  const items = r.lints.map((l) =>
    el(
      'li',
      { class: `lint ${l.severity}`, 'data-code': l.code },
      el('strong', { text: `${l.severity}: ` }),
      `${l.message}. ${l.advice} `,
      l.reference ? el('a', { href: l.reference, rel: 'noreferrer noopener', target: '_blank', text: 'RFC' }) : null,
    ),
  );
  box.append(el('h2', { text: 'Findings' }), el('ul', {}, ...items));
}

function renderScopes(r) {
  const box = $('scopes');
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
      out.textContent =
        e instanceof TokengateError ? (e.code === 'insufficient_scope' ? `Missing: ${e.scope}` : `${e.code}: ${e.message}`) : String(e);
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

function render() {
  const text = input.value.trim();
  $('verify').hidden = true;
  for (const id of ['summary', 'timeline', 'parts', 'lints', 'scopes', 'verify-out']) $(id).replaceChildren();
  current = null;
  if (!text) return;
  const r = inspect(text);
  current = r;
  renderSummary(r);
  renderTimeline(r);
  renderParts(r);
  renderLints(r);
  renderScopes(r);
  $('verify').hidden = r.kind !== 'jwt';
}

function verify(event) {
  event.preventDefault();
  const out = $('verify-out');
  out.replaceChildren();
  const kind = document.querySelector('input[name=keykind]:checked').value;
  const material = $('key').value.trim();
  // An empty field leaves the core's default.
  const options = $('v-leeway').value ? { leeway: Number($('v-leeway').value) } : {};
  if ($('v-iss').value.trim()) options.issuer = $('v-iss').value.trim();
  if ($('v-aud').value.trim()) options.audience = $('v-aud').value.trim();
  const now = $('v-now').value ? Number($('v-now').value) : undefined;
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
    // A secret pasted for this token is the key it names.
    const kid = typeof current?.header?.kid === 'string' ? current.header.kid : undefined;
    keys = { kty: 'oct', k, ...(kid ? { kid } : {}) };
  }
  try {
    const v = new Validator({ keys, ...options, native: false });
    const r = v.validate(input.value.trim(), { now });
    out.append(
      el('p', {
        class: 'ok',
        id: 'verify-result',
        text: `Valid: ${r.alg} signature by ${r.kid ?? 'the key'}; subject ${r.subject ?? '(none)'}; scopes ${r.scopes.join(' ') || '(none)'}.`,
      }),
    );
  } catch (e) {
    if (!(e instanceof TokengateError)) throw e;
    out.append(
      el('p', { class: 'error', id: 'verify-result', text: `${e.code}: ${e.message}` }),
      el('p', { text: CODES[e.code]?.description ?? '' }),
      el('p', {}, `An edge worker answers HTTP ${e.status} with `, el('code', { text: `WWW-Authenticate: ${e.wwwAuthenticate}` })),
    );
  }
}

input.addEventListener('input', render);
$('verify-form').addEventListener('submit', verify);
input.addEventListener('dragover', (e) => e.preventDefault());
input.addEventListener('drop', async (e) => {
  e.preventDefault();
  const file = e.dataTransfer?.files?.[0];
  if (file) {
    input.value = (await file.text()).trim();
    render();
  }
});
// The status badge and timeline follow the clock.
setInterval(() => {
  if (current && current.kind === 'jwt') {
    const r = inspect(input.value.trim());
    renderSummary(r);
    renderTimeline(r);
  }
}, 1000);
render();
document.body.dataset.ready = 'true';
