import { EventEmitter } from 'node:events';
import { SSEClientTransport, StreamableHTTPClientTransport, type Transport } from '@modelcontextprotocol/client';
import {
  ListKinds,
  ListMethods,
  MeshError,
  digestOf,
  modernRevisionOf,
  withoutModernMaterial,
  type BridgeState,
  type ListDigests,
  type ListKind,
} from '@mcp-mesh/protocol';
import { isStdioServer, type Logger, type ServerConfig } from '@mcp-mesh/runtime';
import { Backoff } from './backoff.js';
import { toClientReply, toUpstreamParams } from './replica-affinity.js';
import { ChildProcessTransport } from './child-transport.js';
import { childEnvironment } from './child-env.js';
import {
  UpstreamSession,
  type DiscoverOutcome,
  type InitializeOutcome,
  type RequestOptions,
  type UpstreamNotification,
  type UpstreamReply,
} from './upstream-session.js';

export interface UpstreamOptions {
  server: string;
  config: ServerConfig;
  logger: Logger;
  /** The bridge's own environment, filtered through the allow-list for stdio servers. */
  parentEnv: NodeJS.ProcessEnv;
  /** Deadline for the upstream's initialize handshake (npx may download first), milliseconds. */
  startTimeoutMs?: number;
  backoff?: Backoff;
  /** This upstream serves one client session only (per-client mode). */
  singleClient?: boolean;
  /** The bridge replica's instance id: task ids and requestState given to clients name it (replica affinity). */
  instance?: string;
}

export interface UpstreamEvents {
  /** State, digests or server info changed: the bridge re-announces. */
  change: [];
  /** A notification that belongs to no call. */
  notification: [UpstreamNotification];
  /** The upstream ended unexpectedly and a restart is scheduled. */
  restart: [reason: string];
  /** The upstream is (again) initialized and serving. */
  ready: [];
}

const LIST_CAPABILITY: Record<ListKind, string> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resources',
};

/**
 * Owns the connection to one upstream MCP server: starts it, keeps it running (restarting a
 * crashed stdio server with backoff), knows its lists' digests, and forwards requests once ready.
 */
export class Upstream extends EventEmitter<UpstreamEvents> {
  state: BridgeState = 'starting';
  info: InitializeOutcome | undefined;
  digests: ListDigests = {};
  counts: Partial<Record<ListKind, number>> = {};
  restarts = 0;
  private session: UpstreamSession | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private healthyTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private readonly waiters = new Set<() => void>();
  private readonly refreshing = new Map<ListKind, Promise<void>>();
  lastError: string | undefined;
  /**
   * The 2026-07-28 channel (a second connection: for stdio, a second process), opened by the first
   * modern-era request. Legacy-era clients keep the `initialize` session above, so 2025 features
   * (logging/setLevel, resources/subscribe, push requests) stay as they are.
   */
  private modern: Promise<UpstreamSession | undefined> | undefined;
  private modernSession: UpstreamSession | undefined;
  /** The server answered `server/discover` with an error: modern requests go to the legacy session. */
  private legacyOnly = false;
  /** For a remote server: Streamable HTTP, or the legacy HTTP+SSE transport (decided once, by config or by falling back). */
  private httpMode: 'streamable' | 'sse' | undefined;

  constructor(private readonly options: UpstreamOptions) {
    super();
    this.backoff = options.backoff ?? new Backoff();
    const type = options.config.type;
    this.httpMode =
      type === 'sse' ? 'sse' : type === 'http' || type === 'streamable-http' || type === 'streamableHttp' ? 'streamable' : undefined;
  }

  get target(): { kind: 'stdio' | 'http'; target: string } {
    const config = this.options.config;
    return isStdioServer(config)
      ? { kind: 'stdio', target: [config.command, ...config.args].join(' ') }
      : { kind: 'http', target: config.url };
  }

  get inFlight(): number {
    return (this.session?.inFlight ?? 0) + (this.modernSession?.inFlight ?? 0);
  }

  /** Starts the upstream; a failed first start is retried with backoff like a crash. */
  async start(): Promise<void> {
    await this.connect();
  }

