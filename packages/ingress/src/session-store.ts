import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { perPrefixName } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';

export const SESSION_BUCKET = 'mcp_sessions';

/** What another ingress replica needs to continue a session: the client's initialize, replayed. */
export const SessionRecordSchema = z.object({
  v: z.literal(1),
  endpoint: z.string(),
  /** The principal that started the session: only it may continue it. */
  principal: z.string(),
  initialize: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/**
 * Session state shared by every ingress replica, in a NATS KV bucket whose TTL is the idle
 * timeout (a session in use is touched, so it stays). Any replica can continue any session: no
 * sticky load balancer, no Redis. When JetStream is not available the store says so once and
 * sessions stay local to the replica that started them.
 */
export class SessionStore {
  private kv: KV | undefined;
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: { ttlMs: number; logger: Logger; prefix?: string },
  ) {}

  async open(): Promise<void> {
    try {
      this.kv = await new Kvm(this.nc).create(perPrefixName(SESSION_BUCKET, this.options.prefix), { ttl: this.options.ttlMs, history: 1 });
    } catch (error) {
      this.options.logger.warn(
        { err: error },
        'no shared session store (JetStream KV unavailable): sessions stay on the ingress that started them',
      );
    }
  }

  async put(id: string, record: SessionRecord): Promise<void> {
    if (!this.kv) return;
    try {
      await this.kv.put(id, JSON.stringify(record));
      this.touched.set(id, Date.now());
    } catch (error) {
      this.options.logger.warn({ err: error, session: id }, 'could not store session state');
    }
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (!this.kv || !/^[A-Za-z0-9_=-]{1,128}$/.test(id)) return undefined;
    try {
      const entry = await this.kv.get(id);
      if (!entry || entry.operation !== 'PUT') return undefined;
      const parsed = SessionRecordSchema.safeParse(entry.json());
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Rewrites the entry at most once a minute, which keeps a used session alive past the TTL. */
  touch(id: string, record: SessionRecord): void {
    const last = this.touched.get(id) ?? 0;
    if (Date.now() - last < Math.min(60_000, this.options.ttlMs / 4)) return;
    this.touched.set(id, Date.now());
    void this.put(id, record);
  }

  /** Stops tracking a session this replica no longer serves (its entry stays for another replica until its TTL). */
  forget(id: string): void {
    this.touched.delete(id);
  }

  async delete(id: string): Promise<void> {
    this.forget(id);
    if (!this.kv) return;
    await this.kv.delete(id).catch(() => undefined);
  }
}
