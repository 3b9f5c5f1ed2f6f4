// Argument handling shared by every CLI command (bin/tokengate.js and js/admin): one option
// parser (with --iss/--issuer and --aud/--audience as one flag, and a did-you-mean for a typo),
// one duration syntax, one time syntax, one way to read a file or a pasted token. It only turns
// argv text into values; every decision about them is the core's.
import { readFileSync } from 'node:fs';
import { algName as coreAlgName } from '../node.js';

/** A usage or input problem: exit code 2. */
export class UsageError extends Error {}

/** Flags that are one flag under two names: whichever of the two a command declares is used. */
const SYNONYMS = [
  ['iss', 'issuer'],
  ['aud', 'audience'],
];

const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400, y: 365 * 86400 };
const DURATION = /^(\d+)([smhdwy]?)$/;

/** `90` (seconds), `30s`, `15m`, `2h`, `7d`, `2w`, `1y` (365 days) → seconds. */
export function duration(text, what) {
  const m = DURATION.exec(String(text ?? '').trim());
  if (!m) throw new UsageError(`${what} takes a duration like 30s, 15m, 2h, 7d, 2w or 1y (a bare number is seconds), got "${text}"`);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

/**
 * A point in time → Unix seconds: Unix seconds (`1800000000`), ISO 8601 (`2026-11-22`,
 * `2026-11-22T10:00:00Z`), `now`, or relative to now: `-1h` or `1h` (an hour ago, as in
 * `--since 24h`), `+30m` (in 30 minutes), `now-1h`, `now+30m`.
 */
export function instant(text, what, now = Math.floor(Date.now() / 1000)) {
  const t = String(text ?? '').trim();
  if (/^\d+$/.test(t)) return Number(t);
  const rel = /^(?:now)?([+-]?)(\d+[smhdwy])$/.exec(t);
  if (rel) return rel[1] === '+' ? now + duration(rel[2], what) : now - duration(rel[2], what);
  if (t === 'now') return now;
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  throw new UsageError(
    `${what} takes a time: Unix seconds, ISO 8601 (2026-11-22T10:00:00Z), now, or relative to now (-1h, +30m), got "${text}"`,
  );
}

/** An algorithm name in any case (`es256`, `eddsa`) → its registered spelling; the core checks it. */
/** An alg name in any case, as the core spells it. */
export const algName = (text) => coreAlgName(String(text));

/**
 * What people paste as a token: surrounding whitespace, an `Authorization:` header name and a
 * `Bearer ` scheme are not part of it.
 */
export const pastedToken = (text) =>
  String(text)
    .trim()
    .replace(/^authorization:\s*/i, '')
    .replace(/^bearer\s+/i, '')
    .trim();

/** A file's text; a missing or unreadable file is a usage error naming it. `-` is stdin. */
export function readText(file, what = 'file') {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') throw new UsageError(`no such file: ${file}`);
    if (e.code === 'EISDIR') throw new UsageError(`${file} is a directory, not a ${what} file`);
    if (e.code === 'EACCES') throw new UsageError(`cannot read ${file}: permission denied`);
    throw new UsageError(`cannot read ${what} ${file}: ${e.code ?? e.message}`);
  }
}

/** Levenshtein distance, for did-you-mean. */
function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The closest of `names` to `word`, when it is close enough to be a typo of it. */
export function closest(word, names) {
  let best = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = n.startsWith(word) && word.length >= 3 ? 0.5 : distance(word, n);
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(1, Math.floor(word.length / 3)) ? best : null;
}

/**
 * Parses `args` against `options` (`{ name: { type: 'string'|'boolean', multiple?, short? } }`).
 * `--name value`, `--name=value`, `--` ends options. A value may start with `-` when it is `-`
 * (stdin) or a number or relative time (`-1h`). Returns `{ values, positionals }`. `others`
 * (`{ flag: ['keys rotate', …] }`): the flags other commands take, so one given to the wrong
 * command is refused by name (`command` does not take it; they do) rather than as unknown.
 */
export function parseArgv(args, options, { help = 'tokengate help', command, others = {} } = {}) {
  const values = {};
  const positionals = [];
  const known = (name) => {
    if (name in options) return name;
    for (const pair of SYNONYMS) if (pair.includes(name)) return pair.find((n) => n in options);
    return undefined;
  };
  const names = Object.keys(options).flatMap((n) => [n, ...(SYNONYMS.find((p) => p.includes(n)) ?? [])]);
  const shorts = Object.fromEntries(
    Object.entries(options)
      .filter(([, o]) => o.short)
      .map(([n, o]) => [o.short, n]),
  );
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    let name;
    let value;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      if (eq !== -1) value = arg.slice(eq + 1);
      name = known(given);
      if (name === undefined) {
        const takers = [...new Set((SYNONYMS.find((p) => p.includes(given)) ?? [given]).flatMap((n) => others[n] ?? []))];
        const near = closest(given, [...new Set(names)]);
        if (command !== undefined && takers.length)
          throw new UsageError(
            `${command} does not take --${given} (${takers.join(', ')} ${takers.length === 1 ? 'does' : 'do'}); ${near ? `did you mean --${near}?` : `see \`${help}\``}`,
          );
        throw new UsageError(`unknown option --${given}; ${near ? `did you mean --${near}?` : `see \`${help}\``}`);
      }
    } else if (/^-[A-Za-z]$/.test(arg)) {
      name = shorts[arg[1]];
      if (name === undefined) throw new UsageError(`unknown option ${arg}; see \`${help}\``);
    } else {
      positionals.push(arg);
      continue;
    }
    const opt = options[name];
    if (opt.type === 'boolean') {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      value = true;
    } else if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('-') && next !== '-' && !/^[+-]\d/.test(next)))
        throw new UsageError(`--${name} needs a value`);
      value = next;
      i++;
    }
    // A single-valued option given twice is refused: which one was meant cannot be known.
    if (opt.multiple) (values[name] ??= []).push(value);
    else if (name in values) throw new UsageError(`--${name} is given twice; give it once`);
    else values[name] = value;
  }
  return { values, positionals };
}
