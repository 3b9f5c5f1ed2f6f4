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

chrome.devtools.network.onRequestFinished.addListener((entry) => {
  if (!candidates(entry, extra).length) return;
  const request = slim(entry);
  seen.push(request);
  if (seen.length > MAX) seen.shift();
  chrome.runtime.sendMessage({ type: 'tokengate:request', tabId, request }).catch(() => {
    // No panel open yet: it asks for `seen` when it starts.
  });
});

chrome.runtime.onMessage.addListener((msg, _sender, reply) => {
  if (msg?.tabId !== tabId && msg?.tabId !== '*') return;
  if (msg.type === 'tokengate:hello') {
    extra = msg.extra ?? {};
    reply({ requests: seen });
  } else if (msg.type === 'tokengate:clear') seen.length = 0;
  else if (msg.type === 'tokengate:extra') extra = msg.extra ?? {};
});
