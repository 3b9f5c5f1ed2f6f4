// The "tokengate" DevTools panel: lists the credentials the inspected page sent (relayed by
// devtools.js), inspects the selected one with the inspector's components and the same wasm
// core, and shows what a tokengate worker with the loaded configuration would answer.
// Opened outside DevTools (a tab on panel.html) it listens to every DevTools page of this
// extension, which is how the tests drive it.
import { expiryText, inspect, maxTokenBytes, verifyJws } from './lib/js/browser.js';
import { el, audienceDiff, colouredToken, copyButton, prose, renderInspection, verifyForm } from './components.js';
import { candidates } from './capture.js';
import { Gate } from './verdict.js';

const $ = (id) => document.getElementById(id);
const tabId = globalThis.chrome?.devtools?.inspectedWindow?.tabId ?? '*';
let groups = new Map(); // "source\nvalue\nmethod\nurl\nstatus\nanswer" -> { cred, requests: [], verdict }
let gate = null;
let selected = null;
const PINS = 'tokengate:pinned';

const redact = () => $('redact').checked;
// Headers and cookies the user named (panel.html #capture-extra): in memory only, sent to the
// devtools pages so they relay requests carrying them too.
const extra = { headers: [], cookies: [] };
// Those the loaded worker configuration reads (its cookie, query parameter, headers): a request
// the worker refuses for what they hold (`sess=garbage`) is listed with that answer.
let configured = { headers: [], cookies: [], query: [] };
const wanted = () => ({
  headers: [...extra.headers, ...configured.headers],
  cookies: [...extra.cookies, ...configured.cookies],
  query: configured.query,
});
function readsFrom(config) {
  const c = config?.credentials ?? {};
  return {
    headers: [c.header, c.apiKeyHeader, c.access?.name].filter(Boolean),
    cookies: [c.cookie].filter(Boolean),
    query: [c.query].filter(Boolean),
  };
}

// The core's token size limit: it refuses a longer token with `token_too_large` before reading
// any of it. A credential over it is listed as too large (the core's message, with its size) and
// not kept: a hostile page cannot make each row cost its size.
const LIMIT = maxTokenBytes();
// The core's message for a credential over the limit. Any key: the size is checked before the
// key is looked at.
const PROBE = { kty: 'oct', alg: 'HS256', k: 'dG9rZW5nYXRlIHNpemUgcHJvYmUsIG5ldmVyIGEgcmVhbCBrZXk' };
const overLimit = (v) => {
  try {
    verifyJws(v, PROBE);
  } catch (e) {
    if (e?.code === 'token_too_large') return e.message;
  }
  return null;
};
// Kept of a longer header value or URL: enough to still be over the limit (the worker's answer
// drawn again after a configuration change), never the whole of it.
const KEEP = LIMIT + 256;
// A slice of a long string keeps all of it alive (V8 slices point into their parent): a copy.
const own = (text) => JSON.parse(JSON.stringify(text));
const cut = (text) => (typeof text === 'string' && text.length > KEEP ? own(text.slice(0, KEEP)) : text);
const cutRequest = (r) => ({
  ...r,
  url: cut(r.url),
  headers: r.headers.map(({ name, value }) => ({ name: cut(name), value: cut(value) })),
});
// A string cannot be over the limit in UTF-8 unless it has more than a third as many UTF-16 units.
const tooLarge = (v) => (v.length * 3 > LIMIT ? overLimit(v) : null);
/**
 * A short stand-in for a credential not kept: its start and a digest of its first LIMIT
 * characters (rows stay apart; what is kept of a request gives the same stand-in again).
 */
function standIn(v) {
  let h = 0x811c9dc5;
  for (let i = 0; i < Math.min(v.length, LIMIT); i++) h = Math.imul(h ^ v.charCodeAt(i), 0x01000193);
  return own(`${v.slice(0, 16)}…[not kept; ${(h >>> 0).toString(16)}]`);
}
const pathOf = (u, { host = true } = {}) => {
  try {
    const x = new URL(u);
    return `${host ? x.host : ''}${x.pathname}${x.search ? '?…' : ''}`;
  } catch {
    return u;
  }
};

