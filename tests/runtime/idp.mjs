// A real OpenID Provider for the tests: npm `oidc-provider` on 127.0.0.1 at a free port, with a
// `client_credentials` client and resource indicators, so its token endpoint issues RFC 9068
// JWT access tokens (ES256 for one resource, RS256 for another). Served through our own HTTP
// server, which counts the discovery and JWKS fetches and can answer them badly on demand
// (garbage, huge or slow bodies, another issuer, private or symmetric keys, redirects, down),
// answer late, or serve the same keys at a second URL (/jwks2).
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

export const RESOURCES = { ES256: 'https://api.test/es', RS256: 'https://api.test/rs' };
export const SCOPES = 'api:read tokengate:health';

export function signingKey(alg, kid) {
  const { privateKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
}

function provider(issuer, keys) {
  const p = new Provider(issuer, {
    clients: [
      {
        client_id: 'svc',
        client_secret: 'svc-secret-svc-secret-svc-secret',
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        scope: SCOPES,
      },
    ],
    jwks: { keys },
    scopes: SCOPES.split(' '),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCES.ES256,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          const alg = Object.keys(RESOURCES).find((a) => RESOURCES[a] === resource);
          if (!alg) throw new Error(`unknown resource ${resource}`);
          return { scope: SCOPES, audience: resource, accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt: { sign: { alg } } };
        },
      },
    },
  });
  p.on('server_error', (_ctx, e) => console.error('idp server_error', e));
  return p;
}

/** Starts the provider with `keys` (private JWKs); `rotate(keys)` swaps them at the same issuer. */
export async function startIdp(keys) {
  const server = http.createServer();
  const sockets = new Set();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const state = {
    fetches: { discovery: 0, jwks: 0 },
    moved: 0, // fetches of /jwks2
    fault: null,
    down: false,
    delays: new Map(),
    provider: provider(issuer, keys),
  };
  server.on('request', (req, res) => {
    const path = new URL(req.url, issuer).pathname;
    if (path === '/.well-known/openid-configuration') state.fetches.discovery++;
    if (path === '/jwks') state.fetches.jwks++;
    if (path === '/jwks2') state.moved++;
    const answer = () => {
      if (state.down) return req.socket.destroy();
      const f = state.fault;
      if (f && f.path === path) return f.answer(req, res);
      // A second JWKS URL serving the same keys (a provider that moved its keys).
      if (path === '/jwks2') {
        req.url = '/jwks';
        req.moved = true;
      }
      state.provider.callback()(req, res);
    };
    const ms = state.delays.get(path);
    if (ms) setTimeout(answer, ms);
    else answer();
  });
  return {
    issuer,
    state,
    rotate(next) {
      state.provider = provider(issuer, next);
    },
    /** A fault on `path`: `answer(req, res)` replaces the provider's answer. */
    fault(path, answer) {
      state.fault = answer ? { path, answer } : null;
    },
    /** Every answer on `path` starts `ms` later (0: at once), whatever answers it. */
    delay(path, ms) {
      if (ms) state.delays.set(path, ms);
      else state.delays.delete(path);
    },
    fetched() {
      return { ...state.fetches };
    },
    /** An access token from the token endpoint for `alg`'s resource. */
    async token(alg = 'ES256', scope = SCOPES) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from('svc:svc-secret-svc-secret-svc-secret').toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: RESOURCES[alg] }),
      });
      const body = await res.json();
      if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

/** Canned bad answers. */
export const faults = {
  garbage: (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('garbage{'),
  huge: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const more = () => {
      while (sent < 10 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return res.once('drain', more);
      }
      res.end('{}');
    };
    res.on('error', () => {});
    more();
  },
  slow: (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"keys":[');
    // never ends: the worker's timeout must
  },
  redirect: (_req, res) => res.writeHead(302, { location: 'https://evil.example/jwks' }).end(),
  json: (doc) => (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc)),
};
