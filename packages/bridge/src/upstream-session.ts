import type { JSONRPCMessage, Transport } from '@modelcontextprotocol/client';
import { MeshError, type WireError } from '@mcp-mesh/protocol';

export const MESH_CLIENT_INFO = { name: 'mcp-mesh-bridge', version: '0.1.0' } as const;
/** The protocol version the bridge asks its upstream for (legacy era, what published servers speak). */
export const UPSTREAM_PROTOCOL_VERSION = '2025-11-25';

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
  /** Notifications that belong to this request (progress with its token). */
  onNotification?: (notification: UpstreamNotification) => void;
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
  ) {
    transport.onmessage = (message) => this.receive(message as JsonRpcLike);
    transport.onclose = () => this.closed(this.describeExit() ?? 'connection closed');
    transport.onerror = () => undefined;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  async start(timeoutMs: number): Promise<InitializeOutcome> {
    await this.transport.start();
    const reply = await this.request(
      'initialize',
      {
        protocolVersion: UPSTREAM_PROTOCOL_VERSION,
        capabilities: {},
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
      const timer = setTimeout(
        () => {
          this.cancel(id, 'deadline exceeded');
          reject(new MeshError('MESH_UPSTREAM_TIMEOUT', `upstream did not answer ${method} within the deadline; the call was cancelled`));
        },
        Math.max(0, remaining),
      );
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
    if (message.id !== undefined) {
      // A server->client request (sampling, elicitation, roots): answered plainly rather than left hanging.
      void this.transport
        .send({
          jsonrpc: '2.0',
          id: message.id,
          error: { code: -32601, message: `mcp-mesh does not route ${message.method} to clients yet` },
        })
        .catch(() => undefined);
      return;
    }
    const notification: UpstreamNotification = { method: message.method, ...(message.params ? { params: message.params } : {}) };
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
    this.onNotification?.(notification);
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
