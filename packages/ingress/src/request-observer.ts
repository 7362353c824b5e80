import { performance } from 'node:perf_hooks';
import { context, propagation, SpanKind, trace, type Context, type Span, type SpanContext } from '@opentelemetry/api';
import { ProtocolError } from '@modelcontextprotocol/server';
import { AuditOutcome, argsDigest, meshCodeOf, newAuditEventId, type AuditEvent, type AuditSink } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import {
  Attr,
  endSpan,
  extractContext,
  mcpSpanName,
  meshTracer,
  targetAttributes,
  targetOf,
  traceFields,
  type MeshMetrics,
} from '@mcp-mesh/telemetry';

/** What a handler learns while serving one request, for its span, metrics, log line and audit event. */
export interface RequestNote {
  server?: string;
  /** Tool or prompt name as the server knows it, or the resource URI. */
  target?: string;
  stats: { bytes?: number; instance?: string };
  /** Answered from the response cache. */
  cached?: boolean;
  /** Work left for after the answer (token accounting); the observer runs it first when the request finishes. */
  afterAnswer?: () => void;
}

export interface ObserverOptions {
  logger: Logger;
  metrics: MeshMetrics;
  audit: AuditSink | undefined;
  includeArguments: boolean;
  endpoint: string;
  principal: string;
  /** The API key id that authenticated the principal, when one did. */
  keyId?: string | undefined;
  /** Called once per finished request (the console's live view). Never throws into the request. */
  onFinished?: (request: FinishedRequest) => void;
}

/** A finished request, as the live view sees it. */
export interface FinishedRequest {
  time: number;
  endpoint: string;
  principal: string;
  method: string;
  server: string | undefined;
  target: string | undefined;
  outcome: 'ok' | 'tool_error' | 'error' | 'denied';
  errorCode: string | undefined;
  latencyMs: number;
  traceId: string | undefined;
}

/** Mesh codes that mean the gateway policy refused the request (audited as `policy.denial`). */
const DENIALS: ReadonlySet<string> = new Set([
  'MESH_FORBIDDEN',
  'MESH_RATE_LIMITED',
  'MESH_TOKEN_BUDGET_EXCEEDED',
  'MESH_OVERLOADED',
  'MESH_CIRCUIT_OPEN',
]);

const headerGetter = {
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
  keys: (carrier: Headers) => [...carrier.keys()],
};

/**
 * Observes every request a session serves: one SERVER span (continuing the client's
 * `traceparent` from `_meta` or the HTTP headers), the duration histogram, one log line and one
 * audit event. Telemetry failures never fail the request.
 */
export class RequestObserver {
  constructor(private readonly options: ObserverOptions) {}

  async observe<R>(
    method: string,
    params: Record<string, unknown> | undefined,
    request: { sessionId?: string; requestId: string | number; httpHeaders?: Headers },
    work: (note: RequestNote, ctx: Context) => Promise<R>,
  ): Promise<R> {
    const started = performance.now();
    const parent = extractContext(params?._meta as Record<string, unknown> | undefined, () =>
      request.httpHeaders ? propagation.extract(context.active(), request.httpHeaders, headerGetter) : context.active(),
    );
    const target = targetOf(method, params);
    const span = meshTracer().startSpan(mcpSpanName(method, target), { kind: SpanKind.SERVER }, parent);
    // Attributes only for a recording span: with tracing off the hot path builds none.
    if (span.isRecording()) {
      span.setAttributes({
        [Attr.McpMethodName]: method,
        [Attr.JsonRpcRequestId]: String(request.requestId),
        [Attr.NetworkTransport]: 'tcp',
        [Attr.MeshPrincipal]: this.options.principal,
        ...(request.sessionId ? { [Attr.McpSessionId]: request.sessionId } : {}),
        ...targetAttributes(method, params),
      });
    }
    const ctx = trace.setSpan(parent, span);
    const note: RequestNote = { stats: {} };
    this.options.metrics.inFlight.add(1, { [Attr.McpMethodName]: method });
    try {
      const result = await context.with(ctx, () => work(note, ctx));
      this.finish(method, params, request, note, span, started, { result: result as Record<string, unknown> });
      return result;
    } catch (error) {
      const code = error instanceof ProtocolError ? error.code : -32603;
      const wire = error instanceof ProtocolError ? { code, message: error.message, data: error.data } : { code, message: String(error) };
      this.finish(method, params, request, note, span, started, { errorCode: code, meshCode: meshCodeOf(wire), message: wire.message });
      throw error;
    } finally {
      this.options.metrics.inFlight.add(-1, { [Attr.McpMethodName]: method });
    }
  }

