import type { IncomingMessage, ServerResponse } from 'node:http';
import { ProtocolError } from '@modelcontextprotocol/server';
import type { NodeMcpRequestHandler } from '@modelcontextprotocol/node';
import type { Logger } from '@mcp-mesh/runtime';
import { sendJson } from './http-io.js';
import type { CallContext, FastPath } from './session-server.js';

/** What the fast path needs of a session. */
export interface FastSession {
  readonly id: string;
  readonly fastPath: FastPath;
  /** The SDK transport's handler: takes over a request once it streams. */
  readonly handle: NodeMcpRequestHandler;
  /** Fast-path requests in flight, by JSON-RPC id: `notifications/cancelled` aborts them. */
  readonly fastCalls: Map<string | number, AbortController>;
}

interface ToolsCall {
  id: string | number;
  params?: Record<string, unknown>;
}

/**
 * Whether the fast path may answer this in-session POST: a `tools/call` request that did not ask
 * for progress, from a client that accepts both JSON and SSE (as the transport requires). Anything
 * else goes to the SDK transport.
 */
export function fastEligible(req: IncomingMessage, body: unknown, session: FastSession): body is ToolsCall {
  const message = body as { method?: unknown; id?: unknown; params?: { _meta?: { progressToken?: unknown } } };
  if (message.method !== 'tools/call' || message.id === undefined || !session.fastPath.callTool) return false;
  if (message.params?._meta?.progressToken !== undefined) return false;
  if (session.fastCalls.has(message.id as string | number)) return false;
  const accept = req.headers.accept ?? '';
  const type = req.headers['content-type'] ?? '';
  return accept.includes('application/json') && accept.includes('text/event-stream') && type.includes('application/json');
}

/** Only the W3C trace headers, when the client sent them (the observer continues that trace). */
function traceHeaders(req: IncomingMessage): Headers | undefined {
  const traceparent = req.headers.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  const tracestate = req.headers.tracestate;
  return new Headers(typeof tracestate === 'string' ? { traceparent, tracestate } : { traceparent });
}

function wireError(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof ProtocolError)
    return { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) };
  return { code: -32603, message: error instanceof Error ? error.message : String(error) };
}

/**
 * Serves a `tools/call` inside a session without the SDK transport: one NATS request, and the
 * answer as one `application/json` response. Policy, routing, telemetry and audit are the
 * session's own (`FastPath.callTool`). When the call starts to stream (a notification or a
 * server->client request arrives first, or the SSE polling time passes), the request is handed
 * to the SDK transport, which answers on an SSE stream with resumable events; the call in flight
 * is adopted, not repeated.
 */
export function serveFast(
  session: FastSession,
  req: IncomingMessage,
  res: ServerResponse,
  body: ToolsCall,
  options: { logger: Logger; closeSseAfterMs?: number | undefined },
): void {
  const { id } = body;
  const controller = new AbortController();
  session.fastCalls.set(id, controller);
  let escalated = false;
  let bound: CallContext | undefined;
  const queued: ((ctx: CallContext) => void)[] = [];
  let poller: NodeJS.Timeout | undefined;

  const onClose = () => {
    if (!res.writableFinished && !escalated) controller.abort(new Error('the client closed the connection'));
  };
  res.once('close', onClose);

  let answered = false;
  const escalate = () => {
    if (escalated || answered) return;
    escalated = true;
    res.off('close', onClose);
    session.fastPath.adopted.set(id, {
      result,
      bind: (ctx) => {
        bound = ctx;
        ctx.signal.addEventListener('abort', () => controller.abort(ctx.signal.reason), { once: true });
        for (const deliver of queued.splice(0)) deliver(ctx);
        if (options.closeSseAfterMs && ctx.closeSSE) {
          const close = ctx.closeSSE;
          poller = setTimeout(() => close(), options.closeSseAfterMs);
        }
      },
    });
    session.handle(req as never, res as never, body).then(
      () => {
        // The transport refused the request before its handler ran: nothing will answer it.
        if (session.fastPath.adopted.delete(id)) {
          options.logger.warn({ session: session.id, id }, 'a streaming tools/call was refused by the session transport');
          controller.abort(new Error('the session transport refused the request'));
        }
      },
      (error: unknown) => {
        session.fastPath.adopted.delete(id);
        controller.abort(error);
        options.logger.error({ err: error, session: session.id }, 'handing a streaming tools/call to the session transport failed');
      },
    );
  };

  const call: CallContext = {
    signal: controller.signal,
    sessionId: session.id,
    notify: (notification) => {
      if (bound) return bound.notify(notification);
      queued.push((ctx) => ctx.notify(notification));
      escalate();
    },
    send: (request) => {
      if (bound) return bound.send(request);
      const answer = new Promise<Record<string, unknown>>((resolve, reject) =>
        queued.push((ctx) => void ctx.send(request).then(resolve, reject)),
      );
      escalate();
      return answer;
    },
    closeSSE: undefined,
  };

  // SSE polling: a call still running after the polling time moves to a stream the ingress closes.
  const switchToSse = options.closeSseAfterMs ? setTimeout(escalate, options.closeSseAfterMs) : undefined;
  const respond = (value: Record<string, unknown>) => {
    answered = true;
    clearTimeout(switchToSse);
    if (!escalated) sendJson(res, 200, { jsonrpc: '2.0', id, result: value }, { 'mcp-session-id': session.id });
  };
  const result = session.fastPath.callTool!(id, body.params, call, traceHeaders(req), respond);
  const done = () => {
    session.fastCalls.delete(id);
    clearTimeout(switchToSse);
    clearTimeout(poller);
  };
  result.then(
    () => done(),
    (error: unknown) => {
      done();
      if (!escalated) sendJson(res, 200, { jsonrpc: '2.0', id, error: wireError(error) }, { 'mcp-session-id': session.id });
    },
  );
}
