// The inspector page: renders what the core's inspect() reports, and verifies with the same
// Validator the edge worker uses. No network, no storage: the token stays in this page.
import { colouredToken, copyButton, renderInspection, verifyForm } from './components.js';
import { encodeForm } from './encode.js';

const $ = (id) => document.getElementById(id);
const input = $('token');

let current = null; // the last inspection, for the clock and the scope check
const boxes = () => ({ summary: $('summary'), timeline: $('timeline'), parts: $('parts'), lints: $('lints'), scopes: $('scopes') });

function render() {
  const text = input.value.trim();
  $('verify').hidden = true;
  for (const id of ['token-view', 'summary', 'timeline', 'parts', 'lints', 'scopes', 'verify-out']) $(id).replaceChildren();
  current = null;
  if (!text) return;
  $('token-view').append(
    colouredToken(text),
    copyButton('token', () => input.value.trim()),
  );
  const r = renderInspection(boxes(), text);
  current = r;
  $('verify').hidden = r.kind !== 'jwt';
}

input.addEventListener('input', render);
verifyForm($('verify'), { clock: true, current: () => current && { token: input.value.trim(), inspection: current } });
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
  if (current && current.kind === 'jwt') renderInspection(boxes(), input.value.trim(), { clockOnly: true });
}, 1000);
encodeForm((token) => {
  input.value = token;
  render();
});
render();
document.body.dataset.ready = 'true';