  private finish(
    method: string,
    params: Record<string, unknown> | undefined,
    request: { sessionId?: string; requestId: string | number },
    note: RequestNote,
    span: Span,
    started: number,
    outcome: { result?: Record<string, unknown>; errorCode?: number; meshCode?: string | undefined; message?: string },
  ): void {
    if (note.afterAnswer) {
      try {
        note.afterAnswer();
      } catch (error) {
        this.options.logger.warn({ err: error, method }, 'accounting after the answer failed');
      }
    }
    // As before token accounting moved here: the duration includes it (the SDK path's client waits for it).
    const latencyMs = performance.now() - started;
    const toolError = outcome.result?.isError === true;
    const denied = outcome.meshCode !== undefined && DENIALS.has(outcome.meshCode);
    const status: AuditEvent['outcome'] = denied
      ? AuditOutcome.Denied
      : outcome.errorCode !== undefined
        ? AuditOutcome.Error
        : toolError
          ? AuditOutcome.ToolError
          : AuditOutcome.Ok;
    const errorCode = outcome.meshCode ?? (outcome.errorCode !== undefined ? `jsonrpc:${outcome.errorCode}` : undefined);
    try {
      if (note.server) span.setAttribute(Attr.MeshServer, note.server);
      if (note.stats.instance) span.setAttribute(Attr.MeshInstance, note.stats.instance);
      if (outcome.meshCode) span.setAttribute(Attr.MeshErrorCode, outcome.meshCode);
      const spanContext = span.spanContext();
      endSpan(span, {
        ...(outcome.result ? { result: outcome.result } : {}),
        ...(outcome.errorCode !== undefined
          ? { errorCode: outcome.errorCode, errorType: outcome.meshCode ?? String(outcome.errorCode) }
          : {}),
        ...(outcome.message ? { message: outcome.message } : {}),
      });
      const attributes = {
        [Attr.McpMethodName]: method,
        ...(note.server ? { [Attr.MeshServer]: note.server } : {}),
        ...(method === 'tools/call' && note.target ? { [Attr.GenAiToolName]: note.target } : {}),
        ...(status !== AuditOutcome.Ok ? { [Attr.ErrorType]: errorCode ?? 'tool_error' } : {}),
      };
      this.options.metrics.record(this.options.metrics.serverDuration, latencyMs / 1_000, attributes);
      if (method === 'tools/call') this.options.metrics.toolCalls.add(1, attributes);
      if (denied)
        this.options.metrics.policyDenials.add(1, {
          [Attr.MeshErrorCode]: outcome.meshCode!,
          ...(note.server ? { [Attr.MeshServer]: note.server } : {}),
        });
      this.options.logger.info(
        {
          ...traceFields(trace.setSpan(context.active(), span)),
          method,
          server: note.server,
          target: note.target,
          outcome: status,
          errorCode,
          latencyMs: Math.round(latencyMs * 1_000) / 1_000,
          session: request.sessionId,
          ...(note.cached ? { cached: true } : {}),
        },
        'mcp request',
      );
      this.options.onFinished?.({
        time: Date.now(),
        endpoint: this.options.endpoint,
        principal: this.options.principal,
        method,
        server: note.server,
        target: note.target,
        outcome: status,
        errorCode,
        latencyMs,
        traceId: trace.isSpanContextValid(spanContext) ? spanContext.traceId : undefined,
      });
      if (this.options.audit)
        this.audit(this.options.audit, method, params, request, note, spanContext, { denied, status, errorCode, latencyMs });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'telemetry for a request failed');
    }
  }

  /**
   * The request's audit event. On every call's path, so built plainly: one clock read for id and
   * time, fields assigned in schema order (the JSON keeps that order) instead of spread objects.
   */
  private audit(
    sink: AuditSink,
    method: string,
    params: Record<string, unknown> | undefined,
    request: { sessionId?: string },
    note: RequestNote,
    spanContext: SpanContext,
    outcome: { denied: boolean; status: AuditEvent['outcome']; errorCode: string | undefined; latencyMs: number },
  ): void {
    const now = Date.now();
    // `outcome` is assigned below, in its place in the key order.
    const event = {
      v: 1,
      id: newAuditEventId(now),
      time: new Date(now).toISOString(),
      kind: outcome.denied ? 'policy.denial' : 'request',
    } as AuditEvent;
    if (trace.isSpanContextValid(spanContext)) {
      event.traceId = spanContext.traceId;
      event.spanId = spanContext.spanId;
    }
    if (request.sessionId) event.session = request.sessionId;
    event.principal = this.options.principal;
    if (this.options.keyId) event.keyId = this.options.keyId;
    event.endpoint = this.options.endpoint;
    if (note.server) event.server = note.server;
    event.method = method;
    if (note.target) event.target = note.target;
    const args = method === 'tools/call' || method === 'prompts/get' ? params?.arguments : undefined;
    if (args !== undefined) {
      event.argsDigest = argsDigest(args);
      if (this.options.includeArguments) event.args = args;
    }
    event.outcome = outcome.status;
    if (outcome.errorCode) event.errorCode = outcome.errorCode;
    event.latencyMs = Math.round(outcome.latencyMs * 1_000) / 1_000;
    event.bytesIn = params ? Buffer.byteLength(JSON.stringify(params)) : 0;
    if (note.stats.bytes !== undefined) event.bytesOut = note.stats.bytes;
    sink.record(event);
  }
}