/** A list cell: its full text as the title, since a long one ends in … (the table fits the panel). */
// dir=auto: a right-to-left subject or path is isolated and does not reorder its neighbours.
const cell = (cls, text, title = text, ...more) => el('td', { class: cls, title, dir: 'auto' }, text, ...more);
/** When the request started (the browser's clock), as the Network panel's waterfall reads it. */
const clock = (r) => {
  const d = new Date(r.started);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString([], { hour12: false });
};

function verdictText(v) {
  if (!v) return gate ? '…' : '';
  if (v.status === null) return '?';
  return v.status === 200 ? '200' : `${v.status} ${v.code}`;
}

// Every captured (request, credential) pair, with the worker's answer for that request. Rows
// group only pairs with the same credential, request line, status and answer: a group never
// hides an answer that differs.
// Bounded as the devtools page's list is: past it the oldest unpinned request goes, and a line
// says how many went.
const MAX = 500;
const items = [];
const itemKeys = new Set();
let dropped = 0;
// Each credential is inspected once, kept while a listed request carries it.
const inspected = new Map(); // value -> { r, uses, expAt }
const nowSec = () => Date.now() / 1000;
const inspectOnce = (v, large) => {
  let c = inspected.get(v);
  if (!c) {
    const r = large ? { kind: 'too large', tooLarge: large } : inspect(v);
    // When it expires by the browser's clock: the list's expiry follows the clock from it.
    inspected.set(v, (c = { r, uses: 0, expAt: typeof r.expiresIn === 'number' ? nowSec() + r.expiresIn : undefined }));
  }
  c.uses += 1;
  return c;
};
// The worker's answer at the time of the request (its start): an expiry or a not-before is
// judged as the worker judged it then, and a later look (a configuration loaded) agrees.
const at = (r) => {
  const t = Date.parse(r.started);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
};
const decide = (request) => gate.decide(request, at(request));
function removeAt(i) {
  const [it] = items.splice(i, 1);
  itemKeys.delete(it.k);
  const c = inspected.get(it.cred.value);
  if (c && --c.uses <= 0) inspected.delete(it.cred.value);
}
function bound() {
  let i = 0;
  while (items.length > MAX) {
    while (i < items.length && items[i].pinned) i++;
    if (i >= items.length) break;
    removeAt(i);
    dropped += 1;
  }
}
// Many requests arrive at once on a busy page: the list is drawn once for them.
let drawing = null;
const renderSoon = () => {
  drawing ??= setTimeout(() => {
    drawing = null;
    renderList();
  }, 50);
};
const answerKey = (v) => (v ? JSON.stringify([v.status, v.code ?? null, v.note ?? null]) : '');

async function add(request, { pinned = false, cred = null } = {}) {
  // A pin names its credential: it is listed whether or not its header is still named.
  for (const found of cred ? [cred] : candidates({ request }, wanted())) {
    const large = tooLarge(found.value);
    const c = large ? { ...found, value: standIn(found.value) } : found;
    const base = `${c.source}\n${c.value}\n${request.method}\n${cut(request.url)}`;
    // A request relayed again (a pinned one, or a devtools page's list sent again): already
    // listed. Its id is the devtools page's (two requests to one URL in one millisecond are two);
    // a pin from before ids has its start.
    const k = `${base}\n${request.id ?? request.started}`;
    if (itemKeys.has(k)) continue;
    itemKeys.add(k);
    const { r, expAt } = inspectOnce(c.value, large);
    // What is kept of the request is bounded; the answer is the worker's for the whole of it.
    const kept = large || request.url.length > KEEP || request.headers.some((h) => h.value.length > KEEP) ? cutRequest(request) : request;
    const item = { k, base, cred: c, r, expAt, request: kept, verdict: null, pinned };
    items.push(item);
    bound();
    if (gate) item.verdict = await decide(request);
  }
  renderSoon();
}

