import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS, sendError } from './http.js';

/** Where the build puts the page and its bundle (`dist/web`, beside the compiled server code). */
export const DEFAULT_ASSETS_DIR = fileURLToPath(new URL('./web/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/**
 * The page's files, read once from the build output into memory: only names found there are
 * served (a map lookup, so no path can reach outside it), each with its content type, an ETag and
 * the console's security headers.
 */
export class StaticAssets {
  private readonly assets = new Map<string, Asset>();

  constructor(dir: string = DEFAULT_ASSETS_DIR) {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const type = CONTENT_TYPES[extname(entry.name)];
      if (!entry.isFile() || !type) continue;
      const body = readFileSync(join(dir, entry.name));
      this.assets.set(entry.name, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
    }
  }

  has(name: string): boolean {
    return this.assets.has(name);
  }

  serve(name: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = this.assets.get(name);
    if (!asset) {
      if (name === 'index.html') {
        return sendError(res, 503, 'CONSOLE_NOT_BUILT', 'the console page is missing: build @mcp-mesh/console (npm run build)');
      }
      return sendError(res, 404, 'NOT_FOUND', `no console file named ${name}`);
    }
    const headers = {
      ...SECURITY_HEADERS,
      'content-type': asset.type,
      etag: asset.etag,
      // Names are stable across builds: the browser revalidates with the ETag every time.
      'cache-control': 'no-cache',
    };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }
}
