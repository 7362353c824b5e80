import type { Logger } from '@mcp-mesh/runtime';
import { Upstream, type UpstreamOptions } from './upstream.js';
import type { UpstreamNotification } from './upstream-session.js';

interface Entry {
  upstream: Upstream;
  lastUsed: number;
}

/**
 * `per-client` session mode: one upstream session (for stdio, one server process) per client
 * session, created on its first call and closed when the client session ends or idles out. Every
 * notification and server->client request of such an upstream belongs to exactly one client.
 */
export class ClientUpstreams {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly options: Omit<UpstreamOptions, 'logger'> & {
      logger: Logger;
      idleMs: number;
      maxSessions: number;
      /** Notifications of one client's upstream that belong to no call. */
      onNotification: (session: string, notification: UpstreamNotification) => void;
    },
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(options.idleMs, 30_000));
    this.sweeper.unref();
  }

  /** The upstream of a client session, started on first use. */
  get(session: string): Upstream {
    const existing = this.entries.get(session);
    if (existing) {
      existing.lastUsed = Date.now();
      return existing.upstream;
    }
    if (this.entries.size >= this.options.maxSessions) this.evictOldest();
    const upstream = new Upstream({
      ...this.options,
      singleClient: true,
      logger: this.options.logger.child({ clientSession: session.slice(0, 8) }),
    });
    upstream.on('notification', (notification) => this.options.onNotification(session, notification));
    this.entries.set(session, { upstream, lastUsed: Date.now() });
    void upstream.start();
    return upstream;
  }

  async close(session: string): Promise<void> {
    const entry = this.entries.get(session);
    if (!entry) return;
    this.entries.delete(session);
    await entry.upstream.stop();
  }

  private evictOldest(): void {
    let oldest: [string, Entry] | undefined;
    for (const entry of this.entries) if (!oldest || entry[1].lastUsed < oldest[1].lastUsed) oldest = entry;
    if (oldest) {
      this.options.logger.warn({ sessions: this.entries.size }, 'per-client upstream limit reached: closing the least recently used');
      void this.close(oldest[0]);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [session, entry] of [...this.entries]) {
      if (now - entry.lastUsed > this.options.idleMs && entry.upstream.inFlight === 0) void this.close(session);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.allSettled([...this.entries.keys()].map((session) => this.close(session)));
  }
}
