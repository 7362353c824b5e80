/**
 * The console's JSON API, shared by the server (src/) and the browser bundle (web/). Types only:
 * nothing here exists at run time, so the browser bundle imports no server code.
 */

/** GET /api/config */
export interface ConsoleConfig {
  principal: string;
  roles: readonly string[];
  /** Base URL of a Jaeger UI: an event's trace is `<jaegerUrl>/trace/<traceId>`. */
  jaegerUrl: string | null;
  /** The sliding window the live numbers cover, milliseconds. */
  windowMs: number;
}

export const ServerHealth = {
  /** Every replica ready. */
  Healthy: 'healthy',
  /** Some replicas ready, others starting, restarting their upstream or draining. */
  Degraded: 'degraded',
  /** No replica ready, but one is starting or restarting its upstream (calls wait for it). */
  Restarting: 'restarting',
  /** The circuit breaker is open: calls fail fast. */
  BreakerOpen: 'breaker-open',
  /** No replica takes calls. */
  Down: 'down',
} as const;
export type ServerHealth = (typeof ServerHealth)[keyof typeof ServerHealth];

export interface ReplicaView {
  instance: string;
  state: 'starting' | 'ready' | 'upstream-down' | 'draining';
  restarts: number;
  inFlight: number;
  startedAt: string;
  upstream: 'stdio' | 'http';
  sessionMode: 'shared' | 'per-client' | null;
}

/** What changes while the page is open: sent with every `stats` event. */
export interface ServerSummary {
  name: string;
  health: ServerHealth;
  breaker: string | null;
  replicas: ReplicaView[];
  /** Changes whenever a list of the server changes (the page then refetches the catalog). */
  listsVersion: string;
}

export interface ToolView {
  name: string;
  title?: string;
  description?: string;
  inputSchema?: unknown;
  outputSchema?: unknown;
  annotations?: unknown;
}

export interface PromptView {
  name: string;
  title?: string;
  description?: string;
  arguments?: unknown;
}

export interface ResourceView {
  uri?: string;
  uriTemplate?: string;
  name?: string;
  description?: string;
  mimeType?: string;
}

/** GET /api/catalog: one entry per server the caller may see. */
export interface CatalogServer extends ServerSummary {
  serverInfo: { name: string; version: string; title?: string } | null;
  protocolVersion: string | null;
  capabilities: Record<string, unknown>;
  instructions: string | null;
  tools: ToolView[];
  prompts: PromptView[];
  resources: ResourceView[];
  resourceTemplates: ResourceView[];
  /** Lists that could not be fetched, with why. */
  listErrors: Partial<Record<'tools' | 'prompts' | 'resources' | 'resourceTemplates', string>>;
}

export interface CatalogResponse {
  servers: CatalogServer[];
}

/** Numbers over the sliding window, for one server (or `(mesh)` for requests no single server served). */
export interface WindowStats {
  /** Requests finished in the window. */
  count: number;
  /** Requests per second over the part of the window the console has seen. */
  ratePerSecond: number;
  /** 95th percentile latency (nearest rank, within 4%), milliseconds; null without requests. */
  p95Ms: number | null;
  /** Share of requests that did not end `ok` (errors, tool errors, denials), 0..1; as the Prometheus alert counts. */
  errorRate: number;
  errors: number;
  toolErrors: number;
  denied: number;
}

/** The SSE `stats` event of GET /api/live, once a second. */
export interface LiveStats {
  time: number;
  windowMs: number;
  servers: ServerSummary[];
  /** Keyed by server name; `(mesh)` for requests of `/mcp` that no single server served (aggregated lists). */
  stats: Record<string, WindowStats>;
  /** Breaker state per server, when breakers are configured. */
  breakers: Record<string, string>;
}

/** The SSE `audit-status` event: whether the audit tail is reading the stream. */
export interface AuditStatus {
  state: 'live' | 'unavailable';
  message?: string;
}

/** POST /api/call */
export interface CallRequest {
  server: string;
  tool: string;
  arguments?: Record<string, unknown>;
}

export interface CallResponse {
  /** `ok` and `tool_error` carry the tool's result; `error` a JSON-RPC error. */
  outcome: 'ok' | 'tool_error' | 'error';
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  latencyMs: number;
}

/** Every 4xx/5xx of the API. */
export interface ApiError {
  error: { code: string; message: string; issues?: string[] };
}
