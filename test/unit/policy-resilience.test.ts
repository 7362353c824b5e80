import { afterEach, describe, expect, it, vi } from 'vitest';
import { MeshError } from '@mcp-mesh/protocol';
import {
  Bulkhead,
  CallGuard,
  RetryPolicy,
  ServerBreakers,
  ServerBulkheads,
  isServerFault,
  isTransient,
  meshCodeOfError,
  parsePolicyConfig,
  type BreakerState,
  type PolicyConfigInput,
} from '@mcp-mesh/policy';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function section<K extends keyof PolicyConfigInput>(key: K, value: PolicyConfigInput[K]) {
  const parsed = parsePolicyConfig({ [key]: value })[key];
  if (parsed === undefined) throw new Error(`no ${String(key)}`);
  return parsed as NonNullable<ReturnType<typeof parsePolicyConfig>[K]>;
}

async function settle(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
}

const crashed = () => new MeshError('MESH_UPSTREAM_CRASHED', 'upstream exited');
const badParams = () => new MeshError('MESH_INVALID_PARAMS', 'bad params');

describe('bulkhead', () => {
  it('runs maxConcurrent at once, queues maxQueue, refuses the rest with MESH_OVERLOADED naming the limit', async () => {
    const bulkheads = new ServerBulkheads({ config: section('concurrency', { perServer: { github: { maxConcurrent: 2, maxQueue: 1 } } }) });
    const gates = [deferred(), deferred(), deferred()];
    const started: number[] = [];
    const runs = gates.map((gate, i) =>
      bulkheads.run('github', async () => {
        started.push(i);
        await gate.promise;
        return i;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(bulkheads.stats('github')).toEqual({ active: 2, queued: 1, maxConcurrent: 2, maxQueue: 1 });
    const refused = await settle(bulkheads.run('github', async () => 'never'));
    expect(refused).toMatchObject({
      error: { code: 'MESH_OVERLOADED', details: { rule: 'concurrency.perServer.github', maxConcurrent: 2, maxQueue: 1 } },
    });
    expect((refused as { error: MeshError }).error.httpStatus).toBe(503);
    gates[0]?.resolve();
    await runs[0];
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    gates[1]?.resolve();
    gates[2]?.resolve();
    expect(await Promise.all(runs)).toEqual([0, 1, 2]);
    expect(bulkheads.stats('github')).toMatchObject({ active: 0, queued: 0 });
  });

  it('drops a queued call whose signal aborts, and the next waiter still gets the free slot', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const gate = deferred();
    const first = bulkhead.run(() => gate.promise);
    const controller = new AbortController();
    const cancelled = settle(bulkhead.run(async () => 'cancelled ran', controller.signal));
    const next = bulkhead.run(async () => 'next ran');
    controller.abort(new Error('client went away'));
    expect(await cancelled).toMatchObject({ error: { message: 'client went away' } });
    expect(bulkhead.queued).toBe(1);
    gate.resolve();
    await first;
    // cockatiel 3.2.1 left this call queued with the slot free; ours must run it.
    expect(await next).toBe('next ran');
    expect(bulkhead.active).toBe(0);
  });

  it('uses the default limit for servers without their own, and none without a default', async () => {
    const limited = new ServerBulkheads({ config: section('concurrency', { default: { maxConcurrent: 1, maxQueue: 0 } }) });
    const gate = deferred();
    const busy = limited.run('any', () => gate.promise);
    expect(await settle(limited.run('any', async () => 1))).toMatchObject({ error: { details: { rule: 'concurrency.default' } } });
    gate.resolve();
    await busy;
    const open = new ServerBulkheads({ config: section('concurrency', {}) });
    expect(open.stats('any')).toBeUndefined();
    expect(await open.run('any', async () => 'direct')).toBe('direct');
  });
});

describe('circuit breaker', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('opens after consecutive failures, fails fast, probes after halfOpenAfterMs and recovers', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const breakers = new ServerBreakers({ config: section('breaker', { consecutiveFailures: 3, halfOpenAfterMs: 5000 }) });
    const changes: [string, BreakerState][] = [];
    breakers.onStateChange((server, state) => changes.push([server, state]));
    for (let i = 0; i < 3; i++) await settle(breakers.run('github', async () => Promise.reject(crashed())));
    expect(breakers.state('github')).toBe('open');
    expect(breakers.states()).toEqual({ github: 'open' });

    let called = 0;
    const fast = await settle(breakers.run('github', async () => ++called));
    expect(called).toBe(0);
    expect(fast).toMatchObject({
      error: { code: 'MESH_CIRCUIT_OPEN', details: { rule: 'breaker', server: 'github', retryAfterMs: 5000 } },
    });
    vi.setSystemTime(1_003_000);
    expect(await settle(breakers.run('github', async () => ++called))).toMatchObject({ error: { details: { retryAfterMs: 2000 } } });
    expect(breakers.state('other')).toBe('closed');

    vi.setSystemTime(1_005_000);
    expect(await breakers.run('github', async () => ++called)).toBe(1); // the probe
    expect(breakers.state('github')).toBe('closed');
    expect(changes).toEqual([
      ['github', 'open'],
      ['github', 'half-open'],
      ['github', 'closed'],
    ]);
  });

  it('opens again when the half-open probe fails', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const breakers = new ServerBreakers({ config: section('breaker', { consecutiveFailures: 1, halfOpenAfterMs: 1000 }) });
    await settle(breakers.run('s', async () => Promise.reject(crashed())));
    vi.setSystemTime(1000);
    expect(await settle(breakers.run('s', async () => Promise.reject(crashed())))).toMatchObject({
      error: { code: 'MESH_UPSTREAM_CRASHED' },
    });
    expect(breakers.state('s')).toBe('open');
    expect(await settle(breakers.run('s', async () => 'x'))).toMatchObject({ error: { code: 'MESH_CIRCUIT_OPEN' } });
  });

  it('does not count client faults, policy refusals or aborts', async () => {
    const breakers = new ServerBreakers({ config: section('breaker', { consecutiveFailures: 2 }) });
    for (let i = 0; i < 5; i++) {
      await settle(breakers.run('s', async () => Promise.reject(badParams())));
      await settle(breakers.run('s', async () => Promise.reject(new MeshError('MESH_RATE_LIMITED', 'slow down'))));
      await settle(breakers.run('s', async () => Promise.reject(new DOMException('aborted', 'AbortError'))));
    }
    expect(breakers.state('s')).toBe('closed');
    expect(isServerFault(new MeshError('MESH_UPSTREAM_TIMEOUT', 't'))).toBe(true);
    expect(isServerFault(new Error('socket hang up'))).toBe(true);
    expect(isServerFault(new MeshError('MESH_BRIDGE_DRAINING', 'd'))).toBe(false);
  });

  it('reads errors relayed from a bridge by their mesh code, and upstream answers as answers', async () => {
    class Relayed extends Error {
      constructor(readonly wire: { code: number; message: string; data?: unknown }) {
        super(wire.message);
      }
    }
    const relayedTimeout = new Relayed({ code: -32011, message: 'slow', data: { meshCode: 'MESH_UPSTREAM_TIMEOUT' } });
    const relayedDraining = new Relayed({ code: -32014, message: 'draining', data: { meshCode: 'MESH_BRIDGE_DRAINING' } });
    const upstreamAnswer = new Relayed({ code: -32602, message: 'unknown tool' });
    expect(meshCodeOfError(relayedTimeout)).toBe('MESH_UPSTREAM_TIMEOUT');
    expect(isServerFault(relayedTimeout)).toBe(true);
    expect(isTransient(relayedDraining)).toBe(true);
    expect(isServerFault(relayedDraining)).toBe(false);
    expect(isServerFault(upstreamAnswer)).toBe(false);
    expect(isTransient(upstreamAnswer)).toBe(false);
    const breakers = new ServerBreakers({ config: section('breaker', { consecutiveFailures: 2 }) });
    for (let i = 0; i < 4; i++) await settle(breakers.run('s', async () => Promise.reject(upstreamAnswer)));
    expect(breakers.state('s')).toBe('closed');
    for (let i = 0; i < 2; i++) await settle(breakers.run('s', async () => Promise.reject(relayedTimeout)));
    expect(breakers.state('s')).toBe('open');
  });

  it('opens on the error rate even when failures are not consecutive, with per-server overrides', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(0);
    const breakers = new ServerBreakers({
      config: section('breaker', {
        consecutiveFailures: 100,
        perServer: { flaky: { errorRateThreshold: 0.5, errorRateWindowMs: 10_000, errorRateMinimumRps: 0.5, halfOpenAfterMs: 2000 } },
      }),
    });
    for (let i = 0; i < 12 && breakers.state('flaky') === 'closed'; i++) {
      vi.setSystemTime(i * 100);
      await settle(breakers.run('flaky', async () => (i % 3 === 0 ? 'ok' : Promise.reject(crashed()))));
    }
    expect(breakers.state('flaky')).toBe('open');
    const error = await settle(breakers.run('flaky', async () => 'x'));
    expect(error).toMatchObject({ error: { details: { rule: 'breaker.perServer.flaky' } } });
    for (let i = 0; i < 12; i++) await settle(breakers.run('steady', async () => (i % 3 === 0 ? 'ok' : Promise.reject(crashed()))));
    expect(breakers.state('steady')).toBe('closed'); // only the consecutive breaker (100) applies
  });
});

