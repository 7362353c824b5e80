import type { ConcurrencyConfig, ConcurrencyLimit } from './config.js';
import { denial } from './denial.js';

/** Thrown by Bulkhead.run when every slot is busy and the queue is full. */
export class BulkheadFullError extends Error {
  override readonly name = 'BulkheadFullError';
  constructor(readonly limit: ConcurrencyLimit) {
    super(`all ${limit.maxConcurrent} slots are busy and ${limit.maxQueue} calls already wait`);
  }
}

interface Waiter {
  grant(): void;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted.', 'AbortError');
}

/**
 * At most `maxConcurrent` calls at once; up to `maxQueue` more wait in arrival order. A finished
 * call hands its slot straight to the next waiter (no overtaking). A waiter whose signal aborts
 * leaves the queue at once and frees its place.
 *
 * (cockatiel's bulkhead was measured and not used: in 3.2.1 a queued call whose signal aborted
 * left the next waiter stuck although a slot was free; see docs/decisions/0006.)
 */
export class Bulkhead {
  readonly limit: ConcurrencyLimit;
  #active = 0;
  readonly #queue: Waiter[] = [];

  constructor(limit: ConcurrencyLimit) {
    this.limit = limit;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#queue.length;
  }

  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw abortReason(signal);
    if (this.#active < this.limit.maxConcurrent) {
      this.#active++;
    } else if (this.#queue.length < this.limit.maxQueue) {
      await this.#wait(signal);
    } else {
      throw new BulkheadFullError(this.limit);
    }
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  #wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.#queue.indexOf(waiter);
        if (at !== -1) this.#queue.splice(at, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.#queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next.grant();
    else this.#active--;
  }
}

export interface BulkheadStats {
  readonly active: number;
  readonly queued: number;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
}

/** One bulkhead per server (`concurrency.perServer`, else `concurrency.default`, else none). */
export class ServerBulkheads {
  readonly #config: ConcurrencyConfig;
  readonly #bulkheads = new Map<string, { bulkhead: Bulkhead; rule: string }>();

  constructor(options: { config: ConcurrencyConfig }) {
    this.#config = options.config;
  }

  #for(server: string): { bulkhead: Bulkhead; rule: string } | undefined {
    let entry = this.#bulkheads.get(server);
    if (!entry) {
      const own = Object.hasOwn(this.#config.perServer, server) ? this.#config.perServer[server] : undefined;
      const limit = own ?? this.#config.default;
      if (!limit) return undefined;
      entry = { bulkhead: new Bulkhead(limit), rule: own ? `concurrency.perServer.${server}` : 'concurrency.default' };
      this.#bulkheads.set(server, entry);
    }
    return entry;
  }

  /** Runs `fn` within the server's bulkhead; throws MESH_OVERLOADED when its queue is full. */
  async run<T>(server: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const entry = this.#for(server);
    if (!entry) return fn();
    try {
      return await entry.bulkhead.run(fn, signal);
    } catch (error) {
      if (!(error instanceof BulkheadFullError)) throw error;
      throw denial('MESH_OVERLOADED', `server '${server}' is at its limit: ${error.message}`, entry.rule, {
        server,
        maxConcurrent: error.limit.maxConcurrent,
        maxQueue: error.limit.maxQueue,
      });
    }
  }

  /** In-flight and waiting calls per server, for metrics. */
  stats(server: string): BulkheadStats | undefined {
    const entry = this.#for(server);
    if (!entry) return undefined;
    const { bulkhead } = entry;
    return { active: bulkhead.active, queued: bulkhead.queued, ...bulkhead.limit };
  }
}
