// A static file server for the project directory on 127.0.0.1 (browser tests).
import { readFile } from 'node:fs/promises';
import { extname, normalize } from 'node:path';
import { listen } from './helpers.mjs';

const TYPES = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

export function serve(rootDir) {
  return listen(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (path.endsWith('/')) path += 'index.html';
    if (path.includes('..')) return res.writeHead(400).end();
    try {
      const body = await readFile(rootDir + path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
}
