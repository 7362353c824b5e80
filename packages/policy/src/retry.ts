import { ExponentialBackoff, decorrelatedJitterGenerator, noJitterGenerator, type IBackoff } from 'cockatiel';
import { ReadOnlyMethods } from '@mcp-mesh/protocol';
import { systemClock, type Clock } from './clock.js';
import type { RetryConfig } from './config.js';
import { isTransient } from './fault.js';
import { compileGlob, matchesAny, type Glob } from './glob.js';

/** Methods that change nothing upstream, so a second attempt is harmless. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(ReadOnlyMethods);

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

const defaultSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** One call as the retry policy sees it. */
export interface RetryCall {
  readonly method: string;
  readonly server: string;
  /** The tool name (as the server knows it) of a tools/call. */
  readonly tool?: string;
  /** Epoch ms after which no attempt starts. */
  readonly deadline?: number;
  readonly signal?: AbortSignal;
}

export interface RetryPolicyOptions {
  config: RetryConfig;
  now?: Clock;
  sleep?: Sleep;
  /** Randomise delays (decorrelated jitter); off gives initialDelayMs × 2^n capped at maxDelayMs. */
  jitter?: boolean;
}

/**
 * Retries with exponential backoff, only where a second attempt cannot do harm: the safe methods,
 * and tools/call of tools marked idempotent in `retry.idempotentTools`. Only transient failures
 * are retried, and never past the call's deadline.
 */
export class RetryPolicy {
  readonly #config: RetryConfig;
  readonly #idempotent = new Map<string, readonly Glob[]>();
  readonly #now: Clock;
  readonly #sleep: Sleep;
  readonly #backoff: ExponentialBackoff<unknown>;

  constructor(options: RetryPolicyOptions) {
    this.#config = options.config;
    this.#now = options.now ?? systemClock;
    this.#sleep = options.sleep ?? defaultSleep;
    for (const [server, globs] of Object.entries(options.config.idempotentTools)) this.#idempotent.set(server, globs.map(compileGlob));
    this.#backoff = new ExponentialBackoff<unknown>({
      initialDelay: options.config.initialDelayMs,
      maxDelay: options.config.maxDelayMs,
      generator: ((options.jitter ?? true) ? decorrelatedJitterGenerator : noJitterGenerator) as never,
    });
  }

  /** Whether this method (and tool) may be attempted more than once. */
  isRetryable(call: Pick<RetryCall, 'method' | 'server' | 'tool'>): boolean {
    if (SAFE_METHODS.has(call.method)) return true;
    if (call.method !== 'tools/call' || call.tool === undefined) return false;
    const globs = this.#idempotent.get(call.server);
    return globs !== undefined && matchesAny(globs, call.tool) !== undefined;
  }

  /** Runs `attempt` (given its 1-based number) until it succeeds or may not be retried. */
  async run<T>(call: RetryCall, attempt: (n: number) => Promise<T>): Promise<T> {
    const max = this.isRetryable(call) ? this.#config.maxAttempts : 1;
    let backoff: IBackoff<unknown> | undefined;
    for (let n = 1; ; n++) {
      try {
        return await attempt(n);
      } catch (error) {
        if (n >= max || !isTransient(error) || call.signal?.aborted) throw error;
        backoff = backoff ? backoff.next(undefined) : this.#backoff.next();
        const delay = backoff.duration;
        if (call.deadline !== undefined && this.#now() + delay >= call.deadline) throw error;
        await this.#sleep(delay, call.signal);
      }
    }
  }
}