function grouped() {
  const out = new Map();
  for (const it of items) {
    const key = `${it.base}\n${it.request.status}\n${answerKey(it.verdict)}`;
    let g = out.get(key);
    if (!g)
      out.set(key, (g = { key, base: it.base, cred: it.cred, r: it.r, expAt: it.expAt, requests: [], verdict: it.verdict, pinned: false }));
    g.requests.push(it.request);
    g.pinned ||= it.pinned;
  }
  return out;
}

// Rows drawn, by group key: a row is drawn again only when what it shows changes. The DOM names
// a row by a number, never by its key (which holds the credential).
const drawn = new Map(); // key -> { tr, sig, g, id }
let rowIds = 0;
let generation = 0; // bumped when the configuration changes: every answer is drawn again
let detailSig = null;

function renderList() {
  const body = $('list').tBodies[0];
  groups = grouped();
  // The selection follows its credential and request line when its answer changes.
  if (selected) selected = groups.get(selected.key) ?? [...groups.values()].find((g) => g.base === selected.base) ?? null;
  if (!selected) {
    $('detail').hidden = true;
    detailSig = null;
  }
  let prev = null;
  for (const g of groups.values()) {
    const last = g.requests.at(-1);
    const sig = JSON.stringify([
      last.method,
      last.url,
      last.status,
      last.started,
      last.time,
      g.requests.length,
      answerKey(g.verdict),
      g === selected,
      redact(),
      generation,
    ]);
    let row = drawn.get(g.key);
    if (!row) drawn.set(g.key, (row = { id: String(++rowIds) }));
    row.g = g;
    if (row.sig !== sig) {
      const tr = rowFor(g, row.id);
      row.tr?.replaceWith(tr);
      Object.assign(row, { tr, sig });
    }
    const at = prev ? prev.nextSibling : body.firstChild;
    if (at !== row.tr) body.insertBefore(row.tr, at);
    prev = row.tr;
  }
  for (const [key, row] of drawn)
    if (!groups.has(key)) {
      row.tr?.remove();
      drawn.delete(key);
    }
  $('empty').hidden = groups.size > 0;
  $('count').textContent = groups.size ? `${groups.size} credential${groups.size > 1 ? 's' : ''}` : '';
  $('dropped').hidden = dropped === 0;
  $('dropped').textContent = `${dropped} older request${dropped === 1 ? '' : 's'} dropped: the panel keeps the newest ${MAX}.`;
  if (selected) {
    const sig = JSON.stringify([selected.key, selected.requests.length, answerKey(selected.verdict), redact(), generation]);
    if (sig !== detailSig) renderDetail();
    detailSig = sig;
  }
}

function rowFor(g, id) {
  {
    const last = g.requests.at(-1);
    const r = g.r;
    const v = g.verdict;
    const source = g.cred.source + (g.requests.length > 1 ? ` ×${g.requests.length}` : '');
    const exp = expText(g.expAt);
    const tr = el(
      'tr',
      { tabindex: '0', 'aria-selected': String(g === selected), 'data-row': id, 'data-verdict': v?.status ?? '' },
      cell('method', last.method),
      // The path leads (the host is the same for most rows); the full URL is the title.
      cell('url', pathOf(last.url, { host: false }), redact() ? pathOf(last.url) : last.url),
      cell('status', String(last.status)),
      cell('time', `${clock(last)} (${last.time} ms)`, `started ${last.started ?? '?'}, took ${last.time} ms`),
      cell('source', g.cred.source, source, g.requests.length > 1 ? el('span', { class: 'dup', text: ` ×${g.requests.length}` }) : null),
      cell('kind', r.kind === 'jwt' ? `JWT ${r.alg ?? ''}`.trim() : r.kind, r.tooLarge ?? undefined),
      cell('sub', r.claims?.sub === undefined ? '' : redact() ? '•••' : String(r.claims.sub)),
      cell('exp', exp),
      cell(
        `verdict ${v ? (v.status === null ? 'unknown' : `s${v.status}`) : ''}`,
        verdictText(v),
        v ? `${v.note ?? v.message ?? verdictText(v)} (at the request's time)` : '',
      ),
    );
    expiring.set(tr, g.expAt);
    visibility.observe(tr);
    // The row's group as last drawn (a new request joins it without drawing the row again).
    const current = () => [...drawn.values()].find((d) => d.id === id)?.g ?? g;
    tr.addEventListener('click', () => select(current()));
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && select(current()));
    return tr;
  }
}

