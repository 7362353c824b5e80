import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { JsonRpcCode, MeshError, MODERN_ERA_FIRST_REVISION, ModernMetaKey, type WireError } from '@mcp-mesh/protocol';

export const MESH_CLIENT_INFO = { name: 'mcp-mesh-bridge', version: '0.1.0' } as const;
/** The protocol version the bridge asks its upstream for (legacy era, what published servers speak). */
export const UPSTREAM_PROTOCOL_VERSION = '2025-11-25';
/** The modern-era revision the bridge speaks to upstreams that support it (probed with `server/discover`). */
/** The revision the bridge speaks to an upstream's modern connection: the first of the modern era. */
export const MODERN_UPSTREAM_REVISION = MODERN_ERA_FIRST_REVISION;
/** The envelope (`params._meta`) of the bridge's own modern-era requests. */
const MESH_MODERN_META = {
  [ModernMetaKey.ProtocolVersion]: MODERN_UPSTREAM_REVISION,
  [ModernMetaKey.ClientCapabilities]: {},
  [ModernMetaKey.ClientInfo]: MESH_CLIENT_INFO,
} as const;

/** What a modern upstream answers `server/discover` with (the fields the mesh reads). */
export interface DiscoverOutcome {
  supportedVersions: string[];
  capabilities: Record<string, unknown>;
  serverInfo?: { name: string; version: string; [key: string]: unknown };
  instructions?: string;
}

export interface InitializeOutcome {
  protocolVersion: string;
  capabilities: Record<string, unknown>;
  serverInfo: { name: string; version: string; [key: string]: unknown };
  instructions?: string;
}

export interface UpstreamNotification {
  method: string;
  params?: Record<string, unknown>;
}

export interface RequestOptions {
  /** Absolute deadline, epoch milliseconds. */
  deadline: number;
  signal?: AbortSignal;
  /** Notifications that belong to this request (progress with its token, logging while it is the only call). */
  onNotification?: (notification: UpstreamNotification) => void;
  /** Server->client requests (sampling, elicitation, roots) made while this request was the only call. */
  onServerRequest?: (request: UpstreamNotification) => Promise<UpstreamReply>;
  /** A request that stays open for the session's life (a listen stream): no call, never counted in flight. */
  background?: boolean;
}

export type UpstreamReply = { result: Record<string, unknown> } | { error: WireError };

interface Pending {
  method: string;
  resolve: (reply: UpstreamReply) => void;
  reject: (error: MeshError) => void;
  /** The client's progress token, and the one the upstream sees (unique per upstream session). */
  progressToken: string | number | undefined;
  upstreamToken: string | undefined;
  onNotification: ((notification: UpstreamNotification) => void) | undefined;
  onServerRequest: RequestOptions['onServerRequest'];
  background: boolean;
  cleanup: () => void;
}

type JsonRpcLike = {
  id?: string | number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: WireError;
};

/**
 * One MCP session with an upstream server over any SDK Transport, as a transparent JSON-RPC
 * multiplexer: the mesh forwards methods and payloads it does not need to understand, so results
 * and `_meta` pass through untouched. Ids are the session's own; callers never see them.
 */
export class UpstreamSession {
  private nextId = 1;
  private readonly pending = new Map<string | number, Pending>();
  private closedReason: string | undefined;
  /** Notifications that belong to no request (list_changed, logging, resources/updated). */
  onNotification?: (notification: UpstreamNotification) => void;
  /** Called once when the transport closes, with the reason if known. */
  onClose?: (reason: string) => void;

  constructor(
    private readonly transport: Transport,
    private readonly describeExit: () => string | undefined = () => undefined,
    /** Every call on this session comes from one client (per-client mode): any call can take its callbacks. */
    private readonly singleClient = false,
  ) {
    transport.onmessage = (message) => this.receive(message as JsonRpcLike);
    transport.onclose = () => this.closed(this.describeExit() ?? 'connection closed');
    transport.onerror = () => undefined;
  }

  get inFlight(): number {
    let count = 0;
    for (const entry of this.pending.values()) if (!entry.background) count++;
    return count;
  }

