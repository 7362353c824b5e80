import { SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { Attr, CLIENT_ERROR_CODES } from './semconv.js';

export const INSTRUMENTATION_NAME = 'mcp-mesh';
export const INSTRUMENTATION_VERSION = '0.1.0';

export function meshTracer(): Tracer {
  return trace.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
}

/** `{mcp.method.name} {target}`, the span name the MCP conventions ask for. */
export function mcpSpanName(method: string, target: string | undefined): string {
  return target ? `${method} ${target}` : method;
}

/** The name attribute for a request's target: tool, prompt or resource. */
export function targetAttributes(method: string, params: Record<string, unknown> | undefined): Record<string, string> {
  const name = typeof params?.name === 'string' ? params.name : undefined;
  if (method === 'tools/call' && name) return { [Attr.GenAiToolName]: name, [Attr.GenAiOperationName]: 'execute_tool' };
  if (method === 'prompts/get' && name) return { [Attr.GenAiPromptName]: name };
  if (typeof params?.uri === 'string') return { [Attr.McpResourceUri]: params.uri };
  return {};
}

export function targetOf(method: string, params: Record<string, unknown> | undefined): string | undefined {
  if ((method === 'tools/call' || method === 'prompts/get') && typeof params?.name === 'string') return params.name;
  return undefined;
}

/**
 * Ends a span for a JSON-RPC outcome. Tool results with `isError` are `tool_error`; client-fault
 * JSON-RPC codes are recorded but do not mark the span as a server error. Never throws.
 */
export function endSpan(
  span: Span,
  outcome: { result?: Record<string, unknown>; errorCode?: number; errorType?: string; message?: string },
): void {
  try {
    if (outcome.errorCode !== undefined) {
      span.setAttribute(Attr.RpcResponseStatusCode, String(outcome.errorCode));
      span.setAttribute(Attr.ErrorType, outcome.errorType ?? String(outcome.errorCode));
      if (!CLIENT_ERROR_CODES.has(outcome.errorCode)) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.message ?? '' });
    } else if (outcome.result?.isError === true) {
      span.setAttribute(Attr.ErrorType, 'tool_error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool_error' });
    }
    span.end();
  } catch {
    // Telemetry never breaks a call.
  }
}