/** The expiry in the core's wording (as the detail view has it), from now. */
function expText(expAt) {
  if (expAt === undefined) return '';
  return expiryText(expAt - nowSec());
}
// The expiry column follows the clock: every second the rows on screen (only those) are worded
// again, and a cell is written only when its text changes.
const expiring = new WeakMap(); // tr -> expAt
const onScreen = new Set();
const visibility = new IntersectionObserver((entries) => {
  for (const e of entries) e.isIntersecting ? onScreen.add(e.target) : onScreen.delete(e.target);
});
setInterval(() => {
  for (const tr of onScreen) {
    if (!tr.isConnected) {
      onScreen.delete(tr);
      continue;
    }
    const td = tr.querySelector('td.exp');
    const text = expText(expiring.get(tr));
    if (td && td.textContent !== text) {
      td.textContent = text;
      td.title = text;
    }
  }
}, 1000);

function select(g) {
  selected = g;
  detailSig = null;
  renderList();
}

/** The worker's answer for the selected request: status, code, route, scope, headers it sends. */
function answerView(v, g) {
  if (!gate)
    return [
      el('h2', { text: 'What the worker would answer' }),
      el('p', { class: 'when', id: 'verdict-none', text: 'Load a worker configuration above to see its answer for this request.' }),
    ];
  if (!v) return [];
  const route = typeof v.route === 'number' ? gate.config.routes[v.route] : null;
  const last = g.requests.at(-1);
  return [
    el('h2', { text: `What the worker would answer for ${last.method} ${redact() ? pathOf(last.url, { host: false }) : last.url}` }),
    el(
      'ul',
      {},
      el(
        'li',
        { id: 'verdict-status' },
        el('strong', { text: v.status === null ? 'undecided here' : `HTTP ${v.status}` }),
        v.code ? ' ' : '',
        v.code ? prose(`${v.code}: ${v.message}`) : '',
      ),
      el('li', {
        id: 'verdict-route',
        text: `Route: ${route ? `${route.method ?? '*'} ${route.path}` : 'none'}; scope required: ${v.required ?? 'none'}`,
      }),
      v.wwwAuthenticate ? el('li', {}, el('code', { id: 'verdict-www', text: `WWW-Authenticate: ${v.wwwAuthenticate}` })) : null,
      v.allow ? el('li', {}, el('code', { text: `Allow: ${v.allow}` })) : null,
      v.retryAfter !== undefined ? el('li', {}, el('code', { text: `Retry-After: ${v.retryAfter}` })) : null,
      v.code === 'audience_not_allowed' ? el('li', {}, audienceDiff(v.audience, v.tokenAudience)) : null,
      v.note ? el('li', { class: 'when', id: 'verdict-note' }, prose(v.note)) : null,
    ),
  ];
}

/** Each request of the group: when, how long, what the server answered. */
function requestsView(g) {
  if (g.requests.length < 2) return [];
  const rows = g.requests.map((r) =>
    el('tr', {}, el('td', { text: clock(r) }), el('td', { text: `${r.time} ms` }), el('td', { text: String(r.status) })),
  );
  return [
    el('h3', { text: `${g.requests.length} requests` }),
    el(
      'table',
      { class: 'claims' },
      el('thead', {}, el('tr', {}, el('th', { text: 'started' }), el('th', { text: 'took' }), el('th', { text: 'server answered' }))),
      el('tbody', {}, ...rows),
    ),
  ];
}

