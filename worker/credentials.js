// Finds the one credential a request carries: `Authorization: Bearer`, the API-key header, and
// (when configured) a token header, a cookie or a query parameter. Two credentials, or a
// malformed header, are a 400 `invalid_request`: guessing which one the client meant would be a
// decision made in the dark. Cloudflare Access's header (`credentials.access`, derived by the
// core for cloudflare-access issuers) is ambient: Access adds it to every request after login,
// so it is used only when the request carries no other credential, and only for those issuers.

import * as tg from 'tokengate';

/** A request-shape problem (400 `invalid_request`). */
export class CredentialError extends Error {}

// RFC 6750 §2.1: b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * A name as lenient readers see it: percent-decoded, case-folded, with `_`, `-`, `[]` and
 * anything not a letter or digit dropped (PHP decodes cookie names, CGI maps `-` to `_`, some
 * frameworks fold case or take `name[]`).
 */
export function looseName(name) {
  let n = name;
  try {
    n = decodeURIComponent(name);
  } catch {
    // keep it undecoded
  }
  return n.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** `[name, value]` pieces of a Cookie header (two headers arrive joined by ", "). */
export function cookiePieces(header) {
  return (header ?? '')
    .split(/[;,]/)
    .map((part) => {
      const i = part.indexOf('=');
      return i > 0 ? [part.slice(0, i).trim(), part.slice(i + 1).trim()] : [part.trim(), null];
    })
    .filter(([n]) => n);
}

/**
 * `[name, value, afterSemicolon]` pieces of a raw query, split on `&` and, for servers that take
 * it as a separator too, on `;`.
 */
export function queryPieces(search) {
  const out = [];
  for (const amp of search.replace(/^\?/, '').split('&')) {
    amp.split(';').forEach((part, i) => {
      if (!part) return;
      const eq = part.indexOf('=');
      const raw = eq < 0 ? part : part.slice(0, eq);
      let name = raw;
      try {
        name = decodeURIComponent(raw.replace(/\+/g, ' '));
      } catch {
        // keep it undecoded
      }
      out.push([name, eq < 0 ? '' : part.slice(eq + 1), i > 0]);
    });
  }
  return out;
}

/**
 * The one value under the credential name among `pieces`. The same name twice, or a name only
 * a lenient reader takes for it (`TG_SESSION`, `tg%5Fsession`, `access_token[]`), is ambiguous:
 * origins differ on which one they read.
 */
function single(pieces, name, what) {
  const loose = looseName(name);
  const exact = [];
  for (const [n, v, afterSemicolon] of pieces) {
    if (looseName(n) !== loose) continue;
    if (n !== name || afterSemicolon)
      throw new CredentialError(`the ${what} "${n}" looks like the credential "${name}"; send it once, spelt exactly`);
    exact.push(v);
  }
  if (exact.length > 1) throw new CredentialError(`the ${what} "${name}" appears more than once`);
  return exact[0] ?? null;
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * `{ kind: 'jwt' | 'apikey', value, source, issuers? }`, or null when the request carries none;
 * `issuers`: the only issuers this credential may be checked against (the Access header's).
 */
export function extractCredential(request, url, opts) {
  const found = [];
  const auth = request.headers.get('Authorization');
  if (auth !== null) {
    const m = BEARER.exec(auth.trim());
    if (!m) throw new CredentialError('the Authorization header must be "Bearer <token>" (one credential)');
    found.push({ value: m[1], source: 'authorization' });
  }
  const keyHeader = opts.apiKeyHeader ? request.headers.get(opts.apiKeyHeader) : null;
  if (keyHeader !== null) {
    if (!tg.apiKey.looksLike(keyHeader.trim()) || keyHeader.includes(','))
      throw new CredentialError(`the ${opts.apiKeyHeader} header must hold one API key`);
    found.push({ value: keyHeader.trim(), source: 'apikey-header' });
  }
  const tokenHeader = opts.header ? request.headers.get(opts.header) : null;
  if (tokenHeader !== null) {
    // A bare token (Cloudflare Access's Cf-Access-Jwt-Assertion); one value, b64token characters.
    if (!B64TOKEN.test(tokenHeader.trim())) throw new CredentialError(`the ${opts.header} header must hold one token`);
    found.push({ value: tokenHeader.trim(), source: 'header' });
  }
  if (opts.cookie) {
    const v = single(cookiePieces(request.headers.get('Cookie')), opts.cookie, 'cookie');
    if (v) found.push({ value: v, source: 'cookie' });
  }
  if (opts.query) {
    const v = single(queryPieces(url.search), opts.query, 'query parameter');
    if (v) {
      let value = v;
      try {
        value = decodeURIComponent(v.replace(/\+/g, ' '));
      } catch {
        throw new CredentialError(`the "${opts.query}" query parameter is not valid percent-encoding`);
      }
      found.push({ value, source: 'query' });
    }
  }
  if (found.length > 1) throw new CredentialError(`more than one credential (${found.map((f) => f.source).join(', ')}); send exactly one`);
  const access = found.length === 0 && opts.access ? request.headers.get(opts.access.name) : null;
  if (access !== null) {
    // A JWT of a cloudflare-access issuer, never an API key.
    if (!B64TOKEN.test(access.trim()) || tg.apiKey.looksLike(access.trim()))
      throw new CredentialError(`the ${opts.access.name} header must hold one token`);
    return { kind: 'jwt', value: access.trim(), source: 'access', issuers: opts.access.issuers };
  }
  if (found.length === 0) return null;
  const [c] = found;
  return { ...c, kind: tg.apiKey.looksLike(c.value) ? 'apikey' : 'jwt' };
}
