import { propagation, SpanKind, trace as otelTrace, type Context, type Span } from '@opentelemetry/api';
import { Attr, endSpan, MESSAGING_SYSTEM, meshTracer, natsHeaderSetter } from '@mcp-mesh/telemetry';
import { createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { FrameKind, MeshError, MeshHeader, Subjects, isForwardedMethod, meshCodeOf, type WireError } from '@mcp-mesh/protocol';

export interface CallOptions {
  /** Absolute deadline, epoch milliseconds. */
  deadline: number;
  signal?: AbortSignal;
  session?: string;
  /** Notification frames of this call (progress, logging). */
  onNotification?: (notification: { method: string; params?: Record<string, unknown> }) => void;
  /** Filled in when the call ends: bytes of the final frame, and the bridge instance that answered. */
  stats?: { bytes?: number; instance?: string };
  /** Parent trace context: the call gets a PRODUCER span whose context travels in the NATS headers. */
  trace?: Context;
  /** Server->client requests made during the call (sampling, elicitation, roots): the client answers. */
  onRequest?: (request: {
    method: string;
    params?: Record<string, unknown>;
  }) => Promise<{ result: Record<string, unknown> } | { error: WireError }>;
  /** Send to this bridge replica instead of any replica of the server. */
  instance?: string;
  /**
   * A 2026-07-28 client cannot be pushed a request: with this set, a server->client request ends
   * the call here with what it returns (an `input_required` result), while the bridge keeps the
   * upstream call waiting on `replyTo` for the client's retry ({@link MeshClient.resume}).
   */
  onHeldRequest?: (held: HeldRequest) => Record<string, unknown>;
}

/** A server->client request whose call the bridge holds while the client is asked out of band. */
export interface HeldRequest {
  request: { method: string; params?: Record<string, unknown> };
  /** The NATS inbox the bridge waits on for the answer. */
  replyTo: string;
  /** The bridge replica holding the call. */
  instance: string;
  /** The call's deadline, epoch milliseconds. */
  deadline: number;
}

/** An error the upstream server (or its bridge) answered with: forwarded to the client as it is. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(readonly wire: WireError) {
    super(wire.message);
  }
  get meshCode(): string | undefined {
    return meshCodeOf(this.wire);
  }
}

/**
 * Where calls without a fixed replica go when a server has several: the ready replicas (empty to
 * use the server's queue subject) and what to do with one that no longer answers on its subject.
 */
export interface ReplicaBalancer {
  balancedReplicas(server: string): readonly string[];
  forget(server: string, instance: string): void;
}

/** Sends a call again, with the same payload and reply subject, to its server's queue subject. */
interface Requeue {
  queueSubject: string;
  send: (reply: string) => void;
}

interface Pending {
  server: string;
  subject: string;
  /** For a call the balancer placed (on the replica in `counted`): how to send it to the queue subject instead. */
  requeue: Requeue | undefined;
  /** The replica the call was addressed to (balanced or pinned): counted in flight until it settles. */
  counted: string | undefined;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  onNotification: CallOptions['onNotification'];
  stats: CallOptions['stats'];
  onRequest: CallOptions['onRequest'];
  onHeldRequest: CallOptions['onHeldRequest'];
  deadline: number;
  /** A resumed held call: no responder on its inbox means the held call is gone. */
  resumed: boolean;
  reply: string;
  span: Span | undefined;
  timer: NodeJS.Timeout;
  /** The caller's signal and the listener this call added to it: removed when the call settles. */
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Longest method name routed (its subject stays far below nats-server's 4 KiB control line). */
export const MAX_METHOD_LENGTH = 256;
const MAX_SUBJECT_LENGTH = 1_024;
/** Time the ingress waits past the deadline for the bridge's own timeout error to arrive. */
const DEADLINE_GRACE_MS = 1_000;
/**
 * At most this many recent failures are held against a replica: under a load of more calls in
 * flight than that, it still gets some, and one success clears its record.
 */
const MAX_FAILURE_PENALTY = 8;
/** How long a replica's failures are held against it after the last one, milliseconds (doubling while it keeps failing). */
const FAILURE_MEMORY_MS = 2_000;
const MAX_FAILURE_MEMORY_MS = 32_000;
/** Mesh codes of answers in which the replica (its bridge or upstream), not the request, failed. */
const REPLICA_FAILURES: ReadonlySet<string> = new Set([
  'MESH_BRIDGE_DRAINING',
  'MESH_INTERNAL',
  'MESH_UPSTREAM_CRASHED',
  'MESH_UPSTREAM_TIMEOUT',
  'MESH_UPSTREAM_UNAVAILABLE',
]);

/** Whether an error answer says the replica failed: a mesh code above, or an upstream's internal error (-32603). */
export function replicaFailure(wire: WireError): boolean {
  const code = meshCodeOf(wire);
  return code === undefined ? wire.code === -32603 : REPLICA_FAILURES.has(code);
}

/** Replicas with a failure record, and servers with a requeue count, kept at most. */
const MAX_REMEMBERED = 64;

/**
 * NATS request/reply with streamed frames: one wildcard inbox subscription for the whole
 * process; each call publishes to `mcp.v1.srv.<server>.<method>` with a reply subject under it and
 * receives notification frames, then one result or error frame. A request nobody is subscribed to
 * is answered at once by the server's no-responders status (503).
 */
export class MeshClient {
  private readonly inboxPrefix: string;
  private readonly sub: Subscription;
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  /** Calls this ingress has in flight per bridge replica it addressed: the balancer's load signal. */
  private readonly loads = new Map<string, number>();
  /** Rotates where ties between equally loaded replicas are broken. */
  private turn = 0;
  /**
   * Consecutive answers per replica that say the replica, not the request, failed (capped): added
   * to its load, so that a replica failing fast does not draw the calls it answers quickest.
   */
  private readonly failures = new Map<string, { count: number; at: number; memoryMs: number }>();
  /** Calls resent to a server's queue subject because the chosen replica had no responder, per server. */
  private readonly requeues = new Map<string, number>();

  constructor(
    private readonly nc: NatsConnection,
    readonly subjects: Subjects,
    private readonly balancer?: ReplicaBalancer,
  ) {
    this.inboxPrefix = createInbox();
    this.sub = nc.subscribe(`${this.inboxPrefix}.*`, {
      callback: (error, msg) => {
        if (!error) this.receive(msg);
      },
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  call(
    server: string,
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    if (this.nc.isClosed()) return Promise.reject(new MeshError('MESH_BUS_UNAVAILABLE', 'the ingress has no connection to NATS'));
    const queueSubject = isForwardedMethod(method) ? this.subjects.server(server, method) : this.subjects.extension(server, method);
    // With several ready replicas the one with the fewest of this ingress's calls takes it: a queue
    // group picks at random, leaving one replica idle while another has a backlog.
    let instance = options.instance;
    let subject = instance ? this.subjects.instance(instance, method) : queueSubject;
    const choice = instance || queueSubject.length > MAX_SUBJECT_LENGTH ? undefined : this.leastLoaded(server);
    const own = choice === undefined ? undefined : this.subjects.instance(choice, method);
    // A replica's subject is a few characters longer: a method that only just fits goes to the queue.
    const balanced = own !== undefined && own.length <= MAX_SUBJECT_LENGTH;
    if (balanced) {
      subject = own;
      instance = choice;
    }
    // A subject past nats-server's control-line limit would drop the whole connection: refuse it here.
    if (subject.length > MAX_SUBJECT_LENGTH) {
      return Promise.reject(
        new MeshError(
          'MESH_INVALID_PARAMS',
          `the method name is too long to route (${method.length} characters): at most ${MAX_METHOD_LENGTH}`,
          {
            details: { server },
          },
        ),
      );
    }
    const payload = encoder.encode(JSON.stringify(params === undefined ? { method } : { method, params }));
    if (payload.length > (this.nc.info?.max_payload ?? Number.POSITIVE_INFINITY)) {
      return Promise.reject(
        new MeshError(
          'MESH_PAYLOAD_TOO_LARGE',
          `the request is ${payload.length} bytes, above the NATS max_payload of ${this.nc.info?.max_payload}`,
        ),
      );
    }
    // The span starts only for a call that is sent (a refused one would leave it open).
    const h = natsHeaders();
    h.set(MeshHeader.Deadline, String(options.deadline));
    if (options.session) h.set(MeshHeader.Session, options.session);
    let span: Span | undefined;
    if (options.trace) {
      span = meshTracer().startSpan(`send ${subject}`, { kind: SpanKind.PRODUCER }, options.trace);
      if (span.isRecording()) {
        span.setAttributes({
          [Attr.MessagingSystem]: MESSAGING_SYSTEM,
          [Attr.MessagingDestinationName]: subject,
          [Attr.MessagingOperationName]: 'send',
          [Attr.MessagingOperationType]: 'send',
          [Attr.McpMethodName]: method,
          [Attr.MeshServer]: server,
        });
      }
      propagation.inject(otelTrace.setSpan(options.trace, span), h, natsHeaderSetter);
    }
    const requeue: Requeue | undefined = balanced
      ? { queueSubject, send: (reply) => this.nc.publish(queueSubject, payload, { reply, headers: h }) }
      : undefined;
    return this.start(server, method, subject, options, { resumed: false, span, instance, requeue }, (reply) =>
      this.nc.publish(subject, payload, { reply, headers: h }),
    );
  }

  /**
   * The balancer's view for metrics, per server of `servers`: how many replicas it chooses among
   * (0: the queue subject takes the server's calls), and the fewest and most calls in flight from
   * here on one of them; and requeues per server since start. Per server, not per replica: replica
   * ids change with every restart, and an exported series is never dropped.
   */
  balance(servers: readonly string[]): {
    spread: { server: string; replicas: number; min: number; max: number }[];
    requeues: { server: string; count: number }[];
  } {
    const spread = [];
    if (this.balancer)
      for (const server of servers) {
        const replicas = this.balancer.balancedReplicas(server);
        // A server not balanced now reports 0 replicas (its earlier series are never dropped).
        if (replicas.length === 0) {
          spread.push({ server, replicas: 0, min: 0, max: 0 });
          continue;
        }
        let min = Number.POSITIVE_INFINITY;
        let max = 0;
        for (const instance of replicas) {
          const calls = this.loads.get(instance) ?? 0;
          min = Math.min(min, calls);
          max = Math.max(max, calls);
        }
        spread.push({ server, replicas: replicas.length, min, max });
      }
    return { spread, requeues: [...this.requeues].map(([server, count]) => ({ server, count })) };
  }

  /** The ready replica of `server` with the fewest calls in flight from here, or none (queue subject). */
  private leastLoaded(server: string): string | undefined {
    const replicas = this.balancer?.balancedReplicas(server);
    if (!replicas || replicas.length === 0) return undefined;
    const count = replicas.length;
    const start = this.turn++ % count;
    let best = replicas[start]!;
    let least = this.loadOf(best);
    for (let i = 1; i < count && least > 0; i++) {
      const candidate = replicas[(start + i) % count]!;
      const load = this.loadOf(candidate);
      if (load < least) {
        best = candidate;
        least = load;
      }
    }
    return best;
  }

  private loadOf(instance: string): number {
    const load = this.loads.get(instance) ?? 0;
    if (this.failures.size === 0) return load;
    const failed = this.failures.get(instance);
    // The record wears off (kept, so that a failure right after lengthens the next one): a replica
    // that recovered (its upstream restarted) is tried again even when no call would otherwise go to it.
    if (!failed || Date.now() - failed.at > failed.memoryMs) return load;
    return load + failed.count;
  }

  /**
   * Counts a balanced replica's answer: a good one clears its record; a failure of the replica
   * adds to it, and a failure on the first try after the record wore off doubles how long the next
   * one is held (up to {@link MAX_FAILURE_MEMORY_MS}), so a replica that fails every call is tried
   * ever more rarely.
   */
  private judge(instance: string, replicaFailed: boolean): void {
    if (!replicaFailed) {
      if (this.failures.size > 0) this.failures.delete(instance);
      return;
    }
    const now = Date.now();
    const previous = this.failures.get(instance);
    let record: { count: number; at: number; memoryMs: number };
    if (!previous) record = { count: 1, at: now, memoryMs: FAILURE_MEMORY_MS };
    else if (now - previous.at <= previous.memoryMs)
      record = { count: Math.min(previous.count + 1, MAX_FAILURE_PENALTY), at: now, memoryMs: previous.memoryMs };
    else record = { count: previous.count, at: now, memoryMs: Math.min(previous.memoryMs * 2, MAX_FAILURE_MEMORY_MS) };
    if (!previous && this.failures.size >= MAX_REMEMBERED) this.failures.clear();
    this.failures.set(instance, record);
  }

  private count(instance: string, delta: 1 | -1): void {
    const load = (this.loads.get(instance) ?? 0) + delta;
    if (load > 0) this.loads.set(instance, load);
    else this.loads.delete(instance);
  }

  /**
   * Resumes a call the bridge holds (see {@link CallOptions.onHeldRequest}): sends the client's
   * answer to the inbox the bridge waits on, with a reply subject of this request where the bridge
   * sends the rest of the call's frames. Settles like {@link call}; a held call that is gone
   * (answered already, past its deadline, replica ended) fails with `MESH_INPUT_STATE_INVALID`.
   */
  resume(
    server: string,
    method: string,
    replyTo: string,
    answer: { result: Record<string, unknown> } | { error: WireError },
    options: CallOptions,
  ): Promise<Record<string, unknown>> {
    if (this.nc.isClosed()) return Promise.reject(new MeshError('MESH_BUS_UNAVAILABLE', 'the ingress has no connection to NATS'));
    const payload = encoder.encode(JSON.stringify(answer));
    return this.start(
      server,
      method,
      replyTo,
      options,
      // Counted against the replica holding the call (its instance), not sent there: the answer goes to replyTo.
      { resumed: true, span: undefined, instance: options.instance, requeue: undefined },
      (reply) => this.nc.publish(replyTo, payload, { reply }),
    );
  }

  private start(
    server: string,
    method: string,
    subject: string,
    options: CallOptions,
    {
      resumed,
      span,
      instance,
      requeue,
    }: { resumed: boolean; span: Span | undefined; instance: string | undefined; requeue: Requeue | undefined },
    publish: (reply: string) => void,
  ): Promise<Record<string, unknown>> {
    const token = (++this.seq).toString(36);
    const reply = `${this.inboxPrefix}.${token}`;
    if (instance) this.count(instance, 1);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            token,
            new MeshError('MESH_UPSTREAM_TIMEOUT', `${server} did not answer ${method} before the deadline`, { details: { server } }),
          ),
        Math.max(0, options.deadline - Date.now()) + DEADLINE_GRACE_MS,
      );
      const onAbort = options.signal
        ? () => {
            // Tell the bridge (whichever replica holds the call) to cancel it upstream.
            if (this.pending.has(token) && !this.nc.isClosed())
              this.nc.publish(this.subjects.cancel(server), encoder.encode(JSON.stringify({ reply })));
            this.fail(token, new MeshError('MESH_UPSTREAM_TIMEOUT', `${method} on ${server} was cancelled`, { details: { server } }));
          }
        : undefined;
      this.pending.set(token, {
        server,
        subject,
        requeue,
        counted: instance,
        resolve,
        reject,
        onNotification: options.onNotification,
        stats: options.stats,
        onRequest: options.onRequest,
        onHeldRequest: options.onHeldRequest,
        deadline: options.deadline,
        resumed,
        reply,
        span,
        timer,
        signal: options.signal,
        onAbort,
      });
      if (options.signal?.aborted) {
        onAbort?.();
        return;
      }
      if (onAbort) options.signal!.addEventListener('abort', onAbort, { once: true });
      try {
        publish(reply);
      } catch (error) {
        this.fail(token, new MeshError('MESH_BUS_UNAVAILABLE', `could not publish to NATS: ${(error as Error).message}`, { cause: error }));
      }
    });
  }

  /** Removes a pending call; its span ends with the outcome (`errorCode` when it failed). */
  private settle(token: string, outcome: { errorCode?: number; errorType?: string } = {}): Pending | undefined {
    const entry = this.pending.get(token);
    if (!entry) return undefined;
    this.pending.delete(token);
    clearTimeout(entry.timer);
    if (entry.counted) this.count(entry.counted, -1);
    // A settled call no longer keeps its closure (and what it reaches) alive through the signal.
    if (entry.onAbort) entry.signal?.removeEventListener('abort', entry.onAbort);
    if (entry.span) endSpan(entry.span, outcome);
    return entry;
  }

  /** Settles a pending call with an error: the span records it and the caller receives it. */
  private fail(token: string, error: MeshError | UpstreamError): void {
    const outcome =
      error instanceof MeshError
        ? { errorCode: error.jsonRpcCode, errorType: error.code }
        : { errorCode: error.wire.code, errorType: error.meshCode ?? String(error.wire.code) };
    this.settle(token, outcome)?.reject(error);
  }

  private receive(msg: Msg): void {
    const token = msg.subject.slice(this.inboxPrefix.length + 1);
    const entry = this.pending.get(token);
    if (!entry) return;
    const headers = msg.headers;
    // No responders: for a resumed call, the held call is gone; otherwise no bridge is live.
    if (headers?.hasError && headers.code === 503) {
      // The balancer's choice is gone (ended, crashed) but the registry has not heard yet: nothing
      // was delivered, so the call goes to the queue subject, where any live replica takes it.
      const requeue = entry.requeue;
      const gone = entry.counted;
      if (requeue && gone) {
        entry.requeue = undefined;
        this.count(gone, -1);
        entry.counted = undefined;
        entry.subject = requeue.queueSubject;
        this.failures.delete(gone);
        if (this.requeues.size < MAX_REMEMBERED || this.requeues.has(entry.server))
          this.requeues.set(entry.server, (this.requeues.get(entry.server) ?? 0) + 1);
        this.balancer?.forget(entry.server, gone);
        try {
          requeue.send(entry.reply);
          return;
        } catch {
          // Fall through: the call fails as unanswered.
        }
      }
      this.fail(
        token,
        entry.resumed
          ? new MeshError(
              'MESH_INPUT_STATE_INVALID',
              `the call of '${entry.server}' this requestState resumes is no longer held (answered already, past its deadline, or its bridge replica ended): call again`,
              { details: { server: entry.server } },
            )
          : new MeshError('MESH_SERVER_UNAVAILABLE', `server '${entry.server}' has no live bridge: nothing answered on ${entry.subject}`, {
              details: { server: entry.server, subject: entry.subject },
            }),
      );
      return;
    }
    // A replica answered: the call will not go to the queue subject, and its payload can go.
    entry.requeue = undefined;
    const frame = headers?.get(MeshHeader.Frame);
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(decoder.decode(msg.data)) as Record<string, unknown>;
    } catch (cause) {
      this.fail(token, new MeshError('MESH_INTERNAL', 'a bridge sent a frame that is not JSON', { cause }));
      return;
    }
    if (frame === FrameKind.Request) {
      const { request, replyTo } = body as { request?: { method: string; params?: Record<string, unknown> }; replyTo?: string };
      if (!request || typeof replyTo !== 'string') return;
      if (entry.onHeldRequest) {
        this.hold(token, entry, { request, replyTo, instance: headers?.get(MeshHeader.Instance) ?? '', deadline: entry.deadline });
        return;
      }
      void this.answer(entry, request, replyTo);
      return;
    }
    if (frame === FrameKind.Notification) {
      const notification = body.notification as { method: string; params?: Record<string, unknown> } | undefined;
      if (notification) entry.onNotification?.(notification);
      return;
    }
    if (entry.stats) {
      entry.stats.bytes = msg.data.length;
      const instance = headers?.get(MeshHeader.Instance);
      if (instance) entry.stats.instance = instance;
    }
    if (frame === FrameKind.Error) {
      const wire = body.error as WireError;
      if (entry.counted && this.balancer) this.judge(entry.counted, replicaFailure(wire));
      this.fail(token, new UpstreamError(wire));
      return;
    }
    if (entry.counted && this.balancer) this.judge(entry.counted, false);
    this.settle(token);
    entry.resolve((body.result ?? {}) as Record<string, unknown>);
  }

  /**
   * Ends a call with what its held-request handler makes of a server->client request: the pending
   * entry is removed without cancelling anything, so the bridge keeps the upstream call waiting.
   */
  private hold(token: string, entry: Pending, held: HeldRequest): void {
    let result: Record<string, unknown>;
    try {
      result = entry.onHeldRequest!(held);
    } catch (error) {
      // The client cannot be asked: the upstream gets the error now rather than at the deadline.
      if (!this.nc.isClosed())
        this.nc.publish(held.replyTo, encoder.encode(JSON.stringify({ error: { code: -32603, message: (error as Error).message } })));
      this.fail(token, new MeshError('MESH_INTERNAL', `could not ask the client for ${held.request.method}`, { cause: error }));
      return;
    }
    this.settle(token);
    entry.resolve(result);
  }

  /** Asks the client (through the call's handler) and sends its answer to the bridge. */
  private async answer(entry: Pending, request: { method: string; params?: Record<string, unknown> }, replyTo: string): Promise<void> {
    let reply: { result: Record<string, unknown> } | { error: WireError };
    if (!entry.onRequest) {
      reply = { error: { code: -32601, message: `this client session cannot answer ${request.method}` } };
    } else {
      try {
        reply = await entry.onRequest(request);
      } catch (error) {
        reply = { error: { code: -32603, message: (error as Error).message } };
      }
    }
    if (!this.nc.isClosed()) this.nc.publish(replyTo, encoder.encode(JSON.stringify(reply)));
  }

  close(): void {
    this.sub.unsubscribe();
    for (const token of [...this.pending.keys()]) this.fail(token, new MeshError('MESH_BUS_UNAVAILABLE', 'the ingress is shutting down'));
  }
}