function renderDetail() {
  const g = selected;
  $('detail').hidden = false;
  const value = g.cred.value;
  const pins = new Set(readPins().map((p) => p.key));
  const pin = el('button', { type: 'button', id: 'pin', text: pins.has(g.base) ? 'Unpin' : 'Pin (keep in this browser)' });
  pin.addEventListener('click', () => togglePin(g));
  const last = g.requests.at(-1);
  // replaceChildren would write a null as the text "null": only elements go in.
  const large = g.r.tooLarge;
  $('token-view').replaceChildren(
    ...[
      el('h2', { text: `${g.cred.source} on ${last.method} ${redact() ? pathOf(last.url) : last.url}` }),
      large
        ? el('p', { id: 'too-large' }, prose(`token_too_large: ${large}; not kept, not decoded here.`))
        : colouredToken(value, { redact: redact() }),
      redact() || large ? null : copyButton('token', () => value),
      large ? null : pin,
    ].filter(Boolean),
  );
  $('verdicts').replaceChildren(...answerView(g.verdict, g));
  $('requests').replaceChildren(...requestsView(g));
  if (verifying !== g.base) $('verify-out').replaceChildren();
  verifying = g.base;
  if (large) for (const id of ['summary', 'timeline', 'parts', 'lints', 'scopes']) $(id).replaceChildren();
  else if (redact()) {
    for (const id of ['summary', 'timeline', 'parts', 'lints', 'scopes']) $(id).replaceChildren();
    $('parts').append(el('p', { class: 'when', text: 'Redacted: turn off Redact to see the decoded token.' }));
    renderInspection({ summary: $('summary'), timeline: $('timeline') }, value);
  } else
    renderInspection({ summary: $('summary'), timeline: $('timeline'), parts: $('parts'), lints: $('lints'), scopes: $('scopes') }, value);
  $('verify').hidden = g.r.kind !== 'jwt';
  if (large) $('verify').hidden = true;
}

let verifying = null; // the credential the verify result is for

// A pin keeps only the credential and the request lines it was seen on (method, URL, status,
// time): no other header or cookie of those requests. Loaded again, each request carries just
// that credential, which is all the worker's answer for it depends on here.
const readPins = () => JSON.parse(localStorage.getItem(PINS) ?? '[]');
function headersFor(cred) {
  if (cred.source.startsWith('query ')) return [];
  if (cred.source.startsWith('Authorization: ')) return [{ name: 'Authorization', value: `${cred.source.slice(15)} ${cred.value}` }];
  if (cred.source.startsWith('cookie ')) return [{ name: 'Cookie', value: `${cred.name}=${cred.value}` }];
  return [{ name: cred.name, value: cred.value }];
}

function togglePin(g) {
  const pins = readPins();
  const i = pins.findIndex((p) => p.key === g.base);
  const mine = items.filter((it) => it.base === g.base);
  if (i >= 0) pins.splice(i, 1);
  else
    pins.push({
      key: g.base,
      cred: { source: g.cred.source, name: g.cred.name, value: g.cred.value },
      requests: mine.map(({ request: r }) => ({
        id: r.id,
        method: r.method,
        url: r.url,
        status: r.status,
        started: r.started,
        time: r.time,
      })),
    });
  for (const it of mine) it.pinned = i < 0;
  localStorage.setItem(PINS, JSON.stringify(pins));
  renderDetail();
}

/** The configuration's state: loaded, or the core's message (its `code` spans as code). */
function configStatus(extraText = '') {
  const out = $('config-status');
  const problems = gate.problems();
  out.className = problems.length ? 'error' : 'ok';
  out.replaceChildren(`Loaded: ${gate.config.issuers.length} issuer(s), ${gate.config.routes.length} route(s).`);
  // Keys the core refuses are the worker's configuration problem: it answers 503 for them.
  for (const p of problems)
    out.append(
      ' ',
      el(
        'span',
        { class: 'key-problem' },
        `Keys for ${p.issuer} refused: `,
        prose(`${p.code}: ${p.message}`),
        '; the worker answers 503 data_unavailable.',
      ),
    );
  if (extraText) out.append(' ', extraText);
}

