import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { MESH_AUDIT_SERVER, Subjects, type AuditEvent, type AuditSink } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import { Outbox } from './outbox.js';
import { ensureAuditStream, type AuditStreamOptions } from './stream.js';

export interface AuditPublisherOptions {
  nc: NatsConnection;
  logger: Logger;
  /** Directory of the local outbox (one per process). */
  dir: string;
  stream?: AuditStreamOptions;
  /** Above this many bytes of unacknowledged events on disk, new events are dropped and counted. */
  maxDiskBytes?: number;
  segmentLines?: number;
  /** Events published at once while draining the outbox. */
  window?: number;
  publishTimeoutMs?: number;
}

export interface AuditStats {
  recorded: number;
  published: number;
  duplicates: number;
  dropped: number;
  pending: number;
  failures: number;
  lastError: string | undefined;
}

/**
 * Publishes audit events to JetStream with nothing lost: every event is first appended to an
 * fsync'd local outbox, then published in order with its id as `Nats-Msg-Id` and removed only once
 * JetStream acknowledges it. While NATS or JetStream is down, events wait on disk (bounded) and are
 * re-published with the same ids when it returns; the stream's duplicate window removes repeats.
 */
export class AuditPublisher implements AuditSink {
  readonly stats: AuditStats = { recorded: 0, published: 0, duplicates: 0, dropped: 0, pending: 0, failures: 0, lastError: undefined };
  private readonly outbox: Outbox;
  private readonly js: JetStreamClient;
  private readonly subjects: Subjects;
  private wake: (() => void) | undefined;
  private running = true;
  private pump: Promise<void> | undefined;
  private streamReady = false;

  private constructor(private readonly options: AuditPublisherOptions) {
    this.outbox = new Outbox({ dir: options.dir, ...(options.segmentLines ? { segmentLines: options.segmentLines } : {}) });
    this.outbox.onDurable = () => this.wake?.();
    this.js = jetstream(options.nc, { timeout: options.publishTimeoutMs ?? 3_000 });
    this.subjects = new Subjects(options.stream?.prefix);
  }

  static async open(options: AuditPublisherOptions): Promise<AuditPublisher> {
    const publisher = new AuditPublisher(options);
    await publisher.outbox.open();
    const replay = publisher.outbox.pendingLines;
    if (replay > 0) options.logger.warn({ events: replay }, 'audit outbox holds events from an earlier run: re-publishing them');
    publisher.pump = publisher.run();
    return publisher;
  }

  record(event: AuditEvent): void {
    if (!this.running) return;
    if (this.outbox.diskBytes > (this.options.maxDiskBytes ?? 512 * 1024 ** 2)) {
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 1_000 === 0) {
        this.options.logger.error(
          { dropped: this.stats.dropped },
          'audit outbox is full: NATS has been unreachable too long; events are being dropped',
        );
      }
      return;
    }
    this.stats.recorded++;
    this.outbox.append(JSON.stringify(event));
  }

  private subjectOf(event: AuditEvent): string {
    return this.subjects.audit(event.server ?? MESH_AUDIT_SERVER, event.method ?? event.kind.replace('.', '/'));
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (this.running || this.outbox.pendingLines > 0) {
      try {
        if (!this.streamReady) {
          const { differences } = await ensureAuditStream(this.options.nc, this.options.stream);
          if (differences.length > 0) {
            this.options.logger.warn(
              { differences },
              'the audit stream exists with other settings than configured: left as it is (change it with nats stream edit)',
            );
          }
          this.streamReady = true;
        }
        const published = await this.publishSome();
        if (published === 0) {
          if (!this.running) break;
          await new Promise<void>((resolve) => {
            this.wake = resolve;
            setTimeout(resolve, 1_000).unref();
          });
          this.wake = undefined;
        }
        backoff = 100;
      } catch (error) {
        this.stats.failures++;
        // The stream may have been deleted under us: make sure it exists before the next try.
        if (/no responders|not found|not enabled/i.test((error as Error).message)) this.streamReady = false;
        this.stats.lastError = (error as Error).message;
        if (this.stats.failures === 1 || this.stats.failures % 20 === 0) {
          this.options.logger.warn(
            { err: error, pending: this.outbox.pendingLines },
            'audit publish failed: events kept in the outbox, retrying',
          );
        }
        if (!this.running && this.options.nc.isClosed()) break;
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        backoff = Math.min(backoff * 2, 5_000);
      }
      this.stats.pending = this.outbox.pendingLines;
    }
  }

  /** Publishes the next window of durable events of the oldest segment; resolves with how many. */
  private async publishSome(): Promise<number> {
    const segment = this.outbox.segments.find((s) => s.acked < s.written || (s.closed && s.acked >= s.written));
    if (!segment) return 0;
    if (segment.acked >= segment.written) {
      await this.outbox.acknowledge(segment, 0);
      return 1;
    }
    const lines = await this.outbox.lines(segment);
    const batch = lines.slice(segment.acked, Math.min(segment.written, segment.acked + (this.options.window ?? 128)));
    const acks = await Promise.all(
      batch.map((line) => {
        const event = JSON.parse(line) as AuditEvent;
        return this.js.publish(this.subjectOf(event), line, { msgID: event.id });
      }),
    );
    for (const ack of acks) if (ack.duplicate) this.stats.duplicates++;
    this.stats.published += batch.length;
    await this.outbox.acknowledge(segment, batch.length);
    return batch.length;
  }

  /** Events recorded but not yet acknowledged by JetStream. */
  get pending(): number {
    return this.outbox.pendingLines;
  }

  /** Waits until every recorded event is acknowledged, or the timeout passes; resolves with what is left. */
  async drain(timeoutMs = 10_000): Promise<number> {
    await this.outbox.flush();
    const deadline = Date.now() + timeoutMs;
    while (this.outbox.pendingLines > 0 && Date.now() < deadline) {
      this.wake?.();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.outbox.pendingLines;
  }

  /** Flushes, publishes what it can within `timeoutMs`, and keeps the rest on disk for the next run. */
  async close(timeoutMs = 5_000): Promise<void> {
    const left = await this.drain(timeoutMs);
    this.running = false;
    this.wake?.();
    if (left > 0) this.options.logger.warn({ events: left }, 'audit events not yet acknowledged stay in the outbox for the next run');
    await Promise.race([this.pump, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    await this.outbox.close();
  }
}
