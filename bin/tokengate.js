#!/usr/bin/env node
// tokengate CLI (the package's `bin`, for developers and operators): inspect, verify, mint,
// keygen, public-jwk, and the lifecycle commands over the worker's KV (js/admin). Exit codes:
// 0 valid/done, 1 rejected/failed/problems found, 2 usage or input error. Every decision is the
// wasm core's, as in the worker and the browser. It reaches the library through js/node.js and
// js/store.js only.
import { readFileSync, writeSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { UsageError, algName, closest, duration, instant, parseArgv, pastedToken, readText } from '../js/cli/argv.js';
import { COMMANDS as HELP, commandHelp, overview, subcommandHelp } from '../js/cli/help.js';
import { escapeWrites, shown } from '../js/cli/text.js';
import { TAKES, others } from '../js/cli/takes.js';

// A closed stdout (`| head -1`) ends the output, not the command: no EPIPE trace, and the exit
// code stays the command's own (1 means "rejected").
// Output that cannot be written otherwise (a full disk: ENOSPC) is one line on stderr and exit 1,
// not a stack trace.
for (const stream of [process.stdout, process.stderr]) escapeWrites(stream);
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    try {
      writeSync(2, `tokengate: cannot write the output: ${e.code === 'ENOSPC' ? 'no space left on device' : (e.code ?? e.message)}\n`);
    } catch {
      // stderr is gone too: the exit code says it
    }
    process.exit(1);
  });

/** The wasm core, loaded only by the commands that use it (help and --version stay instant). */
let tg;

/** A usage or input problem: exit code 2. */
class InputError extends UsageError {}

