import { randomUUID } from 'node:crypto';
import { createInbox, headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import {
  BridgeDescriptorSchema,
  MAX_NATS_CLUSTER_LENGTH,
  CallRequestSchema,
  ForwardedMethods,
  FrameKind,
  JsonRpcCode,
  MeshError,
  MeshHeader,
  MeshMethod,
  RegistryKind,
  Subjects,
  type BridgeDescriptor,
  type WireError,
} from '@mcp-mesh/protocol';
import type { Logger, ServerConfig } from '@mcp-mesh/runtime';
import { context, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import {
  Attr,
  endSpan,
  injectIntoParams,
  MESSAGING_SYSTEM,
  mcpSpanName,
  MeshMetrics,
  meshTracer,
  natsHeaderGetter,
  targetAttributes,
  targetOf,
  traceFields,
} from '@mcp-mesh/telemetry';
import { performance } from 'node:perf_hooks';
import { Upstream } from './upstream.js';
import { MemoryRateLimiter } from '@mcp-mesh/policy';
import { ClientUpstreams } from './client-upstreams.js';
import type { UpstreamNotification, UpstreamReply } from './upstream-session.js';

export interface BridgeOptions {
  server: string;
  config: ServerConfig;
  nc: NatsConnection;
  logger: Logger;
  prefix?: string;
  /** Heartbeat period, milliseconds; a replica is forgotten after three missed beats. */
  heartbeatMs?: number;
  /** Deadline of a call when the ingress sends none, milliseconds. */
  defaultTimeoutMs?: number;
  parentEnv?: NodeJS.ProcessEnv;
  startTimeoutMs?: number;
  /** per-client mode: idle client upstreams close after this long (default 10 minutes). */
  clientIdleMs?: number;
  /** per-client mode: at most this many upstreams at once (default 100). */
  maxClientSessions?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Exposes one upstream MCP server on NATS: a micro service (`$SRV` discovery and stats) whose
 * endpoints are the `mcp.v1.srv.<server>.<method>` subjects in one queue group, plus the registry
 * announce/heartbeat/bye messages the ingress discovers servers by.
 */
export class Bridge {
  readonly instance: string;
  readonly upstream: Upstream;
  private readonly subjects: Subjects;
  private readonly heartbeatMs: number;
  private readonly startedAt = new Date().toISOString();
  private service: Service | undefined;
  private discoverSub: Subscription | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private draining = false;
  private readonly active = new Set<Promise<void>>();
  /** Calls in flight by reply subject, so a cancel from the ingress can stop the right one. */
  private readonly calls = new Map<string, AbortController>();
  /** Resource subscriptions of clients, counted: the upstream is subscribed once per URI. */
  private readonly subscriptions = new Map<string, number>();
  private instanceSub: Subscription | undefined;
  private readonly clients: ClientUpstreams | undefined;
  /** The server's own rate limit, per replica (protects the upstream from every ingress at once). */
  private readonly limiter: MemoryRateLimiter | undefined;
  private cancelSub: Subscription | undefined;
  private readonly metrics = new MeshMetrics();

  constructor(private readonly options: BridgeOptions) {
    this.instance = `${options.server}-${randomUUID().slice(0, 8)}`;
    this.subjects = new Subjects(options.prefix);
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    const upstreamOptions = {
      server: options.server,
      config: options.config,
      parentEnv: options.parentEnv ?? process.env,
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    };
    this.upstream = new Upstream({
      ...upstreamOptions,
      logger: options.logger.child({ component: 'upstream' }),
      instance: this.instance,
    });
    if (options.config.rateLimit) this.limiter = new MemoryRateLimiter({ limit: options.config.rateLimit });
    if (options.config.sessionMode === 'per-client') {
      this.clients = new ClientUpstreams({
        ...upstreamOptions,
        logger: options.logger.child({ component: 'client-upstream' }),
        idleMs: options.clientIdleMs ?? 10 * 60_000,
        maxSessions: options.maxClientSessions ?? 100,
        onNotification: (session, notification) => this.publishSessionNotification(session, notification),
      });
    }
  }

  /** Starts the upstream, then serves it on NATS and announces it. */
  async start(): Promise<void> {
    const { nc, server } = this.options;
    this.upstream.on('change', () => this.announce(RegistryKind.Announce));
    this.upstream.on('restart', () => this.metrics.upstreamRestarts.add(1, { [Attr.MeshServer]: server }));
    this.upstream.on('notification', (notification) => this.publishNotification(notification));
    // A restarted upstream has forgotten the subscriptions clients made: make them again.
    this.upstream.on('ready', () => {
      for (const uri of this.subscriptions.keys()) {
        void this.upstream.request('resources/subscribe', { uri }, { deadline: Date.now() + 10_000 }, false).catch(() => undefined);
      }
    });
    await this.upstream.start();
    // Closed while starting (a signal during start-up): serve nothing.
    if (this.closing) return;
    const service = await new Svcm(nc).add({
      name: `mcp-${server}`,
      version: '0.1.0',
      description: `mcp-mesh bridge for MCP server '${server}'`,
      metadata: { server, instance: this.instance, upstream: this.upstream.target.target.slice(0, 200) },
      queue: this.subjects.queueGroup(server),
    });
    if (this.closing) {
      await service.stop().catch(() => undefined);
      return;
    }
    this.service = service;
    for (const method of ForwardedMethods) {
      this.service.addEndpoint(method.replaceAll('/', '_'), {
        subject: this.subjects.server(server, method),
        handler: (error, msg) => {
          if (error) {
            this.options.logger.error({ err: error }, 'service endpoint error');
            return;
          }
          this.track(this.handle(method, msg));
        },
        metadata: { method },
      });
    }
    // Methods the mesh does not know by name (extensions) arrive under one wildcard endpoint.
    this.service.addEndpoint('extensions', {
      subject: this.subjects.extensionAll(server),
      handler: (error, msg) => {
        if (!error) this.track(this.handle(this.subjects.extensionMethod(msg.subject), msg));
      },
      metadata: { method: '*' },
    });
    // Calls addressed to this replica alone (session affinity, subscriptions, tasks).
    this.instanceSub = nc.subscribe(this.subjects.instanceAll(this.instance), {
      callback: (error, msg) => {
        if (!error) this.track(this.handle(this.subjects.instanceMethod(msg.subject), msg as ServiceMsg));
      },
    });
    this.cancelSub = nc.subscribe(this.subjects.cancel(server), {
      callback: (error, msg) => {
        if (error) return;
        try {
          const { reply } = JSON.parse(decoder.decode(msg.data)) as { reply?: string };
          if (reply) this.calls.get(reply)?.abort();
        } catch {
          // Not a cancel message.
        }
      },
    });
    this.discoverSub = nc.subscribe(this.subjects.registry(RegistryKind.Discover), {
      callback: () => this.announce(RegistryKind.Announce),
    });
    this.announce(RegistryKind.Announce);
    this.heartbeat = setInterval(() => this.announce(RegistryKind.Heartbeat), this.heartbeatMs);
    this.options.logger.info({ instance: this.instance, subjects: `${this.subjects.prefix}.srv.${server}.>` }, 'bridge serving');
  }

  private track(work: Promise<void>): void {
    this.active.add(work);
    void work.finally(() => this.active.delete(work));
  }

  descriptor(): BridgeDescriptor {
    const info = this.upstream.info;
    const cluster = this.options.nc.info?.cluster;
    return BridgeDescriptorSchema.parse({
      v: 1,
      server: this.options.server,
      instance: this.instance,
      state: this.draining ? 'draining' : this.upstream.state,
      sessionMode: this.options.config.sessionMode ?? 'shared',
      ...(cluster && cluster.length <= MAX_NATS_CLUSTER_LENGTH ? { natsCluster: cluster } : {}),
      upstream: this.upstream.target,
      ...(info
        ? {
            serverInfo: info.serverInfo,
            protocolVersion: info.protocolVersion,
            capabilities: info.capabilities,
            ...(info.instructions === undefined ? {} : { instructions: info.instructions }),
          }
        : {}),
      digests: this.upstream.digests,
      counts: this.upstream.counts,
      startedAt: this.startedAt,
      restarts: this.upstream.restarts,
      ttlMs: this.heartbeatMs * 3,
      inFlight: this.active.size,
      sentAt: new Date().toISOString(),
    });
  }

  private announce(kind: typeof RegistryKind.Announce | typeof RegistryKind.Heartbeat): void {
    const nc = this.options.nc;
    // Nothing is announced before the service answers on its subjects.
    // Nor after the goodbye: a later announcement would bring the replica back into registries.
    if (!this.service || this.closing || nc.isClosed() || nc.isDraining()) return;
    nc.publish(this.subjects.registry(kind), encoder.encode(JSON.stringify(this.descriptor())));
  }

  private publishSessionNotification(session: string, notification: UpstreamNotification): void {
    const nc = this.options.nc;
    if (nc.isClosed()) return;
    nc.publish(
      this.subjects.session(session, notification.method),
      encoder.encode(JSON.stringify({ server: this.options.server, ...notification })),
    );
  }

  private publishNotification(notification: UpstreamNotification): void {
    const nc = this.options.nc;
    if (nc.isClosed()) return;
    nc.publish(this.subjects.notify(this.options.server, notification.method), encoder.encode(JSON.stringify(notification)));
  }

  /** Serves one forwarded request: zero or more notification frames, then one result or error frame. */
  private async handle(method: string, msg: ServiceMsg): Promise<void> {
    const started = performance.now();
    const deadlineHeader = Number(msg.headers?.get(MeshHeader.Deadline));
    const deadline =
      Number.isFinite(deadlineHeader) && deadlineHeader > 0
        ? deadlineHeader
        : Date.now() + (this.options.config.timeoutMs ?? this.options.defaultTimeoutMs ?? 60_000);
    // The ingress's PRODUCER span is the parent: its context travels in the NATS headers.
    const parent = msg.headers ? propagation.extract(context.active(), msg.headers, natsHeaderGetter) : context.active();
    const tracer = meshTracer();
    // Attributes are built only for a recording span: with tracing off this costs nothing per call.
    const consumer = tracer.startSpan(`process ${msg.subject}`, { kind: SpanKind.CONSUMER }, parent);
    if (consumer.isRecording()) {
      consumer.setAttributes({
        [Attr.MessagingSystem]: MESSAGING_SYSTEM,
        [Attr.MessagingDestinationName]: msg.subject,
        [Attr.MessagingOperationName]: 'process',
        [Attr.MessagingOperationType]: 'process',
        [Attr.MessagingConsumerGroupName]: this.subjects.queueGroup(this.options.server),
        [Attr.MeshServer]: this.options.server,
        [Attr.MeshInstance]: this.instance,
      });
    }
    let upstreamSpan: Span | undefined;
    let outcome: Parameters<typeof endSpan>[1] = {};
    // Where this call's frames go: the request's reply subject, until a 2026-07-28 client's retry
    // of a held call (see askClient) moves the rest of the call to its own.
    const route: CallRoute = { reply: msg.reply };
    try {
      if (this.draining) throw new MeshError('MESH_BRIDGE_DRAINING', `bridge ${this.instance} is shutting down`);
      const session = msg.headers?.get(MeshHeader.Session) || undefined;
      if (this.limiter && method !== MeshMethod.SessionClose && method !== 'ping') {
        const decision = this.limiter.take(this.options.server);
        if (!decision.ok) {
          throw new MeshError(
            'MESH_RATE_LIMITED',
            `server '${this.options.server}' takes at most ${this.options.config.rateLimit!.ratePerSec} calls/s per replica; retry in ${decision.retryAfterMs} ms`,
            {
              details: { retryAfterMs: decision.retryAfterMs, rule: `servers.${this.options.server}.rateLimit` },
            },
          );
        }
      }
      if (method === MeshMethod.SessionClose) {
        if (session) await this.clients?.close(session);
        this.respond(route, FrameKind.Result, { result: {} });
        return;
      }
      // per-client mode: each client session has its own upstream; calls without one use the shared upstream.
      const upstream = this.clients && session ? this.clients.get(session) : this.upstream;
      const body = parseBody(msg);
      const target = targetOf(method, body.params);
      upstreamSpan = tracer.startSpan(mcpSpanName(method, target), { kind: SpanKind.CLIENT }, trace.setSpan(parent, consumer));
      if (upstreamSpan.isRecording()) {
        upstreamSpan.setAttributes({
          [Attr.McpMethodName]: method,
          [Attr.MeshServer]: this.options.server,
          [Attr.NetworkTransport]: upstream.target.kind === 'stdio' ? 'pipe' : 'tcp',
          ...targetAttributes(method, body.params),
        });
      }
      // The upstream server sees the mesh's span as its parent, in `params._meta`.
      const params = injectIntoParams(trace.setSpan(parent, upstreamSpan), body.params);
      const callDeadline = Math.min(deadline, Date.now() + (this.options.config.timeoutMs ?? Number.POSITIVE_INFINITY));
      const abort = new AbortController();
      route.abort = abort;
      if (route.reply) this.calls.set(route.reply, abort);
      const subscription = upstream === this.upstream ? this.subscriptionChange(method, params) : undefined;
      const reply =
        subscription ??
        (await upstream
          .request(method, params, {
            deadline: callDeadline,
            signal: abort.signal,
            onNotification: (notification) => {
              upstreamSpan?.addEvent(notification.method);
              this.respond(route, FrameKind.Notification, { notification });
            },
            onServerRequest: (request) => {
              upstreamSpan?.addEvent(request.method);
              return this.askClient(route, request, callDeadline);
            },
          })
          .finally(() => {
            if (route.reply) this.calls.delete(route.reply);
          }));
      if (!subscription && upstream === this.upstream && 'result' in reply) this.subscriptionCommitted(method, params);
      if ('error' in reply) {
        outcome = { errorCode: reply.error.code, message: reply.error.message };
        this.respond(route, FrameKind.Error, { error: reply.error });
      } else {
        outcome = { result: reply.result };
        this.respond(route, FrameKind.Result, { result: reply.result });
      }
    } catch (error) {
      const meshError =
        error instanceof MeshError ? error : new MeshError('MESH_INTERNAL', 'the bridge failed to forward the call', { cause: error });
      if (!(error instanceof MeshError)) {
        this.options.logger.error({ err: error, method, ...traceFields(trace.setSpan(parent, consumer)) }, 'unexpected bridge failure');
      }
      outcome = { errorCode: meshError.jsonRpcCode, errorType: meshError.code, message: meshError.message };
      this.respond(route, FrameKind.Error, { error: withServer(meshError.toWire(), this.options.server) }, meshError.code);
    } finally {
      if (upstreamSpan) endSpan(upstreamSpan, outcome);
      endSpan(consumer, outcome.errorType ? outcome : {});
      this.metrics.record(this.metrics.clientDuration, (performance.now() - started) / 1_000, {
        [Attr.McpMethodName]: method,
        [Attr.MeshServer]: this.options.server,
        ...(outcome.errorCode !== undefined ? { [Attr.ErrorType]: outcome.errorType ?? String(outcome.errorCode) } : {}),
        ...(outcome.result?.isError === true ? { [Attr.ErrorType]: 'tool_error' } : {}),
      });
    }
  }

  /**
   * Resource subscriptions are counted per URI: the first subscribe and the last unsubscribe go
   * upstream; the others are answered here. Returns the answer when nothing needs to be sent.
   */
  private subscriptionChange(method: string, params: Record<string, unknown> | undefined): { result: Record<string, unknown> } | undefined {
    const uri = typeof params?.uri === 'string' ? params.uri : undefined;
    if (!uri) return undefined;
    const count = this.subscriptions.get(uri) ?? 0;
    if (method === 'resources/subscribe' && count > 0) {
      this.subscriptions.set(uri, count + 1);
      return { result: {} };
    }
    if (method === 'resources/unsubscribe' && count > 1) {
      this.subscriptions.set(uri, count - 1);
      return { result: {} };
    }
    return undefined;
  }

  private subscriptionCommitted(method: string, params: Record<string, unknown> | undefined): void {
    const uri = typeof params?.uri === 'string' ? params.uri : undefined;
    if (!uri) return;
    if (method === 'resources/subscribe') this.subscriptions.set(uri, (this.subscriptions.get(uri) ?? 0) + 1);
    if (method === 'resources/unsubscribe') this.subscriptions.delete(uri);
  }

  /**
   * Sends a server->client request to the ingress as a `request` frame on the call's reply subject
   * and waits (until the call's deadline) for the client's answer on a subject of its own. An answer
   * that has a NATS reply subject comes from a 2026-07-28 client's retry (the ingress gave that
   * client `input_required` and let its first request end): the rest of the call's frames go there.
   */
  private askClient(route: CallRoute, request: UpstreamNotification, deadline: number): Promise<UpstreamReply> {
    const nc = this.options.nc;
    if (!route.reply) return Promise.resolve({ error: { code: JsonRpcCode.InternalError, message: 'the call has no reply subject' } });
    const inbox = createInbox();
    return new Promise<UpstreamReply>((resolve) => {
      const timer = setTimeout(
        () => {
          sub.unsubscribe();
          resolve({ error: { code: -32001, message: `the client did not answer ${request.method} before the call's deadline` } });
        },
        Math.max(0, deadline - Date.now()),
      );
      const sub = nc.subscribe(inbox, {
        max: 1,
        callback: (error, answer) => {
          clearTimeout(timer);
          if (error) return resolve({ error: { code: JsonRpcCode.InternalError, message: error.message } });
          if (answer.reply) this.reroute(route, answer.reply);
          try {
            resolve(JSON.parse(decoder.decode(answer.data)) as UpstreamReply);
          } catch {
            resolve({
              error: {
                code: JsonRpcCode.InternalError,
                message: 'the ingress answered a server->client request with a body that is not JSON',
              },
            });
          }
        },
      });
      this.respond(route, FrameKind.Request, { request, replyTo: inbox });
    });
  }

  /** Moves a call's remaining frames (and its cancellation) to a new reply subject. */
  private reroute(route: CallRoute, reply: string): void {
    if (route.reply) this.calls.delete(route.reply);
    route.reply = reply;
    if (route.abort) this.calls.set(reply, route.abort);
  }

  private respond(msg: { readonly reply?: string | undefined }, frame: FrameKind, body: unknown, errorCode?: string): void {
    if (!msg.reply) return;
    const h = natsHeaders();
    h.set(MeshHeader.Frame, frame);
    h.set(MeshHeader.Instance, this.instance);
    if (errorCode) h.set(MeshHeader.ErrorCode, errorCode);
    let payload = encoder.encode(JSON.stringify(body));
    if (payload.length > this.options.nc.info!.max_payload) {
      const tooLarge = new MeshError(
        'MESH_PAYLOAD_TOO_LARGE',
        `the ${frame} of ${this.options.server} is ${payload.length} bytes, above the NATS max_payload of ${this.options.nc.info!.max_payload}`,
      );
      h.set(MeshHeader.Frame, FrameKind.Error);
      h.set(MeshHeader.ErrorCode, tooLarge.code);
      payload = encoder.encode(JSON.stringify({ error: tooLarge.toWire() }));
    }
    this.options.nc.publish(msg.reply, payload, { headers: h });
  }

  /**
   * Drains: says goodbye, stops taking calls (serving those already delivered), lets calls in
   * flight finish, then stops the upstream. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.discoverSub?.unsubscribe();
      const nc = this.options.nc;
      if (!nc.isClosed()) {
        nc.publish(
          this.subjects.registry(RegistryKind.Bye),
          encoder.encode(JSON.stringify({ v: 1, server: this.options.server, instance: this.instance })),
        );
      }
      // Stop taking calls. Calls delivered until each subscription's drain completes are served
      // like any other (refusing them failed calls in a rolling restart; dropping them left the
      // caller waiting for its deadline).
      await Promise.allSettled([this.service?.stop(), drain(this.instanceSub)]);
      this.draining = true;
      await Promise.allSettled([...this.active]);
      // Cancels still reach the calls that were finishing.
      this.cancelSub?.unsubscribe();
      await this.clients?.closeAll();
      await this.upstream.stop();
      if (!nc.isClosed()) await nc.flush().catch(() => undefined);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Drains a subscription: messages the server sent before the unsubscribe are still handled. */
async function drain(sub: Subscription | undefined): Promise<void> {
  await sub?.drain();
}

/** Built once: deriving a zod schema per call cost 14-18% of the bridge's CPU (docs/performance.md). */
const BODY_SCHEMA = CallRequestSchema.partial({ method: true });

function parseBody(msg: Msg): { params?: Record<string, unknown> } {
  let value: unknown;
  try {
    value = msg.data.length === 0 ? {} : JSON.parse(decoder.decode(msg.data));
  } catch {
    throw new MeshError('MESH_PARSE_ERROR', 'the mesh request body is not valid JSON');
  }
  const parsed = BODY_SCHEMA.safeParse(value);
  if (!parsed.success) throw new MeshError('MESH_INVALID_PARAMS', `the mesh request body is malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The reply subject a call's frames go to (it moves when a held call is resumed) and its canceller. */
interface CallRoute {
  reply: string | undefined;
  abort?: AbortController;
}

function withServer(error: WireError, server: string): WireError {
  const data = (error.data ?? {}) as Record<string, unknown>;
  return { ...error, data: { ...data, server } };
}
