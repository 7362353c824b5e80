/**
 * The mesh's error-code registry. Every failure the mesh reports has a stable string code, a
 * JSON-RPC code for the wire and an HTTP status for places that answer over HTTP directly.
 * docs/errors.md lists the same table; a test keeps the two in sync.
 */

export const JsonRpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

interface CodeInfo {
  readonly jsonRpc: number;
  readonly http: number;
  readonly summary: string;
}

export const ErrorCodes = {
  MESH_PARSE_ERROR: { jsonRpc: JsonRpcCode.ParseError, http: 400, summary: 'The body is not valid JSON.' },
  MESH_INVALID_REQUEST: { jsonRpc: JsonRpcCode.InvalidRequest, http: 400, summary: 'The message is not a valid JSON-RPC request.' },
  MESH_METHOD_NOT_FOUND: {
    jsonRpc: JsonRpcCode.MethodNotFound,
    http: 200,
    summary: 'The method is not carried by the mesh or not offered by the server.',
  },
  MESH_INVALID_PARAMS: { jsonRpc: JsonRpcCode.InvalidParams, http: 200, summary: 'The params do not have the shape the method requires.' },
  MESH_UNKNOWN_SERVER: { jsonRpc: JsonRpcCode.InvalidParams, http: 404, summary: 'No server of that name is known to the mesh.' },
  MESH_SESSION_NOT_FOUND: {
    jsonRpc: -32001,
    http: 404,
    summary: 'The Mcp-Session-Id is unknown or expired on this endpoint: initialize a new session.',
  },
  MESH_SESSION_REQUIRED: {
    jsonRpc: JsonRpcCode.InvalidRequest,
    http: 400,
    summary: 'A request without Mcp-Session-Id that is not initialize (2025 era): send initialize first.',
  },
  MESH_METHOD_NOT_ALLOWED: { jsonRpc: JsonRpcCode.InvalidRequest, http: 405, summary: 'The HTTP method is not one MCP uses on this path.' },
  MESH_INGRESS_DRAINING: {
    jsonRpc: -32024,
    http: 503,
    summary: 'The ingress is shutting down: it finishes calls in flight and takes no new ones; retry on another replica.',
  },
  MESH_UNKNOWN_VIEW: { jsonRpc: JsonRpcCode.InvalidParams, http: 404, summary: 'No view of that name is configured.' },
  MESH_UNKNOWN_TOOL: { jsonRpc: JsonRpcCode.InvalidParams, http: 200, summary: 'No live server offers a tool of that name.' },
  MESH_UNKNOWN_PROMPT: { jsonRpc: JsonRpcCode.InvalidParams, http: 200, summary: 'No live server offers a prompt of that name.' },
  // MCP's -32002 for an unknown resource reaches clients as -32602: the SDK maps it.
  MESH_UNKNOWN_RESOURCE: { jsonRpc: JsonRpcCode.InvalidParams, http: 200, summary: 'No live server offers a resource with that URI.' },
  MESH_SERVER_UNAVAILABLE: { jsonRpc: -32010, http: 503, summary: 'The server has no live bridge: nothing answered on its subject.' },
  MESH_UPSTREAM_TIMEOUT: {
    jsonRpc: -32011,
    http: 504,
    summary: 'The upstream server did not answer before the deadline; the call was cancelled upstream.',
  },
  MESH_UPSTREAM_CRASHED: { jsonRpc: -32012, http: 502, summary: 'The upstream server exited while the call was in flight.' },
  MESH_UPSTREAM_UNAVAILABLE: {
    jsonRpc: -32013,
    http: 503,
    summary: 'The bridge is live but its upstream server is not running (starting or restarting).',
  },
  MESH_BRIDGE_DRAINING: { jsonRpc: -32014, http: 503, summary: 'The bridge is shutting down and takes no new calls.' },
  MESH_PAYLOAD_TOO_LARGE: { jsonRpc: -32015, http: 413, summary: 'The message exceeds the NATS maximum payload.' },
  MESH_BUS_UNAVAILABLE: { jsonRpc: -32016, http: 503, summary: 'The ingress has no connection to NATS.' },
  MESH_INVALID_CONFIG: { jsonRpc: JsonRpcCode.InternalError, http: 500, summary: 'A configuration file or option is invalid.' },
  MESH_NATS_UNREACHABLE: { jsonRpc: JsonRpcCode.InternalError, http: 500, summary: 'No NATS server answered at the configured URL.' },
  MESH_INTERNAL: { jsonRpc: JsonRpcCode.InternalError, http: 500, summary: 'An unexpected failure inside the mesh.' },
  MESH_UNAUTHENTICATED: {
    jsonRpc: -32017,
    http: 401,
    summary: 'No valid credential was given; the WWW-Authenticate challenge says how to get one.',
  },
  MESH_FORBIDDEN: {
    jsonRpc: -32018,
    http: 403,
    summary: 'The principal may not use this server, tool, prompt or resource; the error names the rule.',
  },
  MESH_RATE_LIMITED: {
    jsonRpc: -32019,
    http: 429,
    summary: 'A rate limit is exhausted; retryAfterMs says when a call will be accepted again.',
  },
  // -32020..-32022 belong to MCP 2026-07-28 (HeaderMismatch, MissingRequiredClientCapability,
  // UnsupportedProtocolVersion): the mesh's own policy codes sit at the far end of the range.
  MESH_OVERLOADED: { jsonRpc: -32090, http: 503, summary: 'The server has its maximum of calls in flight and its queue is full.' },
  MESH_CIRCUIT_OPEN: {
    jsonRpc: -32091,
    http: 503,
    summary: 'The circuit breaker of the server is open after repeated failures; calls fail fast.',
  },
  MESH_TOKEN_BUDGET_EXCEEDED: { jsonRpc: -32092, http: 429, summary: "The principal's token budget for the current window is spent." },
  MESH_AUTH_UNAVAILABLE: {
    jsonRpc: -32023,
    http: 503,
    summary: "The identity provider's keys could not be fetched, so the token could not be checked.",
  },
  MESH_JSON_TOO_DEEP: {
    jsonRpc: JsonRpcCode.InvalidRequest,
    http: 400,
    summary: 'The message nests arrays and objects deeper than the limit.',
  },
  MESH_HEADERS_TOO_LARGE: {
    jsonRpc: JsonRpcCode.InvalidRequest,
    http: 431,
    summary: 'The request has too many headers or a header that is too large.',
  },
  MESH_INPUT_STATE_INVALID: {
    jsonRpc: JsonRpcCode.InvalidParams,
    http: 200,
    summary: "A retry's mesh-issued requestState is malformed, for another request, expired or already answered.",
  },
  // MCP 2026-07-28's HeaderMismatch code (SEP-2243), which modern clients know by number.
  MESH_PARAM_HEADER_MISMATCH: {
    jsonRpc: -32020,
    http: 400,
    summary: 'A 2026-07-28 Mcp-Param-* header is missing, badly encoded or disagrees with the tool argument it mirrors.',
  },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ErrorCodes;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ErrorCodes, value);
}

/** A JSON-RPC error object as it crosses the wire. */
export interface WireError {
  code: number;
  message: string;
  data?: unknown;
}

/**
 * The mesh's own error. `code` is a stable string; `toWire()` gives the JSON-RPC form, which
 * never carries a stack trace.
 */
export class MeshError extends Error {
  override readonly name = 'MeshError';
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get jsonRpcCode(): number {
    return ErrorCodes[this.code].jsonRpc;
  }

  get httpStatus(): number {
    return ErrorCodes[this.code].http;
  }

  toWire(): WireError {
    return { code: this.jsonRpcCode, message: this.message, data: { meshCode: this.code, ...this.details } };
  }
}

/** Reads the mesh code from a wire error's data, if it carries one. */
export function meshCodeOf(error: WireError): ErrorCode | undefined {
  const data = error.data;
  if (data !== null && typeof data === 'object' && 'meshCode' in data) {
    const code = (data as { meshCode: unknown }).meshCode;
    return isErrorCode(code) ? code : undefined;
  }
  return undefined;
}
