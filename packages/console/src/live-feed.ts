import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Identity } from '@mcp-mesh/policy';
import type { AuditEvent } from '@mcp-mesh/protocol';
import type { LiveStats, WindowStats } from './api-types.js';
import type { AuditTail } from './audit-tail.js';
import { SECURITY_HEADERS, sendMethodNotAllowed } from './http.js';
import { canSeeServer, serverSummaries, type ConsoleIngress } from './mesh-view.js';
import type { StatsWindow } from './stats-window.js';

/** The stats key of requests that no single server served (aggregated lists of `/mcp`). */
export const MESH_KEY = '(mesh)';

export interface LiveFeedOptions {
  ingress: () => ConsoleIngress;
  stats: StatsWindow;
  tail: AuditTail;
  /** How often each page gets the numbers, milliseconds (default 1 s). */
  intervalMs?: number;
  /** A page that has this many bytes unsent is too slow and is cut off (it reconnects). */
  maxBufferedBytes?: number;
}

interface Connection {
  identity: Identity;
  res: ServerResponse;
  unsubscribe: () => void;
}

/** What of an audit event the page shows: full arguments (when audit keeps them) stay on the server. */
function forPage(event: AuditEvent): AuditEvent {
  const { args: _args, ...rest } = event;
  return rest;
}

/**
 * GET /api/live: one Server-Sent Events stream per page with `stats` once a second (numbers over
 * the sliding window, replicas, health, breakers) and `audit` for every audit event, both limited
 * to the servers the caller may see.
 */
export class LiveFeed {
  private readonly connections = new Set<Connection>();
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: LiveFeedOptions) {}

  serve(identity: Identity, req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET') return sendMethodNotAllowed(res, 'GET');
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const ingress = this.options.ingress();
    const lastEventId = req.headers['last-event-id'];
    const connection: Connection = { identity, res, unsubscribe: () => undefined };
    this.connections.add(connection);
    connection.unsubscribe = this.options.tail.subscribe(
      {
        event: (event) => {
          if (event.server === undefined || canSeeServer(ingress, identity, event.server)) {
            this.send(connection, 'audit', forPage(event), event.id);
          }
        },
        status: (status) => this.send(connection, 'audit-status', status),
      },
      typeof lastEventId === 'string' ? lastEventId : undefined,
    );
    res.once('close', () => this.drop(connection));
    this.sendStats(connection, this.options.stats.snapshot());
    this.ticker ??= setInterval(() => this.tick(), this.options.intervalMs ?? 1_000);
  }

  private tick(): void {
    const snapshot = this.options.stats.snapshot();
    for (const connection of this.connections) this.sendStats(connection, snapshot);
  }

  private sendStats(connection: Connection, snapshot: Record<string, WindowStats>): void {
    const ingress = this.options.ingress();
    const servers = serverSummaries(ingress, connection.identity);
    const visible = new Set(servers.map((server) => server.name));
    const stats: Record<string, WindowStats> = {};
    for (const [key, value] of Object.entries(snapshot)) {
      if (key === MESH_KEY || visible.has(key)) stats[key] = value;
    }
    const breakers = Object.fromEntries(Object.entries(ingress.breakerStates()).filter(([server]) => visible.has(server)));
    const live: LiveStats = { time: Date.now(), windowMs: this.options.stats.windowMs, servers, stats, breakers };
    this.send(connection, 'stats', live);
  }

  private send(connection: Connection, event: string, data: unknown, id?: string): void {
    const { res } = connection;
    if (res.destroyed || res.writableEnded) return;
    if (res.writableLength > (this.options.maxBufferedBytes ?? 4 * 1024 * 1024)) {
      res.destroy();
      return;
    }
    res.write(`event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`);
  }

  private drop(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    connection.unsubscribe();
    if (this.connections.size === 0) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  /** Ends every stream. Idempotent. */
  close(): void {
    for (const connection of [...this.connections]) {
      this.drop(connection);
      connection.res.end();
    }
  }
}