  async start(timeoutMs: number): Promise<InitializeOutcome> {
    await this.transport.start();
    const reply = await this.request(
      'initialize',
      {
        protocolVersion: UPSTREAM_PROTOCOL_VERSION,
        // The mesh routes these to the client that caused them (and answers with an error when that client lacks them).
        capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
        clientInfo: MESH_CLIENT_INFO,
      },
      { deadline: Date.now() + timeoutMs },
    );
    if ('error' in reply) {
      throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', `upstream refused initialize: ${reply.error.message}`);
    }
    const outcome = reply.result as unknown as InitializeOutcome;
    if (typeof outcome.protocolVersion !== 'string' || typeof outcome.serverInfo !== 'object') {
      throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', 'upstream answered initialize without protocolVersion/serverInfo');
    }
    this.transport.setProtocolVersion?.(outcome.protocolVersion);
    await this.transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return outcome;
  }

  /**
   * Opens the session in the 2026-07-28 era: `server/discover` with the mesh's own envelope, no
   * `initialize`. Rejects when the upstream does not speak that revision (a legacy-only server
   * answers -32601 or refuses the request).
   */
  async discover(timeoutMs: number): Promise<DiscoverOutcome> {
    await this.transport.start();
    const reply = await this.request(
      'server/discover',
      {
        _meta: MESH_MODERN_META,
      },
      { deadline: Date.now() + timeoutMs },
    );
    if ('error' in reply) {
      throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', `upstream does not speak ${MODERN_UPSTREAM_REVISION}: ${reply.error.message}`);
    }
    const outcome = reply.result as unknown as DiscoverOutcome;
    if (!Array.isArray(outcome.supportedVersions) || !outcome.supportedVersions.includes(MODERN_UPSTREAM_REVISION)) {
      throw new MeshError('MESH_UPSTREAM_UNAVAILABLE', `upstream's server/discover does not list ${MODERN_UPSTREAM_REVISION}`);
    }
    this.transport.setProtocolVersion?.(MODERN_UPSTREAM_REVISION);
    return outcome;
  }

  /**
   * Opens a 2026-07-28 `subscriptions/listen` stream for the session's life: the upstream's list
   * changes then arrive as notifications (to `onNotification`). Resolves when the stream ends.
   */
  listen(notifications: Record<string, boolean>): Promise<UpstreamReply> {
    return this.request(
      'subscriptions/listen',
      {
        _meta: MESH_MODERN_META,
        notifications,
      },
      { deadline: Number.POSITIVE_INFINITY, background: true },
    );
  }