  private createTransport(): { transport: Transport; describeExit: () => string | undefined } {
    const config = this.options.config;
    if (isStdioServer(config)) {
      const log = this.options.logger.child({ stream: 'upstream-stderr' });
      const transport = new ChildProcessTransport({
        command: config.command,
        args: config.args,
        env: childEnvironment(this.options.parentEnv, config.env, config.envPassthrough),
        cwd: config.cwd,
        onStderr: (line) => log.info({ line }, 'upstream stderr'),
      });
      return { transport, describeExit: () => transport.exitReason };
    }
    const url = new URL(config.url);
    if (this.httpMode === 'sse') {
      const headers = config.headers;
      const transport = new SSEClientTransport(url, {
        requestInit: { headers },
        // The event stream's GET carries the same headers (credentials of the mesh, never a client's).
        eventSourceInit: {
          fetch: (input: string | URL, init?: RequestInit) =>
            fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }),
        },
      } as never);
      return { transport: transport as Transport, describeExit: () => undefined };
    }
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: config.headers } });
    return { transport: transport as Transport, describeExit: () => undefined };
  }

  private async connect(): Promise<void> {
    if (this.stopping) return;
    const { transport, describeExit } = this.createTransport();
    const session = new UpstreamSession(transport, describeExit, this.options.singleClient ?? false);
    session.onNotification = (notification) => this.onUpstreamNotification(notification);
    session.onClose = (reason) => this.onSessionClosed(session, reason);
    this.session = session;
    try {
      this.info = await session.start(this.options.startTimeoutMs ?? 60_000);
      await Promise.all(ListKinds.filter((kind) => this.offers(kind)).map((kind) => this.refreshList(kind)));
    } catch (error) {
      this.lastError = (error as Error).message;
      // A remote server that refuses Streamable HTTP may be a legacy HTTP+SSE server: try that once.
      const fallback = !isStdioServer(this.options.config) && this.httpMode === undefined;
      if (fallback) {
        this.httpMode = 'sse';
        this.session = undefined;
      }
      await session.close().catch(() => undefined);
      if (fallback) {
        this.options.logger.warn({ err: error }, 'Streamable HTTP failed: trying the legacy HTTP+SSE transport');
        return this.connect();
      }
      this.options.logger.error({ err: error }, 'upstream failed to start');
      this.onSessionClosed(session, this.lastError);
      return;
    }
    if (!isStdioServer(this.options.config)) this.httpMode ??= 'streamable';
    if (this.session !== session || this.stopping) return;
    // A restarted server may be a new version: its era is probed again on the next modern request.
    this.legacyOnly = false;
    this.setState('ready');
    this.emit('ready');
    this.options.logger.info(
      { serverInfo: this.info.serverInfo, protocolVersion: this.info.protocolVersion, counts: this.counts },
      'upstream ready',
    );
    this.healthyTimer = setTimeout(() => this.backoff.reset(), 60_000);
    this.healthyTimer.unref();
  }

  private offers(kind: ListKind): boolean {
    return this.info?.capabilities?.[LIST_CAPABILITY[kind]] !== undefined;
  }

  private onSessionClosed(session: UpstreamSession, reason: string): void {
    if (this.session !== session) return;
    this.session = undefined;
    clearTimeout(this.healthyTimer);
    if (this.stopping) return;
    this.lastError = reason;
    this.restarts++;
    const delay = this.backoff.next();
    this.options.logger.warn({ reason, restartInMs: delay, restarts: this.restarts }, 'upstream ended; restarting');
    this.setState('upstream-down');
    this.emit('restart', reason);
    this.restartTimer = setTimeout(() => void this.connect(), delay);
  }

  private onUpstreamNotification(notification: UpstreamNotification): void {
    const lists = ListKinds.filter((kind) => ListMethods[kind].notification === notification.method && this.offers(kind));
    if (lists.length === 0) {
      this.emit('notification', notification);
      return;
    }
    // The new digests are announced before the notification is relayed, so a client that lists
    // again when told gets the new list.
    void Promise.allSettled(lists.map((kind) => this.refreshList(kind))).then(() => {
      this.emit('change');
      this.emit('notification', notification);
    });
  }

  /** Fetches every page of one list and records its digest. */
  private refreshList(kind: ListKind): Promise<void> {
    const running = this.refreshing.get(kind);
    if (running) return running.then(() => this.refreshList(kind));
    const work = (async () => {
      const { method, field } = ListMethods[kind];
      const items: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 1_000; page++) {
        const reply = await this.request(method, cursor === undefined ? undefined : { cursor }, { deadline: Date.now() + 30_000 }, false);
        if ('error' in reply) throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', `${method} failed upstream: ${reply.error.message}`);
        const pageItems = reply.result[field];
        if (Array.isArray(pageItems)) items.push(...pageItems);
        const next = reply.result.nextCursor;
        if (typeof next !== 'string' || next.length === 0) break;
        cursor = next;
      }
      this.digests = { ...this.digests, [kind]: digestOf(items) };
      this.counts = { ...this.counts, [kind]: items.length };
    })().finally(() => this.refreshing.delete(kind));
    this.refreshing.set(kind, work);
    return work;
  }

  private setState(state: BridgeState): void {
    if (this.state === state) return;
    this.state = state;
    if (state === 'ready') for (const wake of this.waiters) wake();
    this.emit('change');
  }

  /** Resolves once the upstream is ready, or rejects at the deadline. */
  private async whenReady(deadline: number): Promise<UpstreamSession> {
    while (this.state !== 'ready' || !this.session) {
      if (this.stopping) throw new MeshError('MESH_BRIDGE_DRAINING', 'the bridge is shutting down');
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new MeshError(
          'MESH_UPSTREAM_UNAVAILABLE',
          `upstream server '${this.options.server}' is not running${this.lastError ? ` (last error: ${this.lastError})` : ''}`,
        );
      }
      // Each waiter removes only itself: a caller whose deadline passes must not take the others' wake-ups.
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, remaining);
        this.waiters.add(done);
      });
    }
    return this.session;
  }

  /**
   * The modern channel, opened on first use with `server/discover`. Resolves undefined for a server
   * that does not speak 2026-07-28 (remembered), or one reached over the legacy HTTP+SSE transport.
   */
  private modernChannel(): Promise<UpstreamSession | undefined> {
    if (this.legacyOnly || this.stopping || this.httpMode === 'sse') return Promise.resolve(undefined);
    this.modern ??= this.openModern();
    return this.modern;
  }

  private async openModern(): Promise<UpstreamSession | undefined> {
    const { transport, describeExit } = this.createTransport();
    const session = new UpstreamSession(transport, describeExit, false);
    // A modern server sends list changes only to subscriptions/listen streams; anything else that
    // belongs to no request has no client to go to.
    session.onNotification = (notification) => {
      if (ListKinds.some((kind) => ListMethods[kind].notification === notification.method)) this.onUpstreamNotification(notification);
    };
    session.onClose = (reason) => {
      if (this.modernSession !== session) return;
      this.modernSession = undefined;
      this.modern = undefined;
      if (!this.stopping)
        this.options.logger.warn({ reason }, 'modern-era upstream channel ended; the next modern request opens a new one');
    };
    let discovered: DiscoverOutcome;
    try {
      discovered = await session.discover(this.options.startTimeoutMs ?? 60_000);
    } catch (error) {
      this.legacyOnly = true;
      this.modern = undefined;
      this.options.logger.info(
        { reason: (error as Error).message },
        'upstream does not speak 2026-07-28: modern-era requests use its 2025-11-25 session',
      );
      await session.close().catch(() => undefined);
      return undefined;
    }
    if (this.stopping) {
      await session.close().catch(() => undefined);
      return undefined;
    }
    this.modernSession = session;
    this.options.logger.info({ supportedVersions: discovered.supportedVersions }, 'modern-era upstream channel open');
    this.listenForListChanges(session, discovered.capabilities);
    return session;
  }

  /**
   * A modern server tells of list changes only on `subscriptions/listen` streams: the bridge keeps
   * one open on its modern channel, so a change made by a modern-era call (a new tool, a trigger)
   * reaches the mesh as it does from the legacy session.
   */
  private listenForListChanges(session: UpstreamSession, capabilities: Record<string, unknown> | undefined): void {
    const offers = (name: string) => (capabilities?.[name] as { listChanged?: boolean } | undefined)?.listChanged === true;
    const notifications: Record<string, boolean> = {};
    if (offers('tools')) notifications.toolsListChanged = true;
    if (offers('prompts')) notifications.promptsListChanged = true;
    if (offers('resources')) notifications.resourcesListChanged = true;
    if (Object.keys(notifications).length === 0) return;
    session.listen(notifications).then(
      (reply) => {
        if ('error' in reply)
          this.options.logger.warn(
            { error: reply.error },
            'upstream refused subscriptions/listen: list changes of modern-era calls are not relayed',
          );
      },
      () => undefined,
    );
  }

  /**
   * Forwards one request, waiting (up to its deadline) for a restarting upstream. A modern-era
   * request (its params carry the 2026-07-28 envelope) goes to the modern channel untouched; when the
   * server has none, it goes to the legacy session without the envelope and retry fields.
   */
  async request(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
    waitForReady = true,
  ): Promise<UpstreamReply> {
    const instance = this.options.instance;
    if (instance === undefined) return this.send(method, params, options, waitForReady);
    const reply = await this.send(method, toUpstreamParams(method, params, instance), options, waitForReady);
    return toClientReply(method, reply, instance);
  }

  private async send(
    method: string,
    params: Record<string, unknown> | undefined,
    options: RequestOptions,
    waitForReady: boolean,
  ): Promise<UpstreamReply> {
    if (modernRevisionOf(params) !== undefined) {
      if (waitForReady) await this.whenReady(options.deadline);
      const modern = await this.modernChannel();
      if (modern) return modern.request(method, params, options);
      params = withoutModernMaterial(params);
    }
    const session = waitForReady ? await this.whenReady(options.deadline) : this.session;
    if (!session) throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', `upstream server '${this.options.server}' is not running`);
    return session.request(method, params, options);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.healthyTimer);
    for (const wake of this.waiters) wake();
    const session = this.session;
    this.session = undefined;
    const modern = this.modernSession;
    this.modernSession = undefined;
    this.setState('draining');
    await Promise.all([session?.close(), modern?.close()]);
  }
}
