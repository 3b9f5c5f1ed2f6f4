// The CLI's help: `tokengate help [COMMAND]`, `tokengate COMMAND --help`, and the one-line
// listing a command group gives without its subcommand.

const VOCABULARY = `DURATION: 30s, 15m, 2h, 7d, 2w, 1y (365 days); a bare number is seconds.
TIME: Unix seconds (1800000000), ISO 8601 (2026-11-22, 2026-11-22T10:00:00Z), now, or relative
      to now: -1h or 1h (an hour ago), +30m (in 30 minutes), now-1h, now+30m.
--iss and --issuer are one flag, as are --aud and --audience. Algorithm names in any case (es256).`;

const LIFECYCLE = `lifecycle commands read wrangler.toml (TOKENGATE_CONFIG) or KV "config" in the project directory,
and take: [--json] [--actor NAME] [--local (default) | --remote [--namespace-id ID]]
          [--persist-to DIR] [--config FILE] [--keys-dir DIR] [--now TIME].
--issuer may be left out when exactly one issuer is configured.`;

const EXIT =
  'exit codes: 0 valid or done, 1 rejected, failed (a KID or API key id not stored included) or problems found, 2 usage or input error';

/** Every command: its one-line summary, its usage and its examples. */
export const COMMANDS = {
  inspect: {
    summary: 'decode a JWT or API key and explain it (no key needed)',
    usage: 'tokengate inspect <token|-> [--json] [--now TIME]',
    more: 'A "Bearer " prefix and surrounding whitespace are ignored. Exit 1 when the input cannot be decoded.',
    examples: ['tokengate inspect "$TOKEN"', 'echo "$TOKEN" | tokengate inspect - --json', 'tokengate inspect "$TOKEN" --now +2h'],
  },
  verify: {
    summary: 'validate a token against keys and a policy',
    usage: `tokengate verify <token|-> (--jwks FILE | --jwk FILE | --secret TEXT | --secret-b64 B64URL
                  | --issuer-url ISSUER | --jwks-url URL)
                 [--alg ALG]... [--iss ISS]... [--aud AUD]... [--sub S] [--scope EXPR] [--type T]...
                 [--now TIME] [--leeway DURATION] [--max-lifetime DURATION|none] [--jws] [--json]`,
    more: `A "Bearer " prefix and surrounding whitespace are ignored. --jwks takes a file. --issuer-url
fetches the issuer's keys by OIDC discovery (RFC 8414 as a fallback; the document's issuer must be
exactly ISSUER, which is also the --iss when none is given); --jwks-url fetches a JWKS. Both by the
worker's rules: https (http for loopback hosts only), 5 s, 256 KiB, public keys only.
--jws checks only the signature and prints the payload.
Exit 0 valid, 1 rejected (the stable code is printed) or the keys could not be fetched (the reason
is printed: network, http_status, issuer_mismatch, …), 2 usage or input error.`,
    examples: [
      'tokengate verify "$TOKEN" --jwks jwks.json --iss https://auth.example.com --aud api',
      'tokengate verify "$TOKEN" --jwks jwks.json --scope "users:read and (billing:read or admin)" --json',
      'tokengate verify - --secret "$SECRET" --leeway 2m --max-lifetime 90d < token.txt',
      'tokengate verify "$TOKEN" --issuer-url https://auth.example.com --aud api',
    ],
  },
  mint: {
    summary: "sign a token: with a private JWK file (--key), or with an issuer's current key in KV",
    usage: `tokengate mint --key FILE (--claims JSON | [--sub S] [--scope S] [--ttl DURATION] [--type T]
               [--iss ISS] [--aud AUD]) [--now TIME]
tokengate mint [--issuer ISS] --sub USER [--scope S] [--ttl DURATION] [--aud AUD]
               [--type access|refresh|service] [--claim NAME=VALUE]... [--one-per-user]   (lifecycle)`,
    more: `With --key (or --claims) the token is signed with that private JWK (keygen's output); --ttl
defaults to 1h. Without it, mint signs with the issuer's newest active key from KV (keys
rotate), caps --ttl (default 1h) at the issuer's maximum lifetime, and with --one-per-user revokes
the user's earlier tokens first.`,
    examples: [
      'tokengate mint --key private.json --iss https://auth.example.com --aud api --sub user-1 --ttl 15m',
      'tokengate mint --issuer https://demo.tokengate.local --sub user-1 --scope users:read --ttl 2h',
    ],
  },
  keygen: {
    summary: 'generate a private JWK',
    usage: 'tokengate keygen --alg ALG [--kid K]',
    more: 'ALG: a JWS algorithm the core signs with (HS256 … ES256K, EdDSA), in any case.',
    examples: ['tokengate keygen --alg ES256 --kid k1 > private.json', 'tokengate keygen --alg eddsa > ed.json'],
  },
  'public-jwk': {
    summary: 'print the public half of a private JWK (or a JWKS with --jwks)',
    usage: 'tokengate public-jwk FILE [--jwks]',
    more: "FILE holds one private JWK (keygen's output), not a JWKS.",
    examples: ['tokengate public-jwk private.json --jwks > jwks.json'],
  },
  discover: {
    summary: "fetch an issuer's OIDC discovery document and keys, checked by the worker's rules",
    usage: 'tokengate discover ISSUER [--json]',
    more: `Fetches ISSUER/.well-known/openid-configuration (RFC 8414's oauth-authorization-server as a
fallback); its "issuer" must be exactly ISSUER and its jwks_uri https (http for loopback hosts only).
Prints which document answered, the jwks_uri and the endpoints it names, then every key of the JWKS:
used (kid, type, algorithms, thumbprint) or skipped and why. The same bounds as the worker (5 s,
256 KiB, no redirects, public keys only). Exit 1 when discovery or the JWKS gives no keys.`,
    examples: ['tokengate discover https://auth.example.com', 'tokengate discover https://tenant.eu.auth0.com/ --json'],
  },
  keys: {
    summary: 'signing keys of an issuer in KV',
    usage: 'tokengate keys SUBCOMMAND [--issuer ISS] …',
    subs: {
      rotate: "[--alg ES256] [--max-active N]   add an active key, retire the oldest beyond N (default: the config's maxActiveKeys)",
      generate: '[--alg ES256]                    add an active key without retiring any',
      list: '                                  every key: age, status, when removable, published, private key here',
      retire: 'KID                               routine: it verifies until its tokens expire',
      remove: 'KID                               compromised: unpublished at once',
      cleanup: '[--max-age 180d]                  remove keys whose tokens have all expired; retire keys past --max-age',
      publish:
        '[--rebuild]                       rewrite the key set from the entries; --rebuild: discard one the core cannot read (audited)',
      fetch: '                                  a remote issuer (jwksUri, discovery): fetch its keys into KV now, like the cron',
    },
    examples: [
      'tokengate keys rotate --issuer https://demo.tokengate.local',
      'tokengate keys list --issuer https://demo.tokengate.local --json',
      'tokengate keys cleanup --issuer https://demo.tokengate.local --max-age 90d',
      'tokengate keys fetch --issuer https://tenant.eu.auth0.com/ --remote',
    ],
  },
  revoke: {
    summary: 'revoke a token, a jti, or every token of a subject',
    usage: 'tokengate revoke (--token JWT | --jti ID [--issuer ISS] | --subject USER [--issuer ISS] [--before TIME]) [--reason TEXT]',
    more: '--subject without --issuer revokes the subject at every configured issuer; --before defaults to now.',
    examples: ['tokengate revoke --token "$TOKEN" --reason "leaked in a log"', 'tokengate revoke --subject user-1 --before -1h'],
  },
  revocations: {
    summary: 'the revocation list the worker reads',
    usage: 'tokengate revocations SUBCOMMAND',
    subs: {
      list: "the stored entries and the list's version",
      prune: 'drop expired entries and rewrite the list',
      compact:
        '[--rebuild]   rewrite the list from the entries (fold in what an interrupted command left); --rebuild: discard a list the core cannot read (audited)',
    },
    examples: ['tokengate revocations list --json'],
  },
  apikey: {
    summary: 'API keys (tgk_…): create, rotate, revoke, list',
    usage: 'tokengate apikey SUBCOMMAND …',
    subs: {
      create:
        '--name N --owner U [--scopes "a b"] [--expires 90d] [--description D] [--one-per-owner]   a new key (the raw key is printed once)',
      rotate: 'ID                 a new secret, same id and metadata',
      revoke: 'ID [--purge]       revoked (and purged: its record is emptied)',
      list: '[--state active|expired|revoked|purged] [--owner U]',
    },
    examples: ['tokengate apikey create --name "ci deploy" --owner svc-ci --scopes users:read --expires 90d'],
  },
  grants: {
    summary: 'per-tenant, per-module scope grants',
    usage: 'tokengate grants SUBCOMMAND …',
    subs: {
      grant: '--tenant T --module M --scope S [--scope S]...',
      revoke: '--tenant T --module M --scope S [--scope S]...',
      list: '[--tenant T] [--module M]',
      compact: '[--rebuild]   rewrite the grants document from the entries; --rebuild: discard one the core cannot read (audited)',
    },
    examples: ['tokengate grants grant --tenant acme --module music --scope users:read'],
  },
  status: {
    summary: 'check what the worker will read (exit 1 when anything is wrong)',
    usage: 'tokengate status',
    examples: ['tokengate status --json'],
  },
  health: { summary: 'the same as status', usage: 'tokengate health', examples: ['tokengate health'] },
  audit: {
    summary: 'the audit log of lifecycle writes',
    usage: 'tokengate audit list [--since TIME]',
    subs: { list: '[--since TIME]   e.g. --since 24h (a day ago) or --since 2026-11-01' },
    examples: ['tokengate audit list --since 24h'],
  },
  help: { summary: "this help, or one command's", usage: 'tokengate help [COMMAND]', examples: ['tokengate help verify'] },
};