  /** Sends one request; resolves with the upstream's result or JSON-RPC error. */
  request(method: string, params: Record<string, unknown> | undefined, options: RequestOptions): Promise<UpstreamReply> {
    if (this.closedReason !== undefined) {
      return Promise.reject(new MeshError('MESH_UPSTREAM_UNAVAILABLE', `upstream is not running (${this.closedReason})`));
    }
    const id = this.nextId++;
    const meta = params?._meta as { progressToken?: string | number } | undefined;
    const progressToken = meta?.progressToken;
    // Many clients share one upstream session and may pick the same tokens: the upstream sees a
    // token of the bridge's own, mapped back on every progress notification.
    const upstreamToken = progressToken === undefined ? undefined : `mesh-${id}`;
    const sentParams = upstreamToken === undefined ? params : { ...params, _meta: { ...meta, progressToken: upstreamToken } };
    return new Promise<UpstreamReply>((resolve, reject) => {
      const remaining = options.deadline - Date.now();
      const timer = Number.isFinite(remaining)
        ? setTimeout(
            () => {
              this.cancel(id, 'deadline exceeded');
              reject(
                new MeshError('MESH_UPSTREAM_TIMEOUT', `upstream did not answer ${method} within the deadline; the call was cancelled`),
              );
            },
            Math.max(0, remaining),
          )
        : undefined;
      const onAbort = () => {
        this.cancel(id, 'cancelled by the client');
        reject(new MeshError('MESH_UPSTREAM_TIMEOUT', `${method} was cancelled`));
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        method,
        resolve,
        reject,
        progressToken,
        upstreamToken,
        onNotification: options.onNotification,
        onServerRequest: options.onServerRequest,
        background: options.background ?? false,
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        },
      });
      const message = { jsonrpc: '2.0', id, method, ...(sentParams === undefined ? {} : { params: sentParams }) } as JSONRPCMessage;
      this.transport.send(message).catch((error: Error) => {
        this.settle(id)?.reject(new MeshError('MESH_UPSTREAM_UNAVAILABLE', `could not send to upstream: ${error.message}`));
      });
    });
  }

  /** Gives up on a pending request and tells the upstream to stop working on it. */
  private cancel(id: number, reason: string): void {
    if (!this.settle(id)) return;
    this.transport.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }).catch(() => undefined);
  }

  private settle(id: string | number): Pending | undefined {
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    entry.cleanup();
    return entry;
  }

  private receive(message: JsonRpcLike): void {
    if (message.id !== undefined && message.method === undefined) {
      const entry = this.settle(message.id);
      if (!entry) return;
      entry.resolve(message.error ? { error: message.error } : { result: message.result ?? {} });
      return;
    }
    if (message.method === undefined) return;
    const notification: UpstreamNotification = { method: message.method, ...(message.params ? { params: message.params } : {}) };
    if (message.id !== undefined) {
      void this.serverRequest(message.id, notification);
      return;
    }
    if (message.method === 'notifications/progress') {
      const token = message.params?.progressToken;
      for (const entry of this.pending.values()) {
        if (entry.upstreamToken !== undefined && entry.upstreamToken === token) {
          entry.onNotification?.({ method: message.method, params: { ...message.params, progressToken: entry.progressToken } });
          return;
        }
      }
      return;
    }
    // A stdio server's log lines carry no request id: while exactly one call is in flight they
    // belong to it (per-client sessions make this exact); otherwise they go to the server's subject.
    const only = this.onlyPending();
    if (message.method === 'notifications/message' && only?.onNotification) {
      only.onNotification(notification);
      return;
    }
    this.onNotification?.(notification);
  }

  private onlyPending(): Pending | undefined {
    const calls = [...this.pending.values()].filter((entry) => entry.method !== 'initialize' && !entry.background);
    if (calls.length === 1 || (this.singleClient && calls.length > 1)) return calls.at(-1);
    return undefined;
  }

  /**
   * A server->client request (sampling, elicitation, roots/list) goes to the client whose call
   * caused it: the only call in flight. With several calls in flight on a shared session it
   * cannot be attributed, and is refused with a clear error rather than left hanging.
   */
  private async serverRequest(id: string | number, request: UpstreamNotification): Promise<void> {
    const only = this.onlyPending();
    let reply: UpstreamReply;
    if (!only?.onServerRequest) {
      reply = {
        error: {
          code: JsonRpcCode.MethodNotFound,
          message:
            this.inFlight > 1
              ? `mcp-mesh cannot tell which of ${this.inFlight} concurrent calls sent ${request.method} on a shared upstream session; use sessionMode "per-client" for this server`
              : `${request.method} arrived outside any call: mcp-mesh has no client to route it to`,
        },
      };
    } else {
      try {
        reply = await only.onServerRequest(request);
      } catch (error) {
        reply = {
          error: { code: JsonRpcCode.InternalError, message: `the client did not answer ${request.method}: ${(error as Error).message}` },
        };
      }
    }
    const response = 'error' in reply ? { jsonrpc: '2.0', id, error: reply.error } : { jsonrpc: '2.0', id, result: reply.result };
    await this.transport.send(response as JSONRPCMessage).catch(() => undefined);
  }

  private closed(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const id of [...this.pending.keys()]) {
      const entry = this.settle(id);
      entry?.reject(new MeshError('MESH_UPSTREAM_CRASHED', `upstream server ended during ${entry.method}: ${reason}`));
    }
    this.onClose?.(reason);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }
}
