// Which parts of a captured request may hold a credential. Pure JS over a HAR entry (what
// chrome.devtools.network gives), no wasm: the devtools page runs it on every request and relays
// only the requests that carry a candidate. What a candidate *is* (JWT, API key, garbage) is the
// core's inspect() in the panel, and what the worker would do with it is the core's too.

/** Header names that carry a credential on their own (lower case). */
export const TOKEN_HEADERS = ['x-api-key', 'cf-access-jwt-assertion', 'dpop'];
/** Query parameters that carry a credential. */
export const TOKEN_QUERY = ['access_token'];

// A compact JWS (three base64url parts, JSON header) or a tokengate API key.
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const APIKEY = /^tgk_[A-Za-z0-9_-]+$/;
export const looksLikeToken = (v) => typeof v === 'string' && (JWT.test(v) || APIKEY.test(v));

/**
 * The candidates in one HAR entry: `[{ source, name, value }]`. `extra` names more headers,
 * cookies and query parameters to take whatever they hold (`{ headers: [], cookies: [], query: [] }`:
 * those the user named and those the loaded worker configuration reads).
 */
export function candidates(entry, extra = {}) {
  const found = [];
  const headers = entry.request?.headers ?? [];
  const wantHeaders = new Set([...TOKEN_HEADERS, ...(extra.headers ?? []).map((h) => h.toLowerCase())]);
  const wantCookies = new Set(extra.cookies ?? []);
  for (const { name, value } of headers) {
    const n = name.toLowerCase();
    if (n === 'authorization') {
      // Whatever follows the scheme (`<token> x` too: the worker's 400 is listed with it).
      const m = /^(Bearer|DPoP)\s+(\S.*)$/is.exec(value.trim());
      if (m) found.push({ source: `Authorization: ${m[1][0].toUpperCase()}${m[1].slice(1)}`, name: 'Authorization', value: m[2] });
    } else if (n === 'cookie') {
      for (const piece of value.split(';')) {
        const i = piece.indexOf('=');
        if (i <= 0) continue;
        const cname = piece.slice(0, i).trim();
        const cvalue = piece.slice(i + 1).trim();
        if (wantCookies.has(cname) || looksLikeToken(cvalue)) found.push({ source: `cookie ${cname}`, name: cname, value: cvalue });
      }
    } else if (wantHeaders.has(n) && value.trim()) {
      found.push({ source: name, name, value: value.trim() });
    }
  }
  let url;
  try {
    url = new URL(entry.request?.url);
  } catch {
    return found;
  }
  const wantQuery = new Set([...TOKEN_QUERY, ...(extra.query ?? [])]);
  for (const [k, v] of url.searchParams) if (wantQuery.has(k) && v) found.push({ source: `query ${k}`, name: k, value: v });
  return found;
}

/** What the panel keeps of a HAR entry: the request line, its headers, the answer and timing. */
export function slim(entry) {
  return {
    method: entry.request.method,
    url: entry.request.url,
    headers: (entry.request.headers ?? []).map(({ name, value }) => ({ name, value })),
    status: entry.response?.status ?? 0,
    started: entry.startedDateTime,
    time: Math.round(entry.time ?? 0),
  };
}
