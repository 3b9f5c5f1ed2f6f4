// README.md's shell blocks run as written. Every ```sh block either runs here, in a scratch
// folder holding a copy of the project's wrangler.toml (the lifecycle commands run from the
// project directory), or is marked `<!-- not run: reason -->` on the line before it. A block with
// a command this test cannot run and no such mark fails.
//
// How a block runs: with bash, `npx` resolving `npx tokengate` to this checkout's bin/tokengate.js
// (a shim first on PATH; any other `npx` use fails), `set -u` so an undefined variable fails,
// `pipefail` so a piped command's exit code counts, each command's exit code checked: 0, unless the line's comment says `(exit N)`. A bare
// `npx tokengate mint …` line's output becomes `$TOKEN` for the lines after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, ROOT } from '../runtime/helpers.mjs';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Commands a block may run here; anything else needs a `not run` mark. */
const RUNNABLE = /^(npx tokengate|echo|cat|head|printf|node -p|test|\[)(\s|$)/;

/** Every ```sh block: its line, the heading above it, its text, and its `not run` reason if marked. */
function shellBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    if (/^#+ /.test(lines[i])) heading = lines[i].replace(/^#+ /, '');
    if (!/^```(sh|bash|shell)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const mark = /^<!-- not run: (.+?) -->$/.exec(lines[before]?.trim() ?? '');
    blocks.push({ line: start + 1, heading, body: lines.slice(start, end), skip: mark?.[1] ?? null });
    i = end;
  }
  return blocks;
}

/** The block's commands, continuation lines joined: `{ line, text, expect }`. */
function commands(block) {
  const out = [];
  for (let i = 0; i < block.body.length; i++) {
    const line = block.line + i;
    let text = block.body[i];
    while (/\\\s*$/.test(text) && i + 1 < block.body.length) text = text.replace(/\\\s*$/, ' ') + block.body[++i].trim();
    if (text.trim() === '' || text.trim().startsWith('#')) continue;
    const expect = /#.*\(exit (\d+)\)/.exec(text);
    out.push({ line, text: text.trim(), expect: expect ? Number(expect[1]) : 0 });
  }
  return out;
}

/** `text` split into its top-level pieces and the contents of each `$(…)`, quotes respected. */
function split(text) {
  const top = [];
  const subs = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const j = text.indexOf(ch, i + 1);
      const end = j === -1 ? text.length : j;
      cur += text.slice(i, end + 1);
      i = end;
    } else if (ch === '$' && text[i + 1] === '(') {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text[j] === "'" || text[j] === '"') j = text.indexOf(text[j], j + 1);
        else if (text[j] === '(') depth++;
        else if (text[j] === ')') depth--;
      }
      subs.push(text.slice(i + 2, j - 1));
      cur += 'X';
      i = j - 1;
    } else if (ch === '#' && /\s/.test(text[i - 1] ?? ' ')) break;
    else cur += ch;
  }
  top.push(cur);
  return { top, subs };
}

/** The first word of each part of a command (pipes, &&, $(…)), for the runnable check. */
function parts(text) {
  const { top, subs } = split(text);
  return [...top, ...subs.flatMap((s) => parts(s))]
    .flatMap((p) => p.split(/\|\||&&|\||;/))
    .map((p) => p.trim().replace(/^[A-Z_][A-Z0-9_]*=("[^"]*"|'[^']*'|\S*)\s*/, ''))
    .filter((p) => p !== '' && p !== 'X');
}

/** The bash script for a block: each command, then its exit code checked. */
function script(cmds) {
  const q = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = ['set -u -o pipefail'];
  for (const c of cmds) {
    const what = q(`README.md:${c.line}: ${c.text}`);
    lines.push(`echo "+ "${what} >&2`);
    if (/^npx tokengate mint\b/.test(c.text)) lines.push(`TOKEN=$(${c.text.replace(/\s#.*$/, '')})`);
    else lines.push(c.text);
    lines.push(`__rc=$?; if [ "$__rc" -ne ${c.expect} ]; then echo ${what}" exited $__rc, expected ${c.expect}" >&2; exit 99; fi`);
  }
  return lines.join('\n') + '\n';
}

const blocks = shellBlocks(README);

test('README has shell blocks, and every one is run or marked', () => {
  assert.ok(blocks.length >= 4, 'the README has its shell blocks');
  for (const b of blocks) {
    if (b.skip) continue;
    for (const c of commands(b))
      for (const p of parts(c.text))
        assert.match(
          p,
          RUNNABLE,
          `README.md:${c.line} (${b.heading}) runs \`${p}\`, which this test cannot run: make the block runnable or mark it <!-- not run: reason -->`,
        );
  }
  assert.ok(
    blocks.some((b) => !b.skip),
    'at least one block runs',
  );
});

for (const b of blocks.filter((x) => !x.skip)) {
  test(`README.md:${b.line} (${b.heading}) runs as written`, { timeout: 600_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tokengate-readme-'));
    copyFileSync(join(ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'));
    const shim = join(dir, '.shim');
    mkdirSync(shim);
    writeFileSync(
      join(shim, 'npx'),
      `#!/bin/sh\nif [ "$1" = tokengate ]; then shift; exec '${process.execPath}' '${BIN}' "$@"; fi\necho "npx shim: only 'npx tokengate' runs in the README test" >&2\nexit 127\n`,
    );
    chmodSync(join(shim, 'npx'), 0o755);
    const cmds = commands(b);
    writeFileSync(join(dir, '.block.sh'), script(cmds));
    const r = spawnSync('bash', ['.block.sh'], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, PATH: `${shim}:${process.env.PATH}`, TOKENGATE_ACTOR: 'readme' },
    });
    assert.equal(r.status, 0, `block at README.md:${b.line}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  });
}
