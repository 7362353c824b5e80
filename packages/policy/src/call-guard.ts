import type { BreakerState, ServerBreakers } from './breaker.js';
import type { BulkheadStats, ServerBulkheads } from './bulkhead.js';
import type { RetryCall, RetryPolicy } from './retry.js';

export interface CallGuardOptions {
  retry?: RetryPolicy | undefined;
  breakers?: ServerBreakers | undefined;
  bulkheads?: ServerBulkheads | undefined;
}

/**
 * The per-server protections around one forwarded call, in this order:
 * retry( breaker( bulkhead( call ) ) ). Every attempt passes the breaker (an open circuit fails
 * fast and is not retried) and holds a bulkhead slot only while it is in flight (not while
 * backing off). Each part is optional: without any, `run` just calls `fn`.
 */
export class CallGuard {
  readonly #retry: RetryPolicy | undefined;
  readonly #breakers: ServerBreakers | undefined;
  readonly #bulkheads: ServerBulkheads | undefined;

  constructor(options: CallGuardOptions = {}) {
    this.#retry = options.retry;
    this.#breakers = options.breakers;
    this.#bulkheads = options.bulkheads;
  }

  /** `fn` does the NATS request; it should throw MeshErrors for mesh failures and return upstream answers. */
  run<T>(call: RetryCall, fn: (attempt: number) => Promise<T>): Promise<T> {
    const once = (n: number): Promise<T> => {
      const limited = () => (this.#bulkheads ? this.#bulkheads.run(call.server, () => fn(n), call.signal) : fn(n));
      return this.#breakers ? this.#breakers.run(call.server, limited, call.signal) : limited();
    };
    return this.#retry ? this.#retry.run(call, once) : once(1);
  }

  /** The breaker state of a server (closed when no breaker is configured). */
  breakerState(server: string): BreakerState {
    return this.#breakers?.state(server) ?? 'closed';
  }

  /** In-flight and queued calls of a server, when it has a concurrency limit. */
  concurrency(server: string): BulkheadStats | undefined {
    return this.#bulkheads?.stats(server);
  }
}
