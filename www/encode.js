// Encode and sign test tokens in the page: HS256/384/512 with a secret you type, or ES256 with a
// key generated here (its public JWK shown to paste into Verify). For testing only: the browser
// entry loads the edge module, which has no signing, so this signs with WebCrypto; tokens you
// mean to use come from your issuer or `tokengate mint`. The result is then inspected by the core.
import { el } from './components.js';

const b64u = (bytes) => {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};
const utf8 = (s) => new TextEncoder().encode(s);

let esKey = null;

/** A compact JWS of `header` and `payload` (objects) signed by `alg` with `secret` or a generated ES256 key. */
export async function signTestToken(alg, header, payload, secret) {
  const h = { ...header, alg, typ: header.typ ?? 'JWT' };
  const input = `${b64u(utf8(JSON.stringify(h)))}.${b64u(utf8(JSON.stringify(payload)))}`;
  let sig;
  if (alg.startsWith('HS')) {
    const hash = `SHA-${alg.slice(2)}`;
    const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash }, false, ['sign']);
    sig = await crypto.subtle.sign('HMAC', key, utf8(input));
  } else {
    esKey ??= await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, esKey.privateKey, utf8(input));
  }
  return `${input}.${b64u(sig)}`;
}

export async function publicJwk() {
  if (!esKey) return null;
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', esKey.publicKey);
  return { kty, crv, x, y, alg: 'ES256', use: 'sig' };
}

/** Wires the encode form: `onToken(token)` gets each signed token. */
export function encodeForm(onToken) {
  const $ = (id) => document.getElementById(id);
  const now = Math.floor(Date.now() / 1000);
  $('enc-payload').value ||= JSON.stringify({ sub: 'test-user', aud: 'api', iat: now, exp: now + 3600, scope: 'users:read' }, null, 2);
  $('enc-header').value ||= '{}';
  const sync = () => ($('enc-secret-row').hidden = !$('enc-alg').value.startsWith('HS'));
  $('enc-alg').addEventListener('change', sync);
  sync();
  $('encode-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const out = $('encode-out');
    out.replaceChildren();
    try {
      const alg = $('enc-alg').value;
      const token = await signTestToken(alg, JSON.parse($('enc-header').value), JSON.parse($('enc-payload').value), $('enc-secret').value);
      const jwk = alg === 'ES256' ? await publicJwk() : null;
      out.append(
        el('p', { class: 'ok', id: 'encode-result', text: `Signed a test token (${alg}); it is now in the token box above.` }),
        jwk ? el('p', {}, 'Public key for Verify: ', el('code', { id: 'encode-jwk', text: JSON.stringify({ keys: [jwk] }) })) : null,
      );
      onToken(token);
    } catch (err) {
      out.append(el('p', { class: 'error', id: 'encode-result', text: String(err.message ?? err) }));
    }
  });
}
