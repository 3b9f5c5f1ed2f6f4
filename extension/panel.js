// The "tokengate" DevTools panel: lists the credentials the inspected page sent (relayed by
// devtools.js), inspects the selected one with the inspector's components and the same wasm
// core, and shows what a tokengate worker with the loaded configuration would answer.
// Opened outside DevTools (a tab on panel.html) it listens to every DevTools page of this
// extension, which is how the tests drive it.
import { inspect } from './lib/js/browser.js';
import { el, colouredToken, copyButton, renderInspection, relative, redacted } from './components.js';
import { candidates } from './capture.js';
import { Gate } from './verdict.js';

const $ = (id) => document.getElementById(id);
const tabId = globalThis.chrome?.devtools?.inspectedWindow?.tabId ?? '*';
let groups = new Map(); // "source\nvalue\nmethod\nurl\nstatus\nanswer" -> { cred, requests: [], verdict }
let gate = null;
let selected = null;
const PINS = 'tokengate:pinned';

const redact = () => $('redact').checked;
const shown = (v) => (redact() ? redacted(v) : v);
const pathOf = (u, { host = true } = {}) => {
  try {
    const x = new URL(u);
    return `${host ? x.host : ''}${x.pathname}${x.search ? '?…' : ''}`;
  } catch {
    return u;
  }
};

/** A list cell: its full text as the title, since a long one ends in … (the table fits the panel). */
const cell = (cls, text, title = text, ...more) => el('td', { class: cls, title }, text, ...more);
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
const items = [];
const inspected = new Map();
const inspectOnce = (v) => {
  if (!inspected.has(v)) inspected.set(v, inspect(v));
  return inspected.get(v);
};
const answerKey = (v) => (v ? JSON.stringify([v.status, v.code ?? null, v.note ?? null]) : '');

async function add(request, { pinned = false } = {}) {
  for (const c of candidates({ request })) {
    const base = `${c.source}\n${c.value}\n${request.method}\n${request.url}`;
    // A pinned request relayed again by the devtools page: already listed.
    if (items.some((it) => it.base === base && it.request.started === request.started)) continue;
    const item = { base, cred: c, r: inspectOnce(c.value), request, verdict: null, pinned };
    items.push(item);
    if (gate) item.verdict = await gate.decide(request);
  }
  renderList();
}

function grouped() {
  const out = new Map();
  for (const it of items) {
    const key = `${it.base}\n${it.request.status}\n${answerKey(it.verdict)}`;
    let g = out.get(key);
    if (!g) out.set(key, (g = { key, base: it.base, cred: it.cred, r: it.r, requests: [], verdict: it.verdict, pinned: false }));
    g.requests.push(it.request);
    g.pinned ||= it.pinned;
  }
  return out;
}

function renderList() {
  const body = $('list').tBodies[0];
  body.replaceChildren();
  groups = grouped();
  // The selection follows its credential and request line when its answer changes.
  if (selected) selected = groups.get(selected.key) ?? [...groups.values()].find((g) => g.base === selected.base) ?? null;
  if (!selected) $('detail').hidden = true;
  for (const g of groups.values()) {
    const last = g.requests.at(-1);
    const r = g.r;
    const v = g.verdict;
    const source = g.cred.source + (g.requests.length > 1 ? ` ×${g.requests.length}` : '');
    const exp =
      typeof r.expiresIn === 'number' ? (r.expiresIn >= 0 ? `expires ${relative(r.expiresIn)}` : `expired ${relative(r.expiresIn)}`) : '';
    const tr = el(
      'tr',
      { tabindex: '0', 'aria-selected': String(g === selected), 'data-key': g.key, 'data-verdict': v?.status ?? '' },
      cell('method', last.method),
      // The path leads (the host is the same for most rows); the full URL is the title.
      cell('url', pathOf(last.url, { host: false }), redact() ? pathOf(last.url) : last.url),
      cell('status', String(last.status)),
      cell('time', `${clock(last)} (${last.time} ms)`, `started ${last.started ?? '?'}, took ${last.time} ms`),
      cell('source', g.cred.source, source, g.requests.length > 1 ? el('span', { class: 'dup', text: ` ×${g.requests.length}` }) : null),
      cell('kind', r.kind === 'jwt' ? `JWT ${r.alg ?? ''}`.trim() : r.kind),
      cell('sub', r.claims?.sub === undefined ? '' : redact() ? '•••' : String(r.claims.sub)),
      cell('exp', exp),
      cell(`verdict ${v ? (v.status === null ? 'unknown' : `s${v.status}`) : ''}`, verdictText(v), v?.note ?? v?.message ?? verdictText(v)),
    );
    tr.addEventListener('click', () => select(g));
    tr.addEventListener('keydown', (e) => e.key === 'Enter' && select(g));
    body.append(tr);
  }
  $('empty').hidden = groups.size > 0;
  $('count').textContent = groups.size ? `${groups.size} credential${groups.size > 1 ? 's' : ''}` : '';
  if (selected) renderDetail();
}

function select(g) {
  selected = g;
  renderList();
}

