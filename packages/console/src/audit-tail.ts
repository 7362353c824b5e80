import { setTimeout as sleep } from 'node:timers/promises';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readAudit } from '@mcp-mesh/audit';
import { Subjects, type AuditEvent } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import type { AuditStatus } from './api-types.js';

export interface AuditTailOptions {
  nc: NatsConnection;
  logger: Logger;
  prefix?: string;
  stream?: string;
  /** Events kept for a page that connects (default 200). */
  backlog?: number;
  /** How far back the tail starts reading when it starts, milliseconds (default 10 minutes). */
  lookbackMs?: number;
  /** Wait before reading again after the stream was unavailable, milliseconds (default 5 s). */
  retryMs?: number;
}

export interface AuditTailListener {
  event(event: AuditEvent): void;
  status(status: AuditStatus): void;
}

/**
 * One follower of the audit stream for every open page: it reads MCP_AUDIT (the stream that
 * stores the mesh's audit subjects, whatever its name) with an ordered
 * consumer (no server-side state) while at least one page listens, keeps the last events for pages
 * that connect later, and reads again (skipping what it already has) after the stream was
 * unavailable: audit disabled, JetStream down, a leader election.
 */
export class AuditTail {
  private readonly listeners = new Set<AuditTailListener>();
  private readonly recent: AuditEvent[] = [];
  private readonly seen = new Set<string>();
  private state: AuditStatus = { state: 'unavailable', message: 'not started' };
  private running: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: AuditTailOptions) {}

  /** Sends the kept events newer than `after` (an event id) and the status, then every new one; returns the unsubscribe. */
  subscribe(listener: AuditTailListener, after?: string): () => void {
    for (const event of this.recent) if (after === undefined || event.id > after) listener.event(event);
    listener.status(this.state);
    this.listeners.add(listener);
    if (!this.running && !this.closed) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  private start(): void {
    const controller = new AbortController();
    this.running = controller;
    this.loop = this.follow(controller.signal).finally(() => {
      if (this.running === controller) this.running = undefined;
    });
  }

  private stop(): void {
    this.running?.abort();
    this.running = undefined;
  }

  private async follow(signal: AbortSignal): Promise<void> {
    const backlog = this.options.backlog ?? 200;
    while (!signal.aborted) {
      // Again after a failure: from the newest kept event, so nothing is skipped or sent twice.
      const newest = this.recent.at(-1);
      const since = newest ? new Date(newest.time) : new Date(Date.now() - (this.options.lookbackMs ?? 10 * 60_000));
      try {
        // readAudit says nothing until the first event: find the stream first, so the status is true.
        const stream = this.options.stream ?? (await this.findStream());
        const events = readAudit({
          nc: this.options.nc,
          follow: true,
          signal,
          filter: { since },
          stream,
          ...(this.options.prefix ? { prefix: this.options.prefix } : {}),
        });
        this.setStatus({ state: 'live' });
        for await (const event of events) {
          if (this.seen.has(event.id)) continue;
          this.seen.add(event.id);
          this.recent.push(event);
          if (this.recent.length > backlog) this.seen.delete(this.recent.shift()!.id);
          for (const listener of this.listeners) listener.event(event);
        }
      } catch (error) {
        if (signal.aborted) break;
        const message = (error as Error).message;
        // Said once per cause, not at every retry.
        if (this.state.message !== message) this.options.logger.warn({ err: error }, 'the console cannot read the audit stream');
        this.setStatus({ state: 'unavailable', message });
      }
      await sleep(this.options.retryMs ?? 5_000, undefined, { signal }).catch(() => undefined);
    }
  }

  /** The stream that stores the mesh's audit events, whatever its name. */
  private async findStream(): Promise<string> {
    const subject = new Subjects(this.options.prefix).auditAll();
    const jsm = await jetstreamManager(this.options.nc);
    try {
      return await jsm.streams.find(subject);
    } catch (error) {
      throw new Error(`no JetStream stream stores ${subject}: is audit enabled on this mesh? (${(error as Error).message})`, {
        cause: error,
      });
    }
  }

  private setStatus(status: AuditStatus): void {
    this.state = status;
    for (const listener of this.listeners) listener.status(status);
  }

  /** Stops following; listeners are dropped. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stop();
    await this.loop;
  }
}
