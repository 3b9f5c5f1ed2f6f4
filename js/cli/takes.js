// The options each command takes besides the common ones, for both halves of the CLI (the
// offline commands in bin/ and the lifecycle commands in js/admin): one table, so a flag given to
// the wrong command is refused by naming the commands that take it, whichever half they are in.
// Data only: bin/ reads it without loading the lifecycle modules.

export const TAKES = {
  // offline (bin/tokengate.js)
  inspect: ['json', 'now'],
  verify: [
    'json',
    'now',
    'jwks',
    'jwk',
    'secret',
    'secret-b64',
    'issuer-url',
    'jwks-url',
    'alg',
    'iss',
    'aud',
    'sub',
    'scope',
    'type',
    'leeway',
    'max-lifetime',
    'jws',
  ],
  'mint --key': ['key', 'claims', 'sub', 'scope', 'ttl', 'type', 'iss', 'aud', 'now'],
  keygen: ['alg', 'kid'],
  'public-jwk': ['jwks'],
  discover: ['json'],
  // lifecycle (js/admin/cli.js)
  'keys rotate': ['issuer', 'alg', 'max-active'],
  'keys generate': ['issuer', 'alg'],
  'keys list': ['issuer'],
  'keys retire': ['issuer'],
  'keys remove': ['issuer'],
  'keys cleanup': ['issuer', 'max-age'],
  'keys publish': ['issuer', 'rebuild'],
  'keys fetch': ['issuer'],
  'revocations list': [],
  'revocations prune': [],
  'revocations compact': ['rebuild'],
  'apikey create': ['name', 'owner', 'scopes', 'expires', 'description', 'one-per-owner'],
  'apikey rotate': [],
  'apikey revoke': ['purge'],
  'apikey list': ['state', 'owner'],
  'grants grant': ['tenant', 'module', 'scope'],
  'grants revoke': ['tenant', 'module', 'scope'],
  'grants list': ['tenant', 'module'],
  'grants compact': ['rebuild'],
  'audit list': ['since'],
  mint: ['issuer', 'sub', 'scope', 'ttl', 'type', 'aud', 'one-per-user', 'claim'],
  revoke: ['token', 'jti', 'issuer', 'subject', 'before', 'reason'],
  status: [],
  health: [],
};

/** For a flag `command` does not take: every other command that does (`{ flag: [command, …] }`). */
export function others(command) {
  const out = {};
  for (const [c, names] of Object.entries(TAKES)) if (c !== command) for (const n of names) (out[n] ??= []).push(c);
  return out;
}