const OPTIONS = {
  json: { type: 'boolean' },
  now: { type: 'string' },
  jwks: { type: 'string' },
  jwk: { type: 'string' },
  secret: { type: 'string' },
  'secret-b64': { type: 'string' },
  'issuer-url': { type: 'string' },
  'jwks-url': { type: 'string' },
  alg: { type: 'string', multiple: true },
  iss: { type: 'string', multiple: true },
  aud: { type: 'string', multiple: true },
  sub: { type: 'string' },
  scope: { type: 'string' },
  type: { type: 'string', multiple: true },
  leeway: { type: 'string' },
  'max-lifetime': { type: 'string' },
  jws: { type: 'boolean' },
  key: { type: 'string' },
  claims: { type: 'string' },
  ttl: { type: 'string' },
  kid: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** A JSON file; a URL given for one is pointed at the flags that fetch. */
function readJson(file, what, flag) {
  if (/^https?:\/\//i.test(file))
    throw new InputError(
      flag === '--jwks' || flag === '--jwk'
        ? `${flag} takes a file; for keys at a URL give --jwks-url ${file} (or --issuer-url ISSUER for OIDC discovery)`
        : `${flag} takes a file, not a URL`,
    );
  const text = readText(file, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`${what} ${file} is not JSON: ${e.message}`);
  }
}

/** One private JWK, as keygen prints it; a JWKS or a public key is explained, not guessed at. */
function readPrivateJwk(file, flag) {
  const jwk = readJson(file, 'private key', flag);
  if (jwk !== null && typeof jwk === 'object' && Array.isArray(jwk.keys))
    throw new InputError(
      `${flag} takes one private JWK (keygen's output), but ${file} is a JWKS ({"keys": [...]}); give the private key file`,
    );
  if (jwk !== null && typeof jwk === 'object' && !Array.isArray(jwk) && jwk.kty !== 'oct' && jwk.d === undefined)
    throw new InputError(`${flag} takes a private JWK (keygen's output), but ${file} is a public key (no "d")`);
  return jwk;
}

const seconds = (text, flag) => (text === undefined ? undefined : duration(text, flag));
const time = (text, flag) => (text === undefined ? undefined : instant(text, flag));

function tokenArg(positionals) {
  const [arg] = positionals;
  if (arg === undefined) throw new InputError('missing token (give it as an argument, or - to read stdin)');
  const token = pastedToken(arg === '-' ? readText('-', 'stdin') : arg);
  if (token === '') throw new InputError('the token is empty');
  return token;
}

/** A bare secret given for this token is the key it names (its `kid`, if any). */
function secretKey(k, token) {
  const kid = tg.inspect(token).header?.kid;
  return typeof kid === 'string' ? { kty: 'oct', k, kid } : { kty: 'oct', k };
}

/** Keys that could not be fetched: the command failed (exit 1), the core's reason printed. */
class KeysNotFetched extends Error {
  constructor(flag, failure) {
    super(`${flag}: ${failure.reason}: ${failure.message}`);
    this.failure = failure;
  }
}

/** An identity provider's keys, fetched by the worker's rules (the core judges every answer). */
async function remoteKeysFrom(v) {
  const { RemoteKeysError, fetchRemoteKeys, remoteKeys } = await import('../js/store.js');
  const issuer = v['issuer-url'];
  const flag = issuer !== undefined ? '--issuer-url' : '--jwks-url';
  const source = issuer !== undefined ? { issuer } : { issuer: v['jwks-url'], jwksUri: v['jwks-url'] };
  let set;
  try {
    // The URL as given is checked before any fetch: one the core refuses is an input error (2);
    // what the provider answers (or not) is a failure (1).
    if (issuer !== undefined) remoteKeys.discoveryUrls(issuer);
    else remoteKeys.checkUrl(source.jwksUri);
    set = remoteKeys.open(source.issuer, null);
  } catch (e) {
    if (e instanceof RemoteKeysError) throw new InputError(`${flag}: ${e.message.slice(e.reason.length + 2)}`);
    throw new InputError(e.message);
  }
  const { failure } = await fetchRemoteKeys(set, source);
  if (failure) throw new KeysNotFetched(flag, failure);
  return JSON.parse(set.jwks());
}

async function keysFrom(v, token) {
  const given = ['jwks', 'jwk', 'secret', 'secret-b64', 'issuer-url', 'jwks-url'].filter((k) => v[k] !== undefined);
  if (given.length !== 1)
    throw new InputError(
      'give exactly one of --jwks FILE, --jwk FILE, --secret TEXT, --secret-b64 B64URL, --issuer-url ISSUER, --jwks-url URL',
    );
  if (v['issuer-url'] !== undefined || v['jwks-url'] !== undefined) return remoteKeysFrom(v);
  if (v.jwks !== undefined) return readJson(v.jwks, 'JWKS', '--jwks');
  if (v.jwk !== undefined) return readJson(v.jwk, 'JWK', '--jwk');
  if (v['secret-b64'] !== undefined) {
    if (!/^[A-Za-z0-9_-]+$/.test(v['secret-b64'])) throw new InputError('--secret-b64 must be base64url without padding');
    return secretKey(v['secret-b64'], token);
  }
  return secretKey(Buffer.from(v.secret, 'utf8').toString('base64url'), token);
}

/** Configuration problems (keys, options) are input errors; the token's are rejections. */
const CONFIG_CODES = new Set(['key_invalid', 'options_invalid', 'scope_invalid', 'revocation_invalid']);

function print(out, v) {
  process.stdout.write(typeof out === 'string' ? `${out}\n` : `${JSON.stringify(out, null, v.json ? undefined : 2)}\n`);
}

function reject(e, v) {
  if (!(e instanceof tg.TokengateError)) throw e;
  if (CONFIG_CODES.has(e.code)) throw new InputError(`${e.code}: ${e.message}`);
  if (v.json) print({ valid: false, error: { code: e.code, message: e.message, status: e.status } }, v);
  else process.stdout.write(`rejected: ${e.code} (${e.status}): ${shown(e.message)}\n`);
  return 1;
}

async function verify(v, positionals) {
  const token = tokenArg(positionals);
  let keys;
  try {
    keys = await keysFrom(v, token);
  } catch (e) {
    if (!(e instanceof KeysNotFetched)) throw e;
    if (v.json) print({ valid: false, error: { reason: e.failure.reason, message: e.failure.message } }, v);
    else process.stdout.write(`keys not fetched: ${shown(e.message)}\n`);
    return 1;
  }
  const policy = {};
  if (v.alg) policy.algorithms = v.alg.map(algName);
  if (v.iss) policy.issuer = v.iss;
  else if (v['issuer-url'] !== undefined) policy.issuer = v['issuer-url'];
  if (v.aud) policy.audience = v.aud;
  if (v.sub !== undefined) policy.subject = v.sub;
  if (v.scope !== undefined) policy.scope = v.scope;
  if (v.type) policy.tokenTypes = v.type;
  if (v.leeway !== undefined) policy.leeway = seconds(v.leeway, '--leeway');
  if (v['max-lifetime'] !== undefined) policy.maxLifetime = v['max-lifetime'] === 'none' ? 0 : seconds(v['max-lifetime'], '--max-lifetime');
  const now = time(v.now, '--now');
  if (v.jws) {
    let out;
    try {
      out = tg.verifyJws(token, keys, policy.algorithms ? { algorithms: policy.algorithms } : {});
    } catch (e) {
      return reject(e, v);
    }
    const payload = Buffer.from(out.payload);
    let text = null;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
    } catch {
      // not UTF-8: base64url only
    }
    if (v.json) print({ valid: true, header: out.header, payload: payload.toString('base64url'), payloadText: text }, v);
    else
      print(
        `valid JWS (${out.header.alg})\npayload (base64url): ${payload.toString('base64url')}${text === null ? '' : `\npayload (text): ${shown(text)}`}`,
        v,
      );
    return 0;
  }
  let validator;
  try {
    validator = new tg.Validator({ keys, ...policy });
  } catch (e) {
    return reject(e, v);
  }
  let r;
  try {
    r = validator.validate(token, { now });
  } catch (e) {
    return reject(e, v);
  }
  if (v.json) print({ valid: true, header: r.header, claims: r.claims }, v);
  else {
    const exp = r.expiresAt === null ? 'never' : new Date(r.expiresAt * 1000).toISOString();
    print(
      `valid ${r.alg} token for ${r.subject == null ? '(no sub)' : shown(r.subject)}; scopes: ${shown(r.scopes.join(' ')) || '(none)'}; expires: ${exp}`,
      v,
    );
    print({ header: r.header, claims: r.claims }, v);
  }
  return 0;
}

