// The DevTools page (runs while DevTools is open on a tab): adds the "tokengate" panel and relays
// the inspected tab's requests that carry a credential to it. chrome.devtools.network needs no
// permission and sees only this tab, only while DevTools is open. Relayed by extension messaging
// (it never leaves the extension), and kept here in memory only (bounded) until the panel asks.
import { candidates, slim } from './capture.js';

const MAX = 500;
const tabId = chrome.devtools.inspectedWindow.tabId;
const seen = [];
let extra = {};

chrome.devtools.panels.create('tokengate', 'icon-16.png', 'panel.html');

// Two ways in, merged by a request key: onRequestFinished, and the HAR log (getHAR) read when the
// panel connects, on navigation and every second. onRequestFinished alone missed every request
// whose answer says `Cache-Control: no-store` (Chromium headless; the tokengate worker says it on
// every JSON answer), which the HAR log still holds.
const keys = new Set();
// Requests looked at and not relayed (no candidate): looked at again when the user names another
// header or cookie, as long as the HAR log still holds them.
const skipped = new Set();
const keyOf = (entry) => `${entry.startedDateTime}\n${entry.request?.method}\n${entry.request?.url}`;

function take(entry, finished = false) {
  // Still in flight in the HAR log (no answer yet): read again at the next sweep. A finished
  // request without an answer (status 0: failed, blocked) comes by onRequestFinished.
  if (!entry?.request || !(entry.response?.status || finished)) return;
  const k = keyOf(entry);
  if (keys.has(k)) return;
  keys.add(k);
  if (keys.size > MAX * 20) keys.delete(keys.values().next().value);
  if (!candidates(entry, extra).length) {
    skipped.add(k);
    if (skipped.size > MAX * 20) skipped.delete(skipped.values().next().value);
    return;
  }
  const request = slim(entry);
  seen.push(request);
  if (seen.length > MAX) seen.shift();
  chrome.runtime.sendMessage({ type: 'tokengate:request', tabId, request }).catch(() => {
    // No panel open yet: it asks for `seen` when it starts.
  });
}

const sweep = () =>
  new Promise((resolve) =>
    chrome.devtools.network.getHAR((log) => {
      for (const entry of log?.entries ?? []) take(entry);
      resolve();
    }),
  );

chrome.devtools.network.onRequestFinished.addListener((entry) => take(entry, true));
chrome.devtools.network.onNavigated.addListener(() => sweep());
setInterval(sweep, 1000);
sweep();

chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (msg?.tabId !== tabId && msg?.tabId !== '*') return;
  if (msg.type === 'tokengate:hello') {
    extra = msg.extra ?? {};
    sweep().then(() => reply({ requests: seen }));
    return true;
  } else if (msg.type === 'tokengate:clear') seen.length = 0;
  else if (msg.type === 'tokengate:extra') {
    extra = msg.extra ?? {};
    for (const k of skipped) keys.delete(k);
    skipped.clear();
    sweep();
  }
});
