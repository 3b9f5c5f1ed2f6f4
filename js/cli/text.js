// How the CLI writes values into its text output: counts with real plurals, and values that come
// from tokens or KV (names, subjects, reasons) with their control characters escaped, so a value
// cannot move the cursor, clear the screen or fake another line of output in a terminal or a log.

/** `1 key`, `2 keys`, `0 entries` (`many` when the plural is not `one` + s). */
export const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// C0 and C1 controls, DEL, the line and paragraph separators and the bidirectional overrides
// and isolates (which reorder what follows them on screen).
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const SHORT = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\u001b': '\\e' };

const escaped = (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** A value from outside, as text output shows it: control characters as escapes (`\n`, `\e`, `\u0007`). */
export const shown = (value) => String(value).replace(CONTROL, escaped);

const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Every string the CLI writes (stdout and stderr, text, JSON and error lines, whatever command
 * built it) goes through here, so a value that reached the output without `shown` (an owner name,
 * a path, a parser's message quoting its input) still cannot drive the terminal. Line breaks
 * stay: the output's own. JSON keeps its meaning: JSON.stringify escapes C0 itself, and what is
 * left (DEL, C1, separators, bidi controls) becomes \uXXXX escapes, inside strings.
 */
export function escapeWrites(stream) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => write(typeof chunk === 'string' ? chunk.replace(CONTROL_BUT_NEWLINE, escaped) : chunk, ...rest);
}