function inspect(v, positionals) {
  const token = tokenArg(positionals);
  const r = tg.inspect(token, { now: time(v.now, '--now') });
  if (v.json) print(r, v);
  else {
    const lines = [`kind: ${r.kind}   status: ${r.status}   size: ${r.size} bytes`];
    if (r.error) lines.push(`error: ${r.error[0]}: ${shown(r.error[1])}`);
    if (r.apikey)
      lines.push(
        r.apikey.checksumValid
          ? `checksum: valid   sha-256 (the store looks the record up by this): ${r.apikey.hash}`
          : `checksum: invalid (${shown(r.apikey.error)})`,
      );
    if (r.header) lines.push(`header: ${JSON.stringify(r.header, null, 2)}`);
    if (r.claims) lines.push(`claims: ${JSON.stringify(r.claims, null, 2)}`);
    for (const [name, t] of Object.entries(r.times ?? {})) lines.push(`${name}: ${t.iso} (${t.relative})`);
    if (r.scopes?.length) lines.push(`scopes: ${shown(r.scopes.join(' '))}`);
    for (const l of r.lints ?? []) lines.push(`${l.severity}: ${shown(l.message)} — ${l.advice}`);
    print(lines.join('\n'), v);
  }
  // Exit 1 for input that does not decode: a token's structural error, an API key's failed check.
  return r.error === null && !r.apikey?.error ? 0 : 1;
}

