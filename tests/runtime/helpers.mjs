// Test helpers, written once: the fixed clock and the standard claims, the CLI as a user runs it,
// bearer credentials, free ports and local servers, and waiting on a condition (never a fixed
// sleep). Shared by tests/js/*.test.mjs and the other modules here.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const BIN = `${ROOT}bin/tokengate.js`;

/** The fixed clock of the deterministic tests, in Unix seconds (2027-01-15T08:00:00Z). */
export const NOW = 1_800_000_000;
/** The issuer of the standard claims. */
export const ISS = 'https://issuer.example';
/** The wall clock in Unix seconds, for tests against a running worker or the CLI. */
export const now = () => Math.floor(Date.now() / 1000);

/**
 * The claims of a valid access token at `at` (default `NOW`): issued 10 s before, valid for 10
 * minutes, with a `jti` and two scopes. `extra` overrides them; a member set to `undefined` is
 * left out of the token.
 */
export const claims = (extra = {}, at = NOW) => ({
  iss: ISS,
  sub: 'user-1',
  aud: 'api',
  iat: at - 10,
  exp: at + 600,
  jti: 'jti-1',
  scope: 'users:read billing:read',
  ...extra,
});

/** The `Authorization` header of a bearer token, as a headers object. */
export const authorization = (token) => ({ Authorization: `Bearer ${token}` });
/** A fetch `init` carrying a bearer token (merged into `init` and its headers). */
export const bearer = (token, init = {}) => ({ ...init, headers: { ...init.headers, ...authorization(token) } });

const parsed = (out) => {
  try {
    return JSON.parse(out);
  } catch {
    return undefined;
  }
};

/** Runs bin/tokengate.js to completion: `{ code, out, err, json }` (`json`: stdout parsed, if it is JSON). */
export function runCli(args, { input, cwd, env, timeout } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout });
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr, json: parsed(r.stdout) };
}

/**
 * Starts bin/tokengate.js: `{ child, result }`, `result` resolving `{ code, signal, out, err, json }`
 * when it ends. `group`: in a process group of its own, so a kill takes its children along.
 */
export function startCli(args, { input, cwd, env, group = false } = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, detached: group });
  const result = new Promise((resolve) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code, signal) => resolve({ code, signal, out, err, json: parsed(out) }));
  });
  child.stdin.end(input);
  return { child, result };
}

/** An HTTP server on 127.0.0.1 at a port the OS picks (free now); resolves once it listens. */
export function listen(handler) {
  return new Promise((resolve, reject) => {
    const server = createServer(handler);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** A port nobody listens on now (the OS picks it). */
export async function freePort() {
  const server = await listen();
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Polls `probe()` every `interval` ms until it returns a truthy value, and returns that value.
 * Fails the test after `timeout` ms with `message` (a function may name the last state seen).
 * A probe that throws ends the wait with its error (e.g. the process it waits on has exited).
 */
export async function waitFor(probe, { timeout = 5000, interval = 50, message = 'condition not met' } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) assert.fail(`${typeof message === 'function' ? message() : message} (waited ${timeout} ms)`);
    await delay(interval);
  }
}

/**
 * Resolves once the wall clock is past `ms` (a `Date.now()` value), for the waits whose subject
 * is time itself: a cache TTL or a staleness bound counted from a known read.
 */
export async function clockPast(ms) {
  while (Date.now() <= ms) await delay(Math.max(1, ms - Date.now() + 1));
}

/** Resolves once the Unix second `secs` is over (`now() > secs`): a later `iat`, a passed `exp`. */
export const secondPast = (secs) => clockPast((secs + 1) * 1000 - 1);
