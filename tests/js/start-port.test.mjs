// `npm start` on a busy port, as people run it (PORT=N, `npm start -- --port N`, `--port=N`):
// it names the port and a free one to use instead, before anything is set up or built. The port
// is held by a real listener; nothing here builds or starts wrangler.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { ROOT, listen } from '../runtime/helpers.mjs';

const server = await listen((_, res) => res.end('someone else'));
const { port } = server.address();
after(() => server.close());

const start = (args, env = {}) =>
  spawnSync(args[0], args.slice(1), { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, PORT: '', ...env } });
const BUSY = new RegExp(
  `^tokengate: port ${port} on 127\\.0\\.0\\.1 is in use \\(another npm start or wrangler dev\\?\\); stop it, or use another port: npm start -- --port (\\d+) \\(or PORT=\\1 npm start\\)\\n$`,
);

test('a busy port is named with a free one to use instead, before anything is built', async () => {
  for (const [args, env] of [
    [['bash', 'scripts/start.sh'], { PORT: String(port) }],
    [['bash', 'scripts/start.sh', '--port', String(port)], {}],
    [['bash', 'scripts/start.sh', `--port=${port}`], { PORT: '1' }], // the flag wins over PORT
    [['npm', 'start', '--silent', '--', '--port', String(port)], {}],
  ]) {
    const r = start(args, env);
    assert.equal(r.status, 2, `${args.join(' ')}\n${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '', 'nothing set up, built or seeded');
    const m = BUSY.exec(r.stderr);
    assert.ok(m, r.stderr);
    // The suggested port is free: a listener gets it.
    const probe = spawnSync(process.execPath, ['scripts/dev.mjs', 'check', m[1]], { cwd: ROOT, encoding: 'utf8' });
    assert.deepEqual([probe.status, probe.stderr], [0, '']);
  }
  // Still ours: the check listened and let go without disturbing the listener.
  assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'someone else');
});

test('a port that is not a number, or an option npm start does not take: one line, exit 2', () => {
  for (const [args, env, line] of [
    [['--port', 'abc'], {}, 'tokengate: "abc" is not a port number (npm start -- --port 8788, or PORT=8788 npm start)\n'],
    [[], { PORT: '70000' }, 'tokengate: "70000" is not a port number (npm start -- --port 8788, or PORT=8788 npm start)\n'],
    [['--port'], {}, 'tokengate: --port needs a port number (npm start -- --port 8788)\n'],
    [['--prot', '9000'], {}, 'tokengate: npm start takes --port N (or PORT=N), not "--prot"\n'],
  ]) {
    const r = start(['bash', 'scripts/start.sh', ...args], env);
    assert.deepEqual([r.status, r.stdout, r.stderr], [2, '', line], args.join(' '));
  }
});
