import { connect, type NatsConnection } from '@nats-io/transport-node';
import { MeshError } from '@mcp-mesh/protocol';

export interface ConnectNatsOptions {
  url: string;
  /** Connection name shown in NATS monitoring. */
  name: string;
  /** Give up the first connect after this long, milliseconds. */
  timeoutMs?: number;
}

/**
 * Connects to NATS, reconnecting forever once connected. The first connect fails fast with
 * MESH_NATS_UNREACHABLE naming the URL, so a missing server is reported, not waited on.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  try {
    const nc = await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      timeout: options.timeoutMs ?? 2_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
    });
    // The publishes of one event-loop turn share one socket write.
    batchWrites(nc);
    return nc;
  } catch (cause) {
    throw new MeshError('MESH_NATS_UNREACHABLE', `no NATS server answered at ${options.url}: ${(cause as Error).message}`, {
      cause,
      details: { url: options.url },
    });
  }
}

interface ProtocolInternals {
  flushPending?: () => void;
  close?: (err?: Error) => Promise<void>;
}

/**
 * nats.js writes what was published in one microtask burst, so a process that publishes once per
 * incoming HTTP request or stdio line makes one socket write (and wakes nats-server once) per
 * message. This defers that write to the end of the event-loop turn (`setImmediate`), so every
 * publish made while handling one batch of I/O goes out in one write: measured on the ingress
 * and bridge at c=16 (docs/performance.md), write syscalls were the largest share of their CPU.
 * Ordering is unchanged (one outbound buffer); `close` writes what is pending first. Relies on
 * nats.js internals (`protocol.flushPending`), pinned by the lockfile; when they are not there
 * the connection is left as it is (returns false).
 */
export function batchWrites(nc: NatsConnection): boolean {
  const protocol = (nc as unknown as { protocol?: ProtocolInternals }).protocol;
  const flushPending = protocol?.flushPending;
  const close = protocol?.close;
  if (!protocol || typeof flushPending !== 'function' || typeof close !== 'function') return false;
  const flush = flushPending.bind(protocol);
  let scheduled = false;
  protocol.flushPending = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
    });
  };
  const closeNow = close.bind(protocol);
  protocol.close = (err?: Error) => {
    flush();
    return closeNow(err);
  };
  return true;
}