describe('retry', () => {
  function policy(config: PolicyConfigInput['retry'] = {}, now = () => 0) {
    const delays: number[] = [];
    const retry = new RetryPolicy({
      config: section('retry', config),
      now,
      jitter: false,
      sleep: async (ms) => void delays.push(ms),
    });
    return { retry, delays };
  }

  function failing(times: number, error: () => unknown = crashed) {
    let attempts = 0;
    const fn = async () => {
      attempts++;
      if (attempts <= times) throw error();
      return `ok after ${attempts}`;
    };
    return { fn, attempts: () => attempts };
  }

  it('retries safe methods on transient failures with exponential backoff', async () => {
    const { retry, delays } = policy({ maxAttempts: 4, initialDelayMs: 100, maxDelayMs: 250 });
    const call = failing(3);
    expect(await retry.run({ method: 'tools/list', server: 's' }, call.fn)).toBe('ok after 4');
    expect(delays).toEqual([100, 200, 250]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const { retry } = policy({ maxAttempts: 2 });
    const call = failing(5);
    expect(await settle(retry.run({ method: 'resources/read', server: 's' }, call.fn))).toMatchObject({
      error: { code: 'MESH_UPSTREAM_CRASHED' },
    });
    expect(call.attempts()).toBe(2);
  });

  it('calls a tool once unless it is marked idempotent', async () => {
    const { retry } = policy({ idempotentTools: { github: ['get_*'] } });
    const write = failing(1);
    await settle(retry.run({ method: 'tools/call', server: 'github', tool: 'create_issue' }, write.fn));
    expect(write.attempts()).toBe(1);
    const read = failing(1);
    expect(await retry.run({ method: 'tools/call', server: 'github', tool: 'get_issue' }, read.fn)).toBe('ok after 2');
    const elsewhere = failing(1);
    await settle(retry.run({ method: 'tools/call', server: 'files', tool: 'get_file' }, elsewhere.fn));
    expect(elsewhere.attempts()).toBe(1);
    expect(retry.isRetryable({ method: 'resources/subscribe', server: 'github' })).toBe(false);
  });

  it('never retries client faults, refusals, timeouts or unknown errors', async () => {
    const { retry } = policy();
    for (const error of [
      badParams,
      () => new MeshError('MESH_FORBIDDEN', 'no'),
      () => new MeshError('MESH_UPSTREAM_TIMEOUT', 't'),
      () => new Error('?'),
    ]) {
      const call = failing(1, error);
      await settle(retry.run({ method: 'tools/list', server: 's' }, call.fn));
      expect(call.attempts()).toBe(1);
    }
  });

  it('does not start an attempt the deadline would not allow', async () => {
    const { retry, delays } = policy({ initialDelayMs: 100 }, () => 1000);
    const call = failing(5);
    await settle(retry.run({ method: 'tools/list', server: 's', deadline: 1050 }, call.fn));
    expect(call.attempts()).toBe(1);
    expect(delays).toEqual([]);
  });
});

describe('call guard: retry( breaker( bulkhead( call ) ) )', () => {
  it('stops retrying as soon as the circuit opens', async () => {
    const config = parsePolicyConfig({
      retry: { maxAttempts: 5, initialDelayMs: 0 },
      breaker: { consecutiveFailures: 2 },
      concurrency: { default: { maxConcurrent: 1 } },
    });
    const breakers = new ServerBreakers({ config: config.breaker! });
    const guard = new CallGuard({
      retry: new RetryPolicy({ config: config.retry!, sleep: async () => undefined }),
      breakers,
      bulkheads: new ServerBulkheads({ config: config.concurrency! }),
    });
    let attempts = 0;
    const result = await settle(
      guard.run({ method: 'tools/list', server: 's' }, async () => {
        attempts++;
        throw crashed();
      }),
    );
    expect(attempts).toBe(2);
    expect(result).toMatchObject({ error: { code: 'MESH_CIRCUIT_OPEN' } });
    expect(guard.breakerState('s')).toBe('open');
    expect(guard.concurrency('s')).toMatchObject({ active: 0, queued: 0 });
  });
});