async function loadConfig() {
  const out = $('config-status');
  try {
    gate = new Gate($('config').value, $('keys').value.trim() || null);
    configStatus();
  } catch (e) {
    gate = null;
    configured = readsFrom(null);
    out.className = 'error';
    out.replaceChildren(`${e.code ?? 'error'}: `, prose(e.message));
  }
  if (gate) {
    const next = readsFrom(gate.config);
    if (JSON.stringify(next) !== JSON.stringify(configured)) {
      configured = next;
      await rescan();
    }
  }
  await redecide();
}

async function redecide() {
  for (const it of items) it.verdict = gate ? await decide(it.request) : null;
  generation += 1;
  renderList();
}

// Host access is asked for at a click, for exactly the origins fetched: first the issuers' (their
// jwksUri, or where discovery is); a jwks_uri that discovery names on another origin is asked for
// at a second click (a permission request needs the user's gesture, which the discovery fetch
// outlives), on a button naming that origin.
const originOf = (u) => `${new URL(u).origin}/*`;
const granted = async (origins) => !chrome.permissions || chrome.permissions.contains({ origins });
const ask = async (origins) => !chrome.permissions || (await chrome.permissions.request({ origins }).catch(() => false));

async function fetchKeys() {
  const out = $('config-status');
  // The configuration as the fields show it now (it may have been edited since Load).
  await loadConfig();
  if (!gate) return;
  const remote = gate.config.issuers.filter((i) => i.jwksUri !== undefined || i.discovery);
  if (!remote.length) {
    configStatus('No issuer has jwksUri or discovery: paste its keys.');
    return;
  }
  const first = [...new Set(remote.map((i) => originOf(i.jwksUri ?? i.issuer)))];
  configStatus(`Asking for host access to ${first.join(', ')}: answer the browser's prompt.`);
  if (!(await ask(first))) {
    configStatus(`Not fetched: host access to ${first.join(', ')} was not granted.`);
    return;
  }
  const done = [];
  const pending = [];
  for (const i of remote) {
    try {
      const url = await gate.jwksUrl(i);
      if (await granted([originOf(url)])) done.push(await gate.fetchKeys(i, url));
      else pending.push({ issuer: i, url });
    } catch (e) {
      done.push(`${i.issuer}: ${e.message}`);
    }
  }
  configStatus(done.length ? `Keys: ${done.join('; ')}` : '');
  for (const { issuer, url } of pending) {
    const b = el('button', {
      type: 'button',
      class: 'allow-origin',
      text: `Allow ${new URL(url).origin} and fetch ${issuer.issuer}'s keys`,
    });
    b.addEventListener('click', async () => {
      if (!(await ask([originOf(url)]))) return configStatus(`Not fetched: host access to ${new URL(url).origin} was not granted.`);
      let text;
      try {
        text = `Keys: ${await gate.fetchKeys(issuer, url)}`;
      } catch (e) {
        text = `${issuer.issuer}: ${e.message}`;
      }
      configStatus(text);
      await redecide();
    });
    out.append(' ', b);
  }
  await redecide();
}

$('load-config').addEventListener('click', loadConfig);
$('fetch-keys').addEventListener('click', fetchKeys);
$('redact').addEventListener('change', () => {
  document.body.classList.toggle('redacting', redact());
  // What a verification printed (the subject, claims) is not kept in the page while redacting.
  if (redact()) $('verify-out').replaceChildren();
  renderList();
});
verifyForm($('verify'), {
  heading: 'Verify with a key',
  redactable: true,
  current: () => selected && { token: selected.cred.value, inspection: selected.r },
});
// Nor is a verification made while redacting (the key is hidden, its answer would be too).
$('verify-form').addEventListener(
  'submit',
  (e) => {
    if (!redact()) return;
    e.preventDefault();
    e.stopImmediatePropagation();
  },
  { capture: true },
);
$('extra-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('extra-name').value.trim();
  const list = $('extra-kind').value === 'cookie' ? extra.cookies : extra.headers;
  if (!name || list.some((n) => n.toLowerCase() === name.toLowerCase())) return;
  list.push(name);
  $('extra-name').value = '';
  extraChanged();
});

