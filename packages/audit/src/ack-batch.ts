import { createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** A message to store in JetStream exactly once: `id` becomes its `Nats-Msg-Id`. */
export interface StoredMessage {
  readonly subject: string;
  readonly id: string;
  readonly line: string;
}

/** nats-server writes `"duplicate": true` (with a space) into the ack of a message it already stored. */
const DUPLICATE = /"duplicate":\s*true/;

interface Waiting {
  batch: string;
  seen: Uint8Array;
  received: number;
  duplicates: number;
  resolve: (duplicates: number) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Publishes a batch of messages to JetStream, all in flight at once and in order, and resolves
 * once every one is acknowledged. Unlike `js.publish()` per message (a request with its own
 * promise, timer and captured stack each), all acknowledgements arrive on one wildcard reply
 * subscription, the batch has one timer, and a plain ack is recognised without a JSON parse.
 * One batch at a time; a failed or timed-out batch rejects and is published again as a whole
 * (the stream's duplicate window drops what was already stored).
 */
export class AckBatch {
  private readonly inbox = createInbox();
  private readonly sub: Subscription;
  private waiting: Waiting | undefined;
  private batches = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly timeoutMs: number,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*.*`, { callback: (error, msg) => this.onAck(error, msg) });
  }

  /** Publishes every message; resolves with how many JetStream reported as duplicates. */
  publish(messages: readonly StoredMessage[]): Promise<number> {
    if (this.waiting) return Promise.reject(new Error('an audit batch is already in flight'));
    if (messages.length === 0) return Promise.resolve(0);
    const batch = String(++this.batches);
    const reply = `${this.inbox}.${batch}.`;
    return new Promise<number>((resolve, reject) => {
      this.waiting = {
        batch,
        seen: new Uint8Array(messages.length),
        received: 0,
        duplicates: 0,
        resolve,
        reject,
        timer: setTimeout(
          () =>
            this.fail(
              new Error(
                `JetStream did not acknowledge ${this.waiting?.received ?? 0}/${messages.length} audit events within ${this.timeoutMs} ms`,
              ),
            ),
          this.timeoutMs,
        ),
      };
      try {
        for (let i = 0; i < messages.length; i++) {
          const message = messages[i]!;
          const h = headers();
          h.set('Nats-Msg-Id', message.id);
          this.nc.publish(message.subject, message.line, { headers: h, reply: `${reply}${i}` });
        }
      } catch (error) {
        this.fail(error as Error);
      }
    });
  }

  private onAck(error: Error | null, msg: Msg): void {
    const waiting = this.waiting;
    if (!waiting) return;
    if (error) return this.fail(error);
    // <inbox>.<batch>.<index>: acks of an abandoned batch are ignored.
    const rest = msg.subject.slice(this.inbox.length + 1);
    const dot = rest.indexOf('.');
    if (rest.slice(0, dot) !== waiting.batch) return;
    const index = Number(rest.slice(dot + 1));
    if (!(index < waiting.seen.length) || waiting.seen[index] === 1) return;
    if (msg.data.length === 0) {
      const code = msg.headers?.code ?? 0;
      return this.fail(
        new Error(code === 503 ? 'no responders: the audit stream or JetStream is not available' : `JetStream answered status ${code}`),
      );
    }
    const text = msg.string();
    if (text.includes('"error"')) {
      const answer = JSON.parse(text) as { error?: { code?: number; err_code?: number; description?: string } };
      return this.fail(
        new Error(
          `JetStream refused an audit event: ${answer.error?.description ?? text} (${answer.error?.err_code ?? answer.error?.code})`,
        ),
      );
    }
    waiting.seen[index] = 1;
    waiting.received++;
    if (DUPLICATE.test(text)) waiting.duplicates++;
    if (waiting.received === waiting.seen.length) {
      clearTimeout(waiting.timer);
      this.waiting = undefined;
      waiting.resolve(waiting.duplicates);
    }
  }

  private fail(error: Error): void {
    const waiting = this.waiting;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.waiting = undefined;
    waiting.reject(error);
  }

  close(): void {
    this.fail(new Error('the audit publisher is closed'));
    this.sub.unsubscribe();
  }
}
