// The DevTools page (runs while DevTools is open on a tab): adds the "tokengate" panel and relays
// the inspected tab's requests that carry a credential to it. chrome.devtools.network needs no
// permission and sees only this tab, only while DevTools is open. Relayed by extension messaging
// (it never leaves the extension), and kept here in memory only (bounded) until the panel asks.
import { candidates, slim } from './capture.js';

const MAX = 500;
const tabId = chrome.devtools.inspectedWindow.tabId;
// When this page started: DevTools records the tab's requests from about then on, so a request
// the page made before is in neither the HAR log nor onRequestFinished. The panel says so.
const since = new Date().toISOString();
const seen = [];
let extra = {};
// How much of a header value or URL is kept here, as the panel says (the core's token size limit
// and a margin): a page sending huge tokens cannot make this list cost their size.
let keep = Infinity;
// A slice of a long string keeps all of it alive (V8 slices point into their parent): a copy.
const cut = (t) => (typeof t === 'string' && t.length > keep ? JSON.parse(JSON.stringify(t.slice(0, keep))) : t);
const bounded = (r) =>
  r.url.length > keep || r.headers.some((h) => h.value.length > keep)
    ? { ...r, url: cut(r.url), headers: r.headers.map(({ name, value }) => ({ name: cut(name), value: cut(value) })) }
    : r;

chrome.devtools.panels.create('tokengate', 'icon-16.png', 'panel.html');

// Every request is read from the HAR log (getHAR): when this page starts, when the panel asks,
// on navigation, when onRequestFinished says one finished, and every second. onRequestFinished
// alone misses every request whose answer says `Cache-Control: no-store` (the tokengate worker
// says it on every JSON answer), which the HAR log still holds.
//
// A request's identity is its place in the HAR log: the log only grows, until DevTools starts it
// again (a navigation without "Preserve log", the Network panel's Clear), which is seen as its
// first entry changing or the log getting shorter. DevTools gives an extension no request id, and
// what a HAR entry holds does not tell two requests apart: the same URL fetched twice in one
// millisecond has the same start, method and URL.
const instance = Math.random().toString(36).slice(2, 10);
let epoch = 0;
let first = null; // the current log's first entry
let length = 0; // how long it was at the last sweep
const done = new Set(); // indices of the current log taken or skipped
// Requests looked at and not relayed (no candidate): looked at again when the user names another
// header or cookie, as long as the HAR log still holds them.
const skipped = new Set();
const signature = (e) => `${e?.startedDateTime}\n${e?.request?.method}\n${e?.request?.url}`;

function relay(request) {
  seen.push(bounded(request));
  if (seen.length > MAX) seen.shift();
  chrome.runtime.sendMessage({ type: 'tokengate:request', tabId, request }).catch(() => {
    // No panel open yet: it asks for `seen` when it starts.
  });
}

function read(entries) {
  if (!entries.length || signature(entries[0]) !== first || entries.length < length) {
    if (length || entries.length) epoch += 1;
    done.clear();
    skipped.clear();
    first = entries.length ? signature(entries[0]) : null;
  }
  length = entries.length;
  entries.forEach((entry, i) => {
    // Still in flight (no answer yet): read again at the next sweep. A finished request without
    // an answer (failed, blocked) has an error, or onRequestFinished said it finished.
    if (done.has(i) || !entry?.request) return;
    if (!entry.response?.status && !entry.response?._error && !unanswered.has(signature(entry))) return;
    done.add(i);
    if (!candidates(entry, extra).length) {
      skipped.add(i);
      return;
    }
    relay({ ...slim(entry), id: `${tabId}:${instance}:${epoch}:${i}` });
  });
}

// One sweep at a time; a sweep asked for during one runs once after it.
let running = null;
let again = false;
function sweep() {
  if (running) {
    again = true;
    return running;
  }
  running = new Promise((resolve) =>
    chrome.devtools.network.getHAR((log) => {
      read(log?.entries ?? []);
      resolve();
    }),
  ).then(() => {
    running = null;
    if (again) {
      again = false;
      return sweep();
    }
  });
  return running;
}

// Finished without an answer, as onRequestFinished reported (a few: it forgets the oldest).
const unanswered = new Set();
chrome.devtools.network.onRequestFinished.addListener((entry) => {
  if (!entry?.response?.status) {
    unanswered.add(signature(entry));
    if (unanswered.size > 50) unanswered.delete(unanswered.values().next().value);
  }
  sweep();
});
chrome.devtools.network.onNavigated.addListener(() => sweep());
setInterval(sweep, 1000);
sweep().then(() => chrome.runtime.sendMessage({ type: 'tokengate:attached', tabId, since }).catch(() => {}));

chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (msg?.tabId !== tabId && msg?.tabId !== '*') return;
  if (Number.isFinite(msg.keep)) keep = msg.keep;
  if (msg.type === 'tokengate:hello') {
    extra = msg.extra ?? {};
    // A reply reaches the panel from one devtools page only (the first to answer): a panel that
    // listens to every tab gets each one's list as a message of its own.
    if (msg.tabId === '*') {
      sweep().then(() => chrome.runtime.sendMessage({ type: 'tokengate:requests', tabId, since, requests: seen }).catch(() => {}));
      return;
    }
    sweep().then(() => reply({ requests: seen, since }));
    return true;
  } else if (msg.type === 'tokengate:clear') seen.length = 0;
  else if (msg.type === 'tokengate:extra') {
    extra = msg.extra ?? {};
    for (const i of skipped) done.delete(i);
    skipped.clear();
    sweep();
  }
});