function mint(v) {
  if (v.key === undefined)
    throw new InputError("mint needs --key FILE (a private JWK), or, without --claims, --issuer ISS to sign with the issuer's key in KV");
  const key = readPrivateJwk(v.key, '--key');
  const now = time(v.now, '--now') ?? Math.floor(Date.now() / 1000);
  // --claims adds claims to what the flags set; one claim set both ways is refused (which
  // one was meant cannot be known). iat, exp and jti are filled in unless --claims has them.
  let given = {};
  if (v.claims !== undefined) {
    try {
      given = JSON.parse(v.claims);
    } catch (e) {
      throw new InputError(`--claims is not JSON: ${e.message}`);
    }
    if (given === null || typeof given !== 'object' || Array.isArray(given)) throw new InputError('--claims must be a JSON object');
  }
  const flags = {};
  if (v.sub !== undefined) flags.sub = v.sub;
  if (v.scope !== undefined) flags.scope = v.scope;
  if (v.iss) flags.iss = v.iss.length === 1 ? v.iss[0] : v.iss;
  if (v.aud) flags.aud = v.aud.length === 1 ? v.aud[0] : v.aud;
  if (v.type) flags.type = v.type[0];
  if (v.ttl !== undefined) flags.exp = undefined; // --ttl sets exp
  for (const name of Object.keys(flags))
    if (Object.hasOwn(given, name))
      throw new InputError(`--claims sets "${name}" and so does --${name === 'exp' ? 'ttl' : name}: give it one way`);
  const claims = { ...given, ...flags };
  if (!Object.hasOwn(given, 'iat')) claims.iat = now;
  if (!Object.hasOwn(given, 'exp')) {
    // No --ttl: the core's default for a minted token (an hour), as for the lifecycle mint.
    const ttl = v.ttl === undefined ? tg.lifecycle.lifetimes({}).mintTtl : duration(v.ttl, '--ttl');
    try {
      claims.exp = tg.lifecycle.tokenExpiry(now, ttl);
    } catch (e) {
      if (e instanceof tg.TokengateError) throw new InputError(e.message);
      throw e;
    }
  }
  if (!Object.hasOwn(given, 'jti')) claims.jti = randomUUID();
  let token;
  try {
    token = tg.mint(key, claims);
  } catch (e) {
    if (e instanceof tg.TokengateError) throw new InputError(`${e.code}: ${e.message}`);
    throw e;
  }
  // A lifetime over the default cap: the core's inspection says so, and default verifiers reject it.
  const long = tg.inspect(token, { now }).lints.find((l) => l.code === 'lifetime_over_max');
  if (long) process.stderr.write(`warning: ${shown(long.message)} — ${long.advice} (tokengate verify accepts it with --max-lifetime)\n`);
  print(token, v);
  return 0;
}

function keygen(v) {
  if (!v.alg || v.alg.length !== 1) throw new InputError('keygen needs exactly one --alg (HS256 … EdDSA)');
  try {
    print(tg.generateKey(algName(v.alg[0]), { kid: v.kid }), v);
  } catch (e) {
    if (e instanceof tg.TokengateError) throw new InputError(`${e.code}: ${e.message}`);
    throw e;
  }
  return 0;
}

function publicJwk(v, positionals) {
  const [file] = positionals;
  if (file === undefined) throw new InputError('public-jwk needs FILE (a private JWK)');
  let pub;
  try {
    pub = tg.publicJwk(readPrivateJwk(file, 'public-jwk'));
  } catch (e) {
    if (e instanceof tg.TokengateError) throw new InputError(`${e.code}: ${e.message}`);
    throw e;
  }
  print(v.jwks === true ? { keys: [pub] } : pub, v);
  return 0;
}

/**
 * An issuer's discovery document and keys, fetched and checked by the worker's rules: which
 * document answered, its issuer and jwks_uri (checked by the core), and every key of the JWKS
 * (used, or skipped and why). Exit 1 when discovery or the JWKS gives no keys.
 */
