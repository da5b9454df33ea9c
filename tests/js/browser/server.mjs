// The browser tests' server: /dist/* from npm/dist, everything else from page/, on 127.0.0.1 at a random port.
import { fileURLToPath } from 'node:url';

import { serveStatic } from '../../../scripts/static-server.mjs';

export function serve() {
  return serveStatic({
    '/dist/': fileURLToPath(new URL('../../../npm/dist/', import.meta.url)),
    '/': fileURLToPath(new URL('./page/', import.meta.url)),
  });
}