function renderDetail() {
  const g = selected;
  $('detail').hidden = false;
  const value = g.cred.value;
  const pins = new Set(readPins().map((p) => p.key));
  const pin = el('button', { type: 'button', id: 'pin', text: pins.has(g.base) ? 'Unpin' : 'Pin (keep in this browser)' });
  pin.addEventListener('click', () => togglePin(g));
  $('token-view').replaceChildren(
    el('h2', {
      text: `${g.cred.source} on ${g.requests.at(-1).method} ${redact() ? pathOf(g.requests.at(-1).url) : g.requests.at(-1).url}`,
    }),
    colouredToken(value, { redact: redact() }),
    redact() ? null : copyButton('token', () => value),
    pin,
  );
  const v = g.verdict;
  const box = $('verdicts');
  box.replaceChildren();
  if (v) {
    box.append(
      el('h2', { text: 'What the worker would answer' }),
      el(
        'ul',
        {},
        el(
          'li',
          { id: 'verdict-status' },
          el('strong', { text: v.status === null ? 'undecided here' : `HTTP ${v.status}` }),
          v.code ? ` ${v.code}: ${v.message}` : '',
        ),
        el('li', {
          text: `Route: ${v.route === null || v.route === undefined ? 'none' : JSON.stringify(v.route)}; scope required: ${v.required ?? 'none'}`,
        }),
        v.wwwAuthenticate ? el('li', {}, el('code', { id: 'verdict-www', text: `WWW-Authenticate: ${v.wwwAuthenticate}` })) : null,
        v.note ? el('li', { class: 'when', text: v.note }) : null,
      ),
    );
  }
  if (redact()) {
    for (const id of ['summary', 'timeline', 'parts', 'lints', 'scopes']) $(id).replaceChildren();
    $('parts').append(el('p', { class: 'when', text: 'Redacted: turn off Redact to see the decoded token.' }));
    renderInspection({ summary: $('summary'), timeline: $('timeline') }, value);
  } else
    renderInspection({ summary: $('summary'), timeline: $('timeline'), parts: $('parts'), lints: $('lints'), scopes: $('scopes') }, value);
}

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
      requests: mine.map(({ request: r }) => ({ method: r.method, url: r.url, status: r.status, started: r.started, time: r.time })),
    });
  for (const it of mine) it.pinned = i < 0;
  localStorage.setItem(PINS, JSON.stringify(pins));
  renderDetail();
}

async function loadConfig() {
  const out = $('config-status');
  try {
    gate = new Gate($('config').value, $('keys').value.trim() || null);
    out.className = 'ok';
    out.textContent = `Loaded: ${gate.config.issuers.length} issuer(s), ${gate.config.routes.length} route(s).`;
  } catch (e) {
    gate = null;
    out.className = 'error';
    out.textContent = `${e.code ?? 'error'}: ${e.message}`;
  }
  await redecide();
}

async function redecide() {
  for (const it of items) it.verdict = gate ? await gate.decide(it.request) : null;
  renderList();
}

async function fetchKeys() {
  const out = $('config-status');
  if (!gate) await loadConfig();
  if (!gate) return;
  const remote = gate.config.issuers.filter((i) => i.jwksUri !== undefined || i.discovery);
  if (!remote.length) {
    out.textContent = 'No issuer has jwksUri or discovery: paste its keys.';
    return;
  }
  // Host access is asked for at the click, for exactly the issuers' origins.
  const origins = remote.map((i) => `${new URL(i.jwksUri ?? i.issuer).origin}/*`);
  if (chrome.permissions && !(await chrome.permissions.request({ origins }).catch(() => false))) {
    out.textContent = 'Not fetched: host access was not granted.';
    return;
  }
  const done = [];
  for (const i of remote) {
    try {
      done.push(await gate.fetchKeys(i));
    } catch (e) {
      done.push(`${i.issuer}: ${e.message}`);
    }
  }
  out.textContent = `Keys: ${done.join('; ')}`;
  await redecide();
}

$('load-config').addEventListener('click', loadConfig);
$('fetch-keys').addEventListener('click', fetchKeys);
$('redact').addEventListener('change', renderList);
$('clear').addEventListener('click', () => {
  items.length = 0;
  groups.clear();
  selected = null;
  $('detail').hidden = true;
  chrome.runtime.sendMessage({ type: 'tokengate:clear', tabId }).catch(() => {});
  renderList();
});

chrome.runtime.onMessage.addListener((msg) => {
  if (msg?.type === 'tokengate:request' && (tabId === '*' || msg.tabId === tabId)) add(msg.request);
});
for (const p of readPins()) {
  if (!p?.cred || !Array.isArray(p.requests)) continue; // an older pin (whole requests): not loaded
  for (const r of p.requests) await add({ ...r, headers: headersFor(p.cred) }, { pinned: true });
}
const hello = await chrome.runtime.sendMessage({ type: 'tokengate:hello', tabId }).catch(() => null);
for (const r of hello?.requests ?? []) await add(r);
renderList();
document.body.dataset.ready = 'true';