async function discover(v, positionals) {
  const [issuer] = positionals;
  if (issuer === undefined) throw new InputError('discover needs the ISSUER URL (e.g. https://auth.example.com)');
  const { RemoteKeysError, jwksUrl } = await import('../js/store.js');
  let found;
  try {
    found = await jwksUrl({ issuer });
  } catch (e) {
    if (e instanceof RemoteKeysError) {
      if (v.json) print({ ok: false, issuer, error: { reason: e.reason, message: e.message } }, v);
      else process.stdout.write(`discovery failed: ${e.message}\n`);
      return 1;
    }
    if (e instanceof tg.TokengateError) throw new InputError(`${e.code}: ${e.message}`);
    throw e;
  }
  const doc = JSON.parse(new TextDecoder().decode(found.document));
  const metadata = Object.fromEntries(
    ['token_endpoint', 'authorization_endpoint', 'userinfo_endpoint', 'introspection_endpoint', 'id_token_signing_alg_values_supported']
      .filter((k) => doc[k] !== undefined)
      .map((k) => [k, doc[k]]),
  );
  // The JWKS by the library's remote key source (the core's defaults and rules).
  const remote = tg.remoteJwks({ jwksUri: found.url });
  const failure = await remote.refresh();
  const summary = remote.summary();
  const fetches = summary.stats.fetches;
  const keys = remote.jwks ? new tg.Validator({ keys: remote.jwks }).keys : [];
  const out = {
    ok: failure === null,
    issuer: doc.issuer,
    discoveryUrl: found.from,
    jwksUri: found.url,
    metadata,
    keys: keys.map((k) => ({ kid: k.kid, kty: k.jwk.kty, alg: k.jwk.alg ?? null, algs: k.algs, thumbprint: k.thumbprint, status: 'used' })),
    skipped: summary.skipped.map((s) => ({ kid: s.kid, status: 'skipped', reason: s.reason })),
    maxAge: summary.maxAge,
    error: failure,
    fetches: found.fetches + fetches,
  };
  if (v.json) print(out, v);
  else {
    const lines = [
      `issuer: ${shown(out.issuer)} (checked: exactly the URL given)`,
      `discovery document: ${out.discoveryUrl}`,
      `jwks_uri: ${out.jwksUri}`,
    ];
    for (const [k, val] of Object.entries(metadata)) lines.push(`${k}: ${shown(Array.isArray(val) ? val.join(' ') : val)}`);
    if (failure) lines.push(`keys: none (${failure.reason}: ${failure.message})`);
    else lines.push(`keys: ${keys.length} used, ${out.skipped.length} skipped; max-age ${out.maxAge} s`);
    for (const k of out.keys)
      lines.push(`  ${k.kid == null ? '(no kid)' : shown(k.kid)}  ${k.kty}  ${k.algs.join(',')}  used  ${k.thumbprint}`);
    for (const k of out.skipped) lines.push(`  ${k.kid == null ? '(no kid)' : shown(k.kid)}  skipped: ${shown(k.reason)}`);
    print(lines.join('\n'), v);
  }
  return failure ? 1 : 0;
}

const COMMANDS = { inspect, verify, mint, keygen, 'public-jwk': publicJwk, discover };

/** `mint` signs with a key file when given --key or --claims; otherwise with an issuer's key in KV. */
const offlineMint = (rest) => rest.some((a) => /^--(key|claims)(=|$)/.test(a));

function version() {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${overview()}\n`);
    return 2;
  }
  if (command === '--version' || command === '-V' || command === '-v' || command === 'version') {
    process.stdout.write(`tokengate ${version()}\n`);
    return 0;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    const [topic, sub] = rest;
    if (topic === undefined) process.stdout.write(`${overview()}\n`);
    else if (!Object.hasOwn(HELP, topic)) throw new InputError(`no command "${topic}"; \`tokengate help\` lists them`);
    else if (sub === undefined) process.stdout.write(`${commandHelp(topic)}\n`);
    else if (HELP[topic].subs && Object.hasOwn(HELP[topic].subs, sub)) process.stdout.write(`${subcommandHelp(topic, sub)}\n`);
    else
      throw new InputError(
        `no command "${topic} ${sub}"; \`tokengate help ${topic}\` lists ${HELP[topic].subs ? 'its subcommands' : 'its options'}`,
      );
    return 0;
  }
  if (!Object.hasOwn(HELP, command)) {
    const near = closest(command, Object.keys(HELP));
    throw new InputError(`unknown command "${command}"; ${near ? `did you mean ${near}?` : 'see `tokengate help`'}`);
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const sub = HELP[command].subs && Object.hasOwn(HELP[command].subs, rest[0]) ? rest[0] : undefined;
    process.stdout.write(`${sub === undefined ? commandHelp(command) : subcommandHelp(command, sub)}\n`);
    return 0;
  }
  if (!(command in COMMANDS) || (command === 'mint' && !offlineMint(rest))) {
    const { runAdmin } = await import('../js/admin/cli.js');
    return runAdmin(command, rest);
  }
  const name = command === 'mint' ? 'mint --key' : command;
  const options = Object.fromEntries(TAKES[name].map((n) => [n, OPTIONS[n]]));
  if (command === 'public-jwk') options.jwks = { type: 'boolean' };
  const parsed = parseArgv(rest, options, { help: `tokengate help ${command}`, command: name, others: others(name) });
  if (parsed.positionals.length > 1) throw new InputError(`unexpected argument "${parsed.positionals[1]}"`);
  tg = await import('../js/node.js');
  return COMMANDS[command](parsed.values, parsed.positionals);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // Usage and input errors: one line, exit 2. KV or data problems in a lifecycle command: a
  // clear message, exit 1.
  process.stderr.write(`tokengate: ${e instanceof UsageError ? e.message : (e?.message ?? e)}\n`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
