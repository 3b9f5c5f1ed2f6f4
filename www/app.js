// The inspector page: renders what the core's inspect() reports, and verifies with the same
// Validator the edge worker uses. No network, no storage: the token stays in this page.
import { errorCodes, Validator, TokengateError } from './lib/js/browser.js';
import { el, colouredToken, copyButton, renderInspection, explainRejection } from './components.js';
import { encodeForm } from './encode.js';

const $ = (id) => document.getElementById(id);
const input = $('token');
const CODES = Object.fromEntries(errorCodes().map((c) => [c.code, c]));

/** Bytes as a binary string, a byte at a time (spreading a large array overflows the stack). */
function binary(bytes) {
  let out = '';
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

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
    // The edge module checks RSA/ECDSA/EdDSA signatures with WebCrypto: asynchronously.
    const v = new Validator({ keys, ...options });
    const r = await v.validateAsync(input.value.trim(), { now });
    out.append(
      el('p', {
        class: 'ok',
        id: 'verify-result',
        text: `Valid: ${r.alg} signature by ${r.kid ?? 'the key'}; subject ${r.subject ?? '(none)'}; scopes ${r.scopes.join(' ') || '(none)'}.`,
      }),
    );
  } catch (e) {
    if (!(e instanceof TokengateError)) throw e;
    out.append(...explainRejection(e, { codes: CODES, claims: current?.claims, audience: options.audience }));
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
  if (current && current.kind === 'jwt') renderInspection(boxes(), input.value.trim(), { clockOnly: true });
}, 1000);
encodeForm((token) => {
  input.value = token;
  render();
});
render();
document.body.dataset.ready = 'true';
