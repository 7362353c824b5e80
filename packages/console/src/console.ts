import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NatsConnection } from '@nats-io/transport-node';
import type { FinishedRequest } from '@mcp-mesh/ingress';
import type { Identity } from '@mcp-mesh/policy';
import type { Logger } from '@mcp-mesh/runtime';
import type { CatalogResponse, ConsoleConfig } from './api-types.js';
import { AuditTail } from './audit-tail.js';
import { sendError, sendJson, sendMethodNotAllowed } from './http.js';
import { LiveFeed, MESH_KEY } from './live-feed.js';
import { catalogFor, type ConsoleIngress } from './mesh-view.js';
import { StaticAssets } from './static-assets.js';
import { StatsWindow } from './stats-window.js';
import { serveCall } from './try-call.js';

export interface MeshConsoleOptions {
  /**
   * The ingress the console shows. A function, because the console is made first: its `routes`
   * and `onRequestFinished` are options of the ingress. Called only while serving.
   */
  ingress: () => ConsoleIngress;
  /** For the audit tail (JetStream). */
  nc: NatsConnection;
  logger: Logger;
  /** Subject prefix of the mesh (default `mcp.v1`). */
  prefix?: string;
  /** The audit stream's name (default: the stream that stores the mesh's audit subjects). */
  auditStream?: string;
  /** Base URL of a Jaeger UI; audit events link to `<jaegerUrl>/trace/<traceId>`. */
  jaegerUrl?: string;
  /** The ingress's deadline of one call (config `ingress.requestTimeoutMs`). */
  requestTimeoutMs?: number;
  /** Deadline for fetching one server's lists for the catalog (config `ingress.listTimeoutMs`). */
  listTimeoutMs?: number;
  /** The sliding window of the live numbers, milliseconds (default 60 s). */
  windowMs?: number;
  /** Where the built page is (default: this package's `dist/web`). */
  assetsDir?: string;
  /** The clock of the live numbers (tests). */
  now?: () => number;
}

const ASSET_PATH = /^\/console\/([A-Za-z0-9][A-Za-z0-9._-]*)$/;

/**
 * The web console: a read-only page at `/` with its files under `/console/` and JSON under
 * `/api/`, served by the ingress behind its own Host/Origin checks and authentication.
 * Pass `routes` and `onRequestFinished` to the ingress's options.
 */
export class MeshConsole {
  private readonly stats: StatsWindow;
  private readonly tail: AuditTail;
  private readonly feed: LiveFeed;
  private readonly assets: StaticAssets;
  private readonly jaegerUrl: string | null;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: MeshConsoleOptions) {
    this.stats = new StatsWindow({ windowMs: options.windowMs ?? 60_000, ...(options.now ? { now: options.now } : {}) });
    this.tail = new AuditTail({
      nc: options.nc,
      logger: options.logger.child({ component: 'console-audit-tail' }),
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.auditStream ? { stream: options.auditStream } : {}),
    });
    this.feed = new LiveFeed({ ingress: options.ingress, stats: this.stats, tail: this.tail });
    this.assets = new StaticAssets(options.assetsDir);
    this.jaegerUrl = options.jaegerUrl ? options.jaegerUrl.replace(/\/+$/, '') : null;
    if (!this.assets.has('index.html'))
      options.logger.warn('the console page is not built: / answers 503 until @mcp-mesh/console is built');
  }

  /** The ingress's `onRequestFinished`: every finished MCP request feeds the live numbers. */
  readonly onRequestFinished = (request: FinishedRequest): void => {
    this.stats.record(request.server ?? MESH_KEY, request.outcome, request.latencyMs);
  };

  /** The ingress's `routes`: answers `/`, `/console/…` and `/api/…`; false for any other path. */
  readonly routes = async (path: string, req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<boolean> => {
    if (path === '/' || path === '/console' || path === '/console/') {
      if (req.method !== 'GET' && req.method !== 'HEAD') sendMethodNotAllowed(res, 'GET, HEAD');
      else this.assets.serve('index.html', req, res);
      return true;
    }
    const asset = ASSET_PATH.exec(path);
    if (asset) {
      if (req.method !== 'GET' && req.method !== 'HEAD') sendMethodNotAllowed(res, 'GET, HEAD');
      else this.assets.serve(asset[1]!, req, res);
      return true;
    }
    if (path !== '/api' && !path.startsWith('/api/')) return false;
    await this.api(path, req, res, identity);
    return true;
  };

  private async api(path: string, req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    const ingress = this.options.ingress();
    switch (path) {
      case '/api/config': {
        if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
        const config: ConsoleConfig = {
          principal: identity.principal,
          roles: identity.roles,
          jaegerUrl: this.jaegerUrl,
          windowMs: this.stats.windowMs,
        };
        return sendJson(res, 200, config);
      }
      case '/api/catalog': {
        if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
        const catalog: CatalogResponse = { servers: await catalogFor(ingress, identity, this.options.listTimeoutMs ?? 5_000) };
        return sendJson(res, 200, catalog);
      }
      case '/api/live':
        return this.feed.serve(identity, req, res);
      case '/api/call':
        return serveCall(ingress, identity, req, res, { requestTimeoutMs: this.options.requestTimeoutMs ?? 60_000 });
      default:
        return sendError(res, 404, 'NOT_FOUND', `no console API at ${path}: there are /api/config, /api/catalog, /api/live and /api/call`);
    }
  }

  /** Ends the live streams and stops following the audit stream. Idempotent; call before closing NATS. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.feed.close();
      await this.tail.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
