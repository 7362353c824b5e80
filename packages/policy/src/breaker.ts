import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  IsolatedCircuitError,
  SamplingBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
  type IBreaker,
} from 'cockatiel';
import type { BreakerConfig } from './config.js';
import { denial } from './denial.js';
import { isServerFault } from './fault.js';

export const BreakerState = {
  Closed: 'closed',
  Open: 'open',
  HalfOpen: 'half-open',
} as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

/** Opens when any of its breakers would: consecutive failures and/or error rate. */
class AnyBreaker implements IBreaker {
  constructor(private readonly breakers: readonly IBreaker[]) {}

  get state(): unknown {
    return this.breakers.map((breaker) => breaker.state);
  }

  set state(value: unknown) {
    if (Array.isArray(value)) this.breakers.forEach((breaker, i) => (breaker.state = value[i]));
  }

  success(state: CircuitState): void {
    for (const breaker of this.breakers) breaker.success(state);
  }

  failure(state: CircuitState): boolean {
    // Every breaker sees every failure, so no count is skipped.
    return this.breakers.map((breaker) => breaker.failure(state)).some(Boolean);
  }
}

interface Entry {
  readonly policy: CircuitBreakerPolicy;
  readonly rule: string;
  readonly halfOpenAfterMs: number;
  openedAt: number;
}

export type BreakerListener = (server: string, state: BreakerState) => void;

export interface ServerBreakersOptions {
  config: BreakerConfig;
  /** Which thrown errors count as failures; defaults to isServerFault. */
  isFailure?: (error: unknown) => boolean;
}

function stateName(state: CircuitState): BreakerState {
  if (state === CircuitState.Closed) return BreakerState.Closed;
  if (state === CircuitState.HalfOpen) return BreakerState.HalfOpen;
  return BreakerState.Open;
}

/**
 * A circuit breaker per server (cockatiel). Closed: calls pass and failures are counted. Open:
 * calls fail fast with MESH_CIRCUIT_OPEN. After `halfOpenAfterMs` the next call is let through as
 * a probe (half-open; calls meanwhile wait for it): success closes the circuit, failure opens it
 * again. Time is `Date.now()` (cockatiel's clock), so tests fake Date.
 */
export class ServerBreakers {
  readonly #config: BreakerConfig;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<BreakerListener>();

  constructor(options: ServerBreakersOptions) {
    this.#config = options.config;
    this.#isFailure = options.isFailure ?? isServerFault;
  }

  #for(server: string): Entry {
    let entry = this.#entries.get(server);
    if (entry) return entry;
    const own = Object.hasOwn(this.#config.perServer, server) ? this.#config.perServer[server] : undefined;
    const settings = { ...this.#config, ...own };
    const breakers: IBreaker[] = [];
    if (settings.consecutiveFailures > 0) breakers.push(new ConsecutiveBreaker(settings.consecutiveFailures));
    if (settings.errorRateThreshold !== undefined) {
      breakers.push(
        new SamplingBreaker({
          threshold: settings.errorRateThreshold,
          duration: settings.errorRateWindowMs,
          minimumRps: settings.errorRateMinimumRps,
        }),
      );
    }
    const policy = circuitBreaker(handleWhen(this.#isFailure), {
      halfOpenAfter: settings.halfOpenAfterMs,
      breaker: breakers.length === 1 ? (breakers[0] as IBreaker) : new AnyBreaker(breakers),
    });
    const created: Entry = {
      policy,
      rule: own ? `breaker.perServer.${server}` : 'breaker',
      halfOpenAfterMs: settings.halfOpenAfterMs,
      openedAt: 0,
    };
    policy.onStateChange((state) => {
      if (state === CircuitState.Open) created.openedAt = Date.now();
      for (const listener of this.#listeners) listener(server, stateName(state));
    });
    this.#entries.set(server, created);
    return created;
  }

  /** Runs `fn` through the server's breaker; throws MESH_CIRCUIT_OPEN while it is open. */
  async run<T>(server: string, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const entry = this.#for(server);
    try {
      return await entry.policy.execute(({ signal: inner }) => fn(inner), signal);
    } catch (error) {
      if (!(error instanceof BrokenCircuitError || error instanceof IsolatedCircuitError)) throw error;
      const retryAfterMs = Math.max(0, entry.openedAt + entry.halfOpenAfterMs - Date.now());
      throw denial(
        'MESH_CIRCUIT_OPEN',
        `the circuit of server '${server}' is open after repeated failures; retry in ${retryAfterMs} ms`,
        entry.rule,
        {
          server,
          retryAfterMs,
        },
      );
    }
  }

  /** The server's circuit state, for metrics and /readyz. A server never called is closed. */
  state(server: string): BreakerState {
    const entry = this.#entries.get(server);
    return entry ? stateName(entry.policy.state) : BreakerState.Closed;
  }

  /** The state of every server called so far. */
  states(): Record<string, BreakerState> {
    return Object.fromEntries([...this.#entries].map(([server, entry]) => [server, stateName(entry.policy.state)]));
  }

  /** Called on every change of any server's state; returns the unsubscribe function. */
  onStateChange(listener: BreakerListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
