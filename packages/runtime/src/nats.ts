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
    return await connect({
      servers: options.url.split(',').map((s) => s.trim()),
      name: options.name,
      timeout: options.timeoutMs ?? 2_000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      pingInterval: 10_000,
    });
  } catch (cause) {
    throw new MeshError('MESH_NATS_UNREACHABLE', `no NATS server answered at ${options.url}: ${(cause as Error).message}`, {
      cause,
      details: { url: options.url },
    });
  }
}
