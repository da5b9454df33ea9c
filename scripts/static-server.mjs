// A small static file server for the web demo and the browser tests. Listens on 127.0.0.1 only (a secure context,
// so Web Locks and IndexedDB behave as on https). `routes` maps URL prefixes to folders, longest prefix first;
// nothing outside those folders is ever served.
//   serveStatic({ '/dist/': 'npm/dist', '/': 'web-demo' }, { port: 0 }) -> { server, url }
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.json': 'application/json', '.jsonl': 'application/x-ndjson', '.svg': 'image/svg+xml',
};

export function serveStatic(routes, { port = 0 } = {}) {
  const table = Object.entries(routes)
    .map(([prefix, dir]) => [prefix, resolve(dir) + sep])
    .sort((a, b) => b[0].length - a[0].length);
  const server = createServer(async (req, res) => {
    let path;
    try {
      path = normalize(decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname));
    } catch {
      return res.writeHead(400).end();
    }
    const route = table.find(([prefix]) => path.startsWith(prefix));
    if (!route) return res.writeHead(404).end();
    const rest = path.slice(route[0].length);
    const file = join(route[1], rest === '' || rest.endsWith('/') ? rest + 'index.html' : rest);
    if (!file.startsWith(route[1])) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => done({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}
