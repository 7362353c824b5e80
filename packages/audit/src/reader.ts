import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { AuditEventSchema, Subjects, type AuditEvent } from '@mcp-mesh/protocol';
import { auditStreamName } from './stream.js';

export interface AuditFilter {
  server?: string;
  tool?: string;
  principal?: string;
  outcome?: AuditEvent['outcome'];
  kind?: AuditEvent['kind'];
  /** Inclusive bounds (Date or ISO string). */
  since?: Date;
  until?: Date;
}

export interface ReadAuditOptions {
  nc: NatsConnection;
  filter?: AuditFilter;
  stream?: string;
  prefix?: string;
  /** Keep reading new events until the signal aborts (tail -f). */
  follow?: boolean;
  signal?: AbortSignal;
  /** Stop after this many matching events. */
  limit?: number;
  /** Progress for long reads: stream messages read so far and the stream's message count at start. */
  onProgress?: (read: number, total: number) => void;
}

const TRANSIENT = /timeout|temporarily unavailable|no responders|leader/i;

/**
 * In a cluster that just lost a node JetStream elects new leaders for a few seconds, and API
 * calls time out or say "temporarily unavailable" meanwhile: try again before giving up.
 */
async function transient<T>(work: () => Promise<T>, attempts = 25, delayMs = 500): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || !TRANSIENT.test((error as Error).message)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

export function matches(event: AuditEvent, filter: AuditFilter = {}): boolean {
  if (filter.server !== undefined && event.server !== filter.server) return false;
  if (filter.tool !== undefined && event.target !== filter.tool) return false;
  if (filter.principal !== undefined && event.principal !== filter.principal) return false;
  if (filter.outcome !== undefined && event.outcome !== filter.outcome) return false;
  if (filter.kind !== undefined && event.kind !== filter.kind) return false;
  const time = Date.parse(event.time);
  if (filter.since && time < filter.since.getTime()) return false;
  if (filter.until && time > filter.until.getTime()) return false;
  return true;
}

/**
 * A bounded read: every stored message from the first one at or after `since` (found by binary
 * search on message times) up to the stream's last sequence at the start, fetched by sequence.
 * Deterministic: it cannot stop early the way a consumer's pending count can during a cluster
 * leader change.
 */
async function* readRange(
  jsm: Awaited<ReturnType<typeof jetstreamManager>>,
  stream: string,
  firstSeq: number,
  lastSeq: number,
  options: ReadAuditOptions,
  subjects: Subjects,
): AsyncGenerator<AuditEvent> {
  const filter = options.filter ?? {};
  const get = (seq: number) =>
    transient(() => jsm.streams.getMessage(stream, { seq })).catch((error: Error) => {
      // A sequence removed by retention (or deleted) is a gap, not an error.
      if (/no message found|not found/i.test(error.message)) return null;
      throw error;
    });
  let start = firstSeq;
  if (filter.since) {
    let low = firstSeq;
    let high = lastSeq;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      const message = await get(middle);
      if (message && message.time.getTime() < filter.since.getTime()) low = middle + 1;
      else high = middle;
    }
    start = low;
  }
  // The wildcard's `>` dropped: what every matching subject starts with.
  const prefix = (filter.server ? subjects.auditServer(filter.server) : subjects.auditAll()).slice(0, -1);
  let yielded = 0;
  for (let seq = start; seq <= lastSeq; seq++) {
    if ((seq - start) % 1_000 === 999) options.onProgress?.(seq - start + 1, lastSeq - start + 1);
    if (options.signal?.aborted) return;
    const message = await get(seq);
    if (!message || !message.subject.startsWith(prefix)) continue;
    const parsed = AuditEventSchema.safeParse(message.json());
    if (!parsed.success) continue;
    if (filter.until && Date.parse(parsed.data.time) > filter.until.getTime()) return;
    if (!matches(parsed.data, filter)) continue;
    yield parsed.data;
    if (options.limit !== undefined && ++yielded >= options.limit) return;
  }
}

/**
 * Reads audit events in stream order with an ordered consumer (no server-side state left behind),
 * filtered by subject where it can (server) and in process for the rest.
 */
export async function* readAudit(options: ReadAuditOptions): AsyncGenerator<AuditEvent> {
  const stream = options.stream ?? auditStreamName(options.prefix);
  const subjects = new Subjects(options.prefix);
  const filter = options.filter ?? {};
  const jsm = await transient(() => jetstreamManager(options.nc));
  const info = await transient(() => jsm.streams.info(stream));
  const total = info.state.messages;
  if (!options.follow) {
    if (total > 0) yield* readRange(jsm, stream, info.state.first_seq, info.state.last_seq, options, subjects);
    return;
  }
  // Following: every event from `since` on, then new ones until the signal aborts.
  // A short API timeout: right after a node dies an attempt may hang on the dead peer, the next succeeds.
  const js = jetstream(options.nc, { timeout: 2_000 });
  const consumerOptions = {
    filter_subjects: filter.server ? subjects.auditServer(filter.server) : subjects.auditAll(),
    ...(filter.since
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: filter.since.toISOString() }
      : { deliver_policy: DeliverPolicy.All }),
  };
  const consumer = await transient(() => js.consumers.get(stream, consumerOptions));
  const messages = await consumer.consume({ max_messages: 512 });
  const abort = () => messages.stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  let read = 0;
  let yielded = 0;
  try {
    for await (const msg of messages) {
      read++;
      if (read % 1_000 === 0) options.onProgress?.(read, total);
      const parsed = AuditEventSchema.safeParse(msg.json());
      if (parsed.success && matches(parsed.data, filter)) {
        yield parsed.data;
        yielded++;
        if (options.limit !== undefined && yielded >= options.limit) return;
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', abort);
    messages.stop();
  }
}