const LIFECYCLE_COMMANDS = new Set(['keys', 'revoke', 'revocations', 'apikey', 'grants', 'status', 'health', 'audit']);

/** `tokengate help`: every command, one line each. */
export function overview() {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const line = (c) => `  ${c.padEnd(width)}  ${COMMANDS[c].summary}`;
  const offline = Object.keys(COMMANDS).filter((c) => !LIFECYCLE_COMMANDS.has(c));
  return [
    'usage: tokengate COMMAND [options]   (tokengate help COMMAND, or COMMAND --help, for its options and examples)',
    '',
    'tokens and keys (offline):',
    ...offline.map(line),
    '',
    "lifecycle over the worker's KV:",
    ...[...LIFECYCLE_COMMANDS].map(line),
    '',
    LIFECYCLE,
    '',
    VOCABULARY,
    '',
    EXIT,
  ].join('\n');
}

/** A group's subcommands, one line each. */
export function subcommands(command) {
  const subs = COMMANDS[command].subs;
  const width = Math.max(...Object.keys(subs).map((s) => s.length));
  return Object.entries(subs)
    .map(([s, d]) => `  tokengate ${command} ${s.padEnd(width)}  ${d}`)
    .join('\n');
}

/** `tokengate help COMMAND`: usage, subcommands, notes, examples. */
export function commandHelp(command) {
  const c = COMMANDS[command];
  const parts = [`tokengate ${command}: ${c.summary}`, '', `usage: ${c.usage}`];
  if (c.subs) parts.push('', subcommands(command));
  if (c.more) parts.push('', c.more);
  parts.push('', 'examples:', ...c.examples.map((e) => `  ${e}`));
  if (LIFECYCLE_COMMANDS.has(command) || command === 'mint') parts.push('', LIFECYCLE);
  parts.push('', VOCABULARY, '', EXIT);
  return parts.join('\n');
}