function extraChanged() {
  $('extra-list').replaceChildren(
    ...[...extra.headers.map((n) => ['header', n]), ...extra.cookies.map((n) => ['cookie', n])].map(([kind, name]) => {
      const remove = el('button', { type: 'button', class: 'remove', 'aria-label': `Stop capturing ${kind} ${name}`, text: '×' });
      remove.addEventListener('click', () => {
        const list = kind === 'cookie' ? extra.cookies : extra.headers;
        list.splice(list.indexOf(name), 1);
        // Its rows go too, unless pinned.
        const source = kind === 'cookie' ? `cookie ${name}` : name.toLowerCase();
        for (let i = items.length - 1; i >= 0; i--) {
          const s = items[i].cred.source;
          if (!items[i].pinned && (kind === 'cookie' ? s === source : s.toLowerCase() === source)) removeAt(i);
        }
        extraChanged();
      });
      return el('li', { 'data-name': name }, `${kind} `, el('code', { text: name }), ' ', remove);
    }),
  );
  rescan().then(renderList);
}

// The devtools pages relay what they skipped before that carries a named one; the requests
// listed here already are looked at again.
function rescan() {
  chrome.runtime.sendMessage({ type: 'tokengate:extra', tabId, extra: wanted(), keep: KEEP }).catch(() => {});
  const known = [...new Set(items.map((it) => it.request))];
  return Promise.all(known.map((r) => add(r)));
}
$('clear').addEventListener('click', () => {
  items.length = 0;
  itemKeys.clear();
  inspected.clear();
  dropped = 0;
  groups.clear();
  selected = null;
  $('detail').hidden = true;
  chrome.runtime.sendMessage({ type: 'tokengate:clear', tabId }).catch(() => {});
  renderList();
});

// The tabs watched, and since when: DevTools records a tab's requests only from when it opened.
const watching = new Map(); // tab id -> ISO time its devtools page started
function watched(tab, since) {
  if (since && !watching.has(tab)) watching.set(tab, since);
  const w = $('watching');
  w.dataset.tabs = [...watching.keys()].join(' ');
  const at = (iso) => new Date(iso).toLocaleTimeString([], { hour12: false });
  if (tabId !== '*') {
    const reload = el('button', { type: 'button', id: 'reload', text: 'Reload the page' });
    reload.addEventListener('click', () => chrome.devtools.inspectedWindow.reload());
    w.replaceChildren(
      `Watching this tab since ${watching.has(tabId) ? at(watching.get(tabId)) : 'DevTools opened'}: requests it made before are not seen. `,
      reload,
    );
  } else w.textContent = `Watching ${watching.size} tab${watching.size === 1 ? '' : 's'}; each from when its DevTools opened.`;
}

chrome.runtime.onMessage.addListener((msg) => {
  if (!msg?.type?.startsWith('tokengate:') || !(tabId === '*' || msg.tabId === tabId)) return;
  if (msg.type === 'tokengate:request') add(msg.request);
  else if (msg.type === 'tokengate:attached') {
    watched(msg.tabId, msg.since);
    // A devtools page that started after the panel: it relays what the named ones hold too.
    chrome.runtime.sendMessage({ type: 'tokengate:extra', tabId: msg.tabId, extra: wanted(), keep: KEEP }).catch(() => {});
  } else if (msg.type === 'tokengate:requests') {
    watched(msg.tabId, msg.since);
    for (const r of msg.requests ?? []) add(r);
  }
});
for (const p of readPins()) {
  if (!p?.cred || !Array.isArray(p.requests)) continue; // an older pin (whole requests): not loaded
  for (const r of p.requests) await add({ ...r, headers: headersFor(p.cred) }, { pinned: true, cred: p.cred });
}
// In DevTools, this tab's devtools page answers with what it kept; opened in a tab (every tab's),
// each devtools page sends its list as a message of its own.
const hello = await chrome.runtime.sendMessage({ type: 'tokengate:hello', tabId, extra: wanted(), keep: KEEP }).catch(() => null);
if (hello?.since) watched(tabId, hello.since);
else watched(tabId);
for (const r of hello?.requests ?? []) await add(r);
renderList();
document.body.dataset.ready = 'true';
