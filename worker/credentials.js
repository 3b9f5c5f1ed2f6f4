// Finds the one credential a request carries: `Authorization: Bearer`, the API-key header, and
// (when configured) a cookie or a query parameter. Two credentials, or a malformed header, are a
// 400 `invalid_request`: guessing which one the client meant would be a decision made in the dark.

/** A request-shape problem (400 `invalid_request`). */
export class CredentialError extends Error {}

// RFC 6750 §2.1: b64token.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
export const API_KEY_PREFIX = 'tgk_';

/** The named cookie's value; the same cookie twice is ambiguous (origins differ on which wins). */
function cookieValue(header, name) {
  if (!header) return null;
  const found = [];
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) found.push(part.slice(i + 1).trim());
  }
  if (found.length > 1) throw new CredentialError(`the "${name}" cookie appears more than once`);
  return found[0] ?? null;
}

/** `{ kind: 'jwt' | 'apikey', value, source }`, or null when the request carries none. */
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
    if (!keyHeader.trim().startsWith(API_KEY_PREFIX) || keyHeader.includes(','))
      throw new CredentialError(`the ${opts.apiKeyHeader} header must hold one API key`);
    found.push({ value: keyHeader.trim(), source: 'apikey-header' });
  }
  if (opts.cookie) {
    const v = cookieValue(request.headers.get('Cookie'), opts.cookie);
    if (v) found.push({ value: v, source: 'cookie' });
  }
  if (opts.query) {
    const all = url.searchParams.getAll(opts.query);
    if (all.length > 1) throw new CredentialError(`the "${opts.query}" query parameter appears more than once`);
    if (all.length === 1 && all[0]) found.push({ value: all[0], source: 'query' });
  }
  if (found.length > 1) throw new CredentialError(`more than one credential (${found.map((f) => f.source).join(', ')}); send exactly one`);
  if (found.length === 0) return null;
  const [c] = found;
  return { ...c, kind: c.value.startsWith(API_KEY_PREFIX) ? 'apikey' : 'jwt' };
}
