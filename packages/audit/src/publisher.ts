import type { NatsConnection } from '@nats-io/transport-node';
import { MESH_AUDIT_SERVER, Subjects, type AuditEvent, type AuditSink } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import { AckBatch, type StoredMessage } from './ack-batch.js';
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
  /** Group commit: events wait at most this long for their write and fdatasync, milliseconds (default 5). */
  flushMs?: number;
  /** Events in flight to JetStream at once (default 256). */
  window?: number;
  publishTimeoutMs?: number;
}

/** An outbox line with its id and subject, kept so publishing never parses the line again. */
type AuditEntry = StoredMessage;

/** Subjects cached per server and method (bounded: methods come from clients). */
const SUBJECT_CACHE_LIMIT = 1_024;

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
 *
 * `record()` is synchronous and cheap (one `JSON.stringify`): the outbox group-commits lines (one
 * write + fdatasync per batch, within `flushMs`), and the publisher sends each durable batch with
 * up to `window` events in flight (docs/decisions/0010-audit-group-commit-and-ack-batches.md).
 */
export class AuditPublisher implements AuditSink {
  readonly stats: AuditStats = { recorded: 0, published: 0, duplicates: 0, dropped: 0, pending: 0, failures: 0, lastError: undefined };
  private readonly outbox: Outbox<AuditEntry>;
  private readonly acks: AckBatch;
  private readonly subjects: Subjects;
  private readonly subjectCache = new Map<string, Map<string, string>>();
  private subjectCacheSize = 0;
  private corrupt = 0;
  private wake: (() => void) | undefined;
  private running = true;
  private closed = false;
  private pump: Promise<void> | undefined;
  private streamReady = false;

  private constructor(private readonly options: AuditPublisherOptions) {
    this.subjects = new Subjects(options.stream?.prefix);
    this.outbox = new Outbox<AuditEntry>({
      dir: options.dir,
      ...(options.segmentLines ? { segmentLines: options.segmentLines } : {}),
      ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
      decode: (line) => this.decode(line),
    });
    this.outbox.onDurable = () => this.wake?.();
    this.outbox.onError = (error) => {
      this.stats.failures++;
      this.stats.lastError = error.message;
      if (this.stats.failures === 1 || this.stats.failures % 100 === 0) {
        this.options.logger.error({ err: error, dir: options.dir }, 'audit outbox write failed: events stay in memory and are retried');
      }
    };
    this.acks = new AckBatch(options.nc, options.publishTimeoutMs ?? 3_000);
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
    this.outbox.append({ line: JSON.stringify(event), id: event.id, subject: this.subjectOf(event) });
  }

  private subjectOf(event: AuditEvent): string {
    const server = event.server ?? MESH_AUDIT_SERVER;
    const method = event.method ?? event.kind.replace('.', '/');
    let methods = this.subjectCache.get(server);
    let subject = methods?.get(method);
    if (subject === undefined) {
      subject = this.subjects.audit(server, method);
      if (this.subjectCacheSize < SUBJECT_CACHE_LIMIT) {
        if (!methods) this.subjectCache.set(server, (methods = new Map()));
        methods.set(method, subject);
        this.subjectCacheSize++;
      }
    }
    return subject;
  }

  /** An entry for a line read back from disk; a line that is not an event is kept out of the stream. */
  private decode(line: string): AuditEntry {
    try {
      const event = JSON.parse(line) as AuditEvent;
      if (typeof event.id === 'string' && typeof event.kind === 'string') return { line, id: event.id, subject: this.subjectOf(event) };
    } catch {
      // reported below
    }
    return { line, id: '', subject: '' };
  }

  private async run(): Promise<void> {
    let backoff = 100;
    while (!this.closed && (this.running || this.outbox.pendingLines > 0)) {
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
        if (this.closed || (!this.running && this.options.nc.isClosed())) break;
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
    const batch = await this.outbox.entries(segment, segment.acked, segment.acked + (this.options.window ?? 256));
    let valid = batch;
    if (batch.some((entry) => entry.id === '')) {
      valid = batch.filter((entry) => entry.id !== '');
      this.corrupt += batch.length - valid.length;
      this.options.logger.error({ lines: this.corrupt, segment: segment.path }, 'audit outbox lines that are not events were skipped');
    }
    this.stats.duplicates += await this.acks.publish(valid);
    this.stats.published += valid.length;
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
    this.closed = true;
    this.acks.close();
    await this.outbox.close();
  }
}
