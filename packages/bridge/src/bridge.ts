import { randomUUID } from 'node:crypto';
import { headers as natsHeaders, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { Svcm, type Service, type ServiceMsg } from '@nats-io/services';
import {
  BridgeDescriptorSchema,
  CallRequestSchema,
  ForwardedMethods,
  FrameKind,
  MeshError,
  MeshHeader,
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
import type { UpstreamNotification } from './upstream-session.js';

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
  private readonly metrics = new MeshMetrics();

  constructor(private readonly options: BridgeOptions) {
    this.instance = `${options.server}-${randomUUID().slice(0, 8)}`;
    this.subjects = new Subjects(options.prefix);
    this.heartbeatMs = options.heartbeatMs ?? 1_000;
    this.upstream = new Upstream({
      server: options.server,
      config: options.config,
      logger: options.logger.child({ component: 'upstream' }),
      parentEnv: options.parentEnv ?? process.env,
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
  }

  /** Starts the upstream, then serves it on NATS and announces it. */
  async start(): Promise<void> {
    const { nc, server } = this.options;
    this.upstream.on('change', () => this.announce(RegistryKind.Announce));
    this.upstream.on('restart', () => this.metrics.upstreamRestarts.add(1, { [Attr.MeshServer]: server }));
    this.upstream.on('notification', (notification) => this.publishNotification(notification));
    await this.upstream.start();
    this.service = await new Svcm(nc).add({
      name: `mcp-${server}`,
      version: '0.1.0',
      description: `mcp-mesh bridge for MCP server '${server}'`,
      metadata: { server, instance: this.instance, upstream: this.upstream.target.target.slice(0, 200) },
      queue: this.subjects.queueGroup(server),
    });
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
    return BridgeDescriptorSchema.parse({
      v: 1,
      server: this.options.server,
      instance: this.instance,
      state: this.draining ? 'draining' : this.upstream.state,
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
    if (!this.service || nc.isClosed() || nc.isDraining()) return;
    nc.publish(this.subjects.registry(kind), encoder.encode(JSON.stringify(this.descriptor())));
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
    const consumer = tracer.startSpan(
      `process ${msg.subject}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          [Attr.MessagingSystem]: MESSAGING_SYSTEM,
          [Attr.MessagingDestinationName]: msg.subject,
          [Attr.MessagingOperationName]: 'process',
          [Attr.MessagingOperationType]: 'process',
          [Attr.MessagingConsumerGroupName]: this.subjects.queueGroup(this.options.server),
          [Attr.MeshServer]: this.options.server,
          [Attr.MeshInstance]: this.instance,
        },
      },
      parent,
    );
    let upstreamSpan: Span | undefined;
    let outcome: Parameters<typeof endSpan>[1] = {};
    try {
      if (this.draining) throw new MeshError('MESH_BRIDGE_DRAINING', `bridge ${this.instance} is shutting down`);
      const body = parseBody(msg);
      const target = targetOf(method, body.params);
      upstreamSpan = tracer.startSpan(
        mcpSpanName(method, target),
        {
          kind: SpanKind.CLIENT,
          attributes: {
            [Attr.McpMethodName]: method,
            [Attr.MeshServer]: this.options.server,
            [Attr.NetworkTransport]: this.upstream.target.kind === 'stdio' ? 'pipe' : 'tcp',
            ...targetAttributes(method, body.params),
          },
        },
        trace.setSpan(parent, consumer),
      );
      // The upstream server sees the mesh's span as its parent, in `params._meta`.
      const params = injectIntoParams(trace.setSpan(parent, upstreamSpan), body.params);
      const reply = await this.upstream.request(method, params, {
        deadline: Math.min(deadline, Date.now() + (this.options.config.timeoutMs ?? Number.POSITIVE_INFINITY)),
        onNotification: (notification) => {
          upstreamSpan?.addEvent(notification.method);
          this.respond(msg, FrameKind.Notification, { notification });
        },
      });
      if ('error' in reply) {
        outcome = { errorCode: reply.error.code, message: reply.error.message };
        this.respond(msg, FrameKind.Error, { error: reply.error });
      } else {
        outcome = { result: reply.result };
        this.respond(msg, FrameKind.Result, { result: reply.result });
      }
    } catch (error) {
      const meshError =
        error instanceof MeshError ? error : new MeshError('MESH_INTERNAL', 'the bridge failed to forward the call', { cause: error });
      if (!(error instanceof MeshError)) {
        this.options.logger.error({ err: error, method, ...traceFields(trace.setSpan(parent, consumer)) }, 'unexpected bridge failure');
      }
      outcome = { errorCode: meshError.jsonRpcCode, errorType: meshError.code, message: meshError.message };
      this.respond(msg, FrameKind.Error, { error: withServer(meshError.toWire(), this.options.server) }, meshError.code);
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

  private respond(msg: Msg, frame: FrameKind, body: unknown, errorCode?: string): void {
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
   * Drains: stops taking calls (the service stops), lets in-flight calls finish, says goodbye,
   * then stops the upstream. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.draining = true;
      clearInterval(this.heartbeat);
      this.discoverSub?.unsubscribe();
      const nc = this.options.nc;
      if (!nc.isClosed()) {
        nc.publish(
          this.subjects.registry(RegistryKind.Bye),
          encoder.encode(JSON.stringify({ v: 1, server: this.options.server, instance: this.instance })),
        );
      }
      await this.service?.stop().catch(() => undefined);
      await Promise.allSettled([...this.active]);
      await this.upstream.stop();
      if (!nc.isClosed()) await nc.flush().catch(() => undefined);
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function parseBody(msg: Msg): { params?: Record<string, unknown> } {
  let value: unknown;
  try {
    value = msg.data.length === 0 ? {} : JSON.parse(decoder.decode(msg.data));
  } catch {
    throw new MeshError('MESH_PARSE_ERROR', 'the mesh request body is not valid JSON');
  }
  const parsed = CallRequestSchema.partial({ method: true }).safeParse(value);
  if (!parsed.success) throw new MeshError('MESH_INVALID_PARAMS', `the mesh request body is malformed: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function withServer(error: WireError, server: string): WireError {
  const data = (error.data ?? {}) as Record<string, unknown>;
  return { ...error, data: { ...data, server } };
}