/** A subcommand's arguments and description, from its line in `subs` (`ARGS   description`). */
function subParts(command, sub) {
  const line = COMMANDS[command].subs[sub].trim();
  const m = /^(.*?)\s{3,}(.*)$/.exec(line);
  if (m) return { args: m[1], summary: m[2] };
  // One part only: arguments when it starts like them, else a description.
  return /^(\[|-|[A-Z]+\b)/.test(line) ? { args: line, summary: COMMANDS[command].summary } : { args: '', summary: line };
}

/** `tokengate help keys rotate` (or `keys rotate --help`): that subcommand's usage and examples. */
export function subcommandHelp(command, sub) {
  const c = COMMANDS[command];
  const { args, summary } = subParts(command, sub);
  const prefix = `tokengate ${command} ${sub}`;
  const own = c.examples.filter((e) => e === prefix || e.startsWith(`${prefix} `));
  const usage = [prefix, command === 'keys' && !args.includes('--issuer') ? '[--issuer ISS]' : '', args].filter(Boolean).join(' ');
  const parts = [`${prefix}: ${summary}`, '', `usage: ${usage}`];
  parts.push('', 'examples:', ...(own.length ? own : [prefix + (args && !args.startsWith('[') ? ` ${args}` : '')]).map((e) => `  ${e}`));
  parts.push('', LIFECYCLE, '', VOCABULARY, '', EXIT);
  return parts.join('\n');
}
