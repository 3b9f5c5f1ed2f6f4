// The inspector page: renders what the core's inspect() reports, and verifies with the same
// Validator the edge worker uses. No network, no storage: the token stays in this page.
import { colouredToken, copyButton, renderInspection, verifyToken } from './components.js';
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

async function verify(event) {
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
  out.append(...(await verifyToken(input.value.trim(), { kind, material, options, now }, current)));
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
  if (current && current.kind === 'jwt') renderInspection(boxes(), input.value.trim(), { clockOnly: true });
}, 1000);
encodeForm((token) => {
  input.value = token;
  render();
});
render();
document.body.dataset.ready = 'true';
