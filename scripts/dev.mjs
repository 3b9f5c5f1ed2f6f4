// The two steps of `npm start` (scripts/start.sh) that talk to the network:
//   node scripts/dev.mjs check PORT        exit 2 with one line when 127.0.0.1:PORT cannot be
//                                          listened on (busy: names a free port to use instead)
//   node scripts/dev.mjs serve PORT FILE   runs wrangler dev on PORT and prints FILE (the demo's
//                                          curl lines) once the worker answers there
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';

const HOST = '127.0.0.1';
const [step, port, file] = process.argv.slice(2);

/** Listens on `p` and closes again: null when that works, else the listen error. */
const tryListen = (p) =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', resolve);
    server.listen({ host: HOST, port: p, exclusive: true }, () => server.close(() => resolve(null)));
  });

async function check() {
  if (!/^\d+$/.test(port ?? '') || Number(port) < 1 || Number(port) > 65535) {
    process.stderr.write(`tokengate: "${port}" is not a port number (npm start -- --port 8788, or PORT=8788 npm start)\n`);
    return 2;
  }
  const error = await tryListen(Number(port));
  if (error === null) return 0;
  if (error.code === 'EADDRINUSE') {
    // A port the OS has free now, to suggest.
    const free = await new Promise((resolve) => {
      const s = createServer().listen({ host: HOST, port: 0 }, () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    process.stderr.write(
      `tokengate: port ${port} on ${HOST} is in use (another npm start or wrangler dev?); stop it, or use another port: npm start -- --port ${free} (or PORT=${free} npm start)\n`,
    );
  } else if (error.code === 'EACCES') {
    process.stderr.write(`tokengate: port ${port} needs privileges here; use one above 1023: npm start -- --port 8788\n`);
  } else process.stderr.write(`tokengate: cannot listen on ${HOST}:${port}: ${error.code ?? error.message}\n`);
  return 2;
}

async function serve() {
  const base = `http://${HOST}:${port}`;
  const wrangler = spawn(
    'node_modules/.bin/wrangler',
    [
      'dev',
      '--local',
      '--ip',
      HOST,
      '--port',
      port,
      '--persist-to',
      '.wrangler/state',
      '--test-scheduled',
      '--show-interactive-dev-session=false',
    ],
    {
      stdio: 'inherit',
      // Offline, Miniflare warns that it cannot fetch the `Request.cf` object and waits for the
      // fetch to time out; the worker never reads request.cf, so the placeholder is used
      // without trying (an explicit CLOUDFLARE_CF_FETCH_ENABLED wins).
      env: { CLOUDFLARE_CF_FETCH_ENABLED: 'false', ...process.env },
    },
  );
  const exited = new Promise((resolve) => wrangler.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 1))));
  let code = null;
  exited.then((c) => (code = c));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.once(signal, () => wrangler.kill(signal));
  // Ready once the worker answers on the port (any HTTP answer: health may say 503 and why).
  while (code === null) {
    try {
      await fetch(`${base}/.well-known/tokengate/health`, { signal: AbortSignal.timeout(2000) });
      break;
    } catch {
      await delay(200);
    }
  }
  if (code === null) process.stdout.write(readFileSync(file, 'utf8'));
  return exited;
}

process.exitCode = step === 'check' ? await check() : step === 'serve' ? await serve() : 2;
