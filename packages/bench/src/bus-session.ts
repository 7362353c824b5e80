import { connect, createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { FrameKind, MeshHeader, Subjects } from '@mcp-mesh/protocol';

import type { McpCaller } from './caller.js';
import { CallFailed, checkReply } from './jsonrpc.js';

interface Pending {
  resolve: (body: { result?: Record<string, unknown>; error?: { code: number; message: string } }) => void;
  reject: (error: Error) => void;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A diagnostic client that skips the ingress: it speaks the mesh's internal protocol to the
 * bridges directly (`mcp.v1.srv.<server>.tools.call` with a deadline header, frames on one
 * wildcard reply inbox), so the cost of NATS + bridge + upstream can be told apart from the
 * cost of the HTTP side.
 */
export class BusMcpSession implements McpCaller {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private seq = 0;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly server: string,
    private readonly subjects: Subjects,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, { callback: (error, msg) => (error ? undefined : this.receive(msg)) });
  }

  static async open(natsUrl: string, server: string, prefix?: string): Promise<BusMcpSession> {
    const nc = await connect({ servers: natsUrl, name: 'mcp-mesh-bench-bus' });
    const session = new BusMcpSession(nc, server, new Subjects(prefix));
    await nc.flush();
    return session;
  }

  prepare(tool: string, args: Record<string, unknown>): () => Promise<void> {
    const subject = this.subjects.server(this.server, 'tools/call');
    const payload = encoder.encode(JSON.stringify({ method: 'tools/call', params: { name: tool, arguments: args } }));
    return async () => {
      const token = (++this.seq).toString(36);
      const h = natsHeaders();
      h.set(MeshHeader.Deadline, String(Date.now() + 30_000));
      const body = await new Promise<{ result?: Record<string, unknown>; error?: { code: number; message: string } }>((resolve, reject) => {
        this.pending.set(token, { resolve, reject });
        this.nc.publish(subject, payload, { reply: `${this.inbox}.${token}`, headers: h });
      });
      checkReply(body);
    };
  }

  private receive(msg: Msg): void {
    const token = msg.subject.slice(this.inbox.length + 1);
    const entry = this.pending.get(token);
    if (!entry) return;
    if (msg.headers?.hasError) {
      this.pending.delete(token);
      entry.reject(new CallFailed(`NATS status ${msg.headers.code} ${msg.headers.description}`));
      return;
    }
    const frame = msg.headers?.get(MeshHeader.Frame);
    if (frame === FrameKind.Notification) return;
    this.pending.delete(token);
    try {
      entry.resolve(JSON.parse(decoder.decode(msg.data)) as never);
    } catch (error) {
      entry.reject(error as Error);
    }
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    for (const entry of this.pending.values()) entry.reject(new CallFailed('session closed'));
    this.pending.clear();
    await this.nc.close();
  }
}
