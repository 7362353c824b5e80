import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import {
  hostHeaderValidation,
  localhostHostValidation,
  localhostOriginValidation,
  originValidation,
  toNodeHandler,
  toWebRequest,
  type NodeMcpRequestHandler,
} from '@modelcontextprotocol/node';
import {
  createMcpHandler,
  isLegacyRequest,
  LATEST_PROTOCOL_VERSION,
  SUPPORTED_PROTOCOL_VERSIONS,
  WebStandardStreamableHTTPServerTransport,
  type McpHttpHandler,
  type Server,
} from '@modelcontextprotocol/server';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  JsonRpcCode,
  MeshError,
  MeshMethod,
  ListKinds,
  ListMethods,
  Subjects,
  newAuditEventId,
  modernRevisionOf,
  type AuditSink,
  type ListKind,
} from '@mcp-mesh/protocol';
import type { CacheRule, IngressConfig, Logger, ViewConfig } from '@mcp-mesh/runtime';
import { MeshMetrics } from '@mcp-mesh/telemetry';
import {
  AuthMethod,
  checkHeaders,
  checkJsonDepth,
  createPolicy,
  createTokenCounter,
  parsePolicyConfig,
  type Identity,
  type Policy,
  type TokenCounter,
} from '@mcp-mesh/policy';
import { Catalog } from './catalog.js';
import { readBody, sendJson, sendJsonRpcError, sendMeshError } from './http-io.js';
import { MeshClient } from './mesh-client.js';
import { Registry, type RegistryChange } from './registry.js';
import { scopeIncludes, scopeLabel, type Scope } from './scope.js';
import { RequestObserver, type FinishedRequest } from './request-observer.js';
import { createSessionServer, type FastPath, type SessionState } from './session-server.js';
import { fastEligible, serveFast } from './fast-path.js';
import { SessionStore, type SessionRecord } from './session-store.js';
import { LOG_LEVELS, paramsProblems } from './params-check.js';
import { paramHeaderProblem, withMethodNotFound404 } from './modern-http.js';
import { BoundedEventStore } from './event-store.js';
import { LegacySseSessions } from './legacy-sse.js';
import { ViewCatalog } from './view-catalog.js';
import { ResponseCache } from './response-cache.js';

export interface IngressOptions {
  nc: NatsConnection;
  config: IngressConfig;
  logger: Logger;
  prefix?: string;
  /** Idle client sessions are closed after this long, milliseconds. */
  sessionIdleMs?: number;
  /** How long start() waits for bridges to answer the discovery request, milliseconds. */
  discoverSettleMs?: number;
  /** Where audit events go (one per request and per session start/end); none when absent. */
  audit?: AuditSink;
  /** Store full tool/prompt arguments in audit events (default: only their digest). */
  auditArguments?: boolean;
  /** Serves `GET /metrics` (the Prometheus exporter's handler), when metrics are on. */
  metricsHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Gateway policy (auth, RBAC, limits, breakers, budgets); default: none configured, hostile-input limits only. */
  policy?: Policy;
  /** SSE events kept per session for resumption with Last-Event-ID (default 1000). */
  eventsPerSession?: number;
  /**
   * More HTTP routes behind the same guards and authentication (the web console): called for
   * every path that is not MCP, health or metrics; resolves true when it answered.
   */
  routes?: (path: string, req: IncomingMessage, res: ServerResponse, identity: Identity) => Promise<boolean>;
  /** Opt-in response cache rules per server (shared through NATS KV). */
  cache?: Readonly<Record<string, CacheRule>>;
  /** Named views served at `/views/<name>/mcp`. */
  views?: Readonly<Record<string, ViewConfig>>;
  /** Called once per finished MCP request (for live views). */
  onRequestFinished?: (request: FinishedRequest) => void;
}

const WELL_KNOWN_RESOURCE = '/.well-known/oauth-protected-resource';
/** Who calls when no authentication is configured. */
const ANONYMOUS: Identity = { principal: 'anonymous', roles: [], method: AuthMethod.Anonymous };
/** A list change relayed again (by another replica or path) within this long is the same change. */
const NOTICE_DEDUP_MS = 250;
const decoder = new TextDecoder();

/**
 * A path URL parsing would leave as it is: no dot segments, %-escapes, backslashes or other
 * characters it rewrites, and not `//…` (which URL parsing reads as a host).
 */
const PLAIN_PATH = /^\/(?!\/)[A-Za-z0-9_~\-/]*$/;

/** The path of a request target, as `new URL(target, base).pathname` gives it (without parsing the common plain case). */
export function pathOf(target: string): string {
  let end = target.length;
  const query = target.indexOf('?');
  if (query !== -1) end = query;
  const fragment = target.indexOf('#');
  if (fragment !== -1 && fragment < end) end = fragment;
  const path = end === target.length ? target : target.slice(0, end);
  return PLAIN_PATH.test(path) ? path : new URL(target, 'http://ingress').pathname;
}
/** The protocol version a session's initialize negotiates: the requested one when supported, else the latest. */
function negotiatedVersion(record: SessionRecord): string | undefined {
  const requested = (record.initialize.params as { protocolVersion?: unknown } | undefined)?.protocolVersion;
  if (typeof requested !== 'string') return undefined;
  return SUPPORTED_PROTOCOL_VERSIONS.includes(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

function newSessionState(): SessionState {
  return { subscriptions: new Map(), instances: new Map() };
}

interface Session {
  id: string;
  scope: Scope;
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  handle: NodeMcpRequestHandler;
  record: SessionRecord;
  identity: Identity;
  state: SessionState;
  lastSeen: number;
  startedAt: number;
  fastPath: FastPath;
  fastCalls: Map<string | number, AbortController>;
}

/** The shape of a JSON-RPC message, checked before a session exists (after that the SDK checks). */
const JsonRpcMessageSchema = z.object({
  jsonrpc: z.literal('2.0', { error: 'jsonrpc must be "2.0"' }),
  method: z.string({ error: 'method must be a string' }).optional(),
  id: z.union([z.string(), z.number().int()], { error: 'id must be a string or an integer' }).optional(),
  params: z.record(z.string(), z.unknown(), { error: 'params must be an object' }).optional(),
});

const SERVER_PATH = /^\/servers\/([^/]+)\/mcp\/?$/;
const VIEW_PATH = /^\/views\/([^/]+)\/mcp\/?$/;
/** The legacy HTTP+SSE transport: `/sse` + `/messages`, and the same under `/servers/<name>`. */
const LEGACY_PATH = /^(?:\/servers\/([^/]+))?\/(sse|messages)$/;

/**
 * The MCP front door: Streamable HTTP at `/mcp` (every live server, namespaced) and at
 * `/servers/<name>/mcp` (one server, its own names), plus `/healthz` and `/readyz`. One SDK
 * server and transport per client session; all server logic lives behind NATS.
 */
export class Ingress {
  readonly registry: Registry;
  readonly client: MeshClient;
  readonly catalog: Catalog;
  readonly sessionStore: SessionStore;
  readonly cache: ResponseCache;
  private readonly http: HttpServer;
  private readonly sessions = new Map<string, Session>();
  private readonly validateHost: (req: IncomingMessage, res: ServerResponse) => boolean;
  private readonly validateOrigin: (req: IncomingMessage, res: ServerResponse) => boolean;
  private sweeper: NodeJS.Timeout | undefined;
  private notifySub: Subscription | undefined;
  private sessionSub: Subscription | undefined;
  private readonly subjects: Subjects;
  private readonly recentNotices = new Map<string, number>();
  private readonly viewCatalogs = new Map<string, ViewCatalog>();
  /** Modern-era handlers, one per endpoint. */
  private readonly modern = new Map<string, { handler: McpHttpHandler; node: NodeMcpRequestHandler }>();
  private readonly legacySse = new LegacySseSessions((scope, identity) => this.buildServer(scope, identity, newSessionState()));
  private readonly metrics = new MeshMetrics();
  private policy: Policy | undefined;
  private tokens: TokenCounter | undefined;
  private started = false;
  /** False while the NATS connection is down (reconnecting). */
  private natsConnected = true;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: IngressOptions) {
    const subjects = new Subjects(options.prefix);
    this.subjects = subjects;
    const logger = options.logger;
    this.registry = new Registry(options.nc, subjects, logger.child({ component: 'registry' }));
    this.client = new MeshClient(options.nc, subjects, options.config.balance === 'least-in-flight' ? this.registry : undefined);
    this.catalog = new Catalog(this.registry, this.client, {
      separator: options.config.separator,
      listTimeoutMs: options.config.listTimeoutMs,
      logger: logger.child({ component: 'catalog' }),
    });
    this.registry.on('change', (change) => {
      // A server whose lists changed (or that left) may answer differently now.
      void this.cache.invalidate(change.server);
      this.notifySessions(change);
      this.notifyModern(change);
    });
    this.cache = new ResponseCache(options.nc, options.cache ?? {}, { logger, ...(options.prefix ? { prefix: options.prefix } : {}) });
    this.sessionStore = new SessionStore(options.nc, {
      ttlMs: options.sessionIdleMs ?? 30 * 60_000,
      logger,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
    const { allowedHosts, allowedOrigins } = options.config;
    this.validateHost = allowedHosts.length > 0 ? hostHeaderValidation(allowedHosts) : localhostHostValidation();
    this.validateOrigin = allowedOrigins.length > 0 ? originValidation(allowedOrigins) : localhostOriginValidation();
    // Header sections up to 64 KiB reach the policy's own (smaller, documented) limits.
    this.http = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
      this.route(req, res).catch((error: unknown) => {
        logger.error({ err: error, url: req.url }, 'unhandled error serving a request');
        sendJsonRpcError(res, 500, JsonRpcCode.InternalError, 'internal error in the mesh ingress');
      });
    });
    this.http.headersTimeout = 30_000;
    this.http.requestTimeout = 0;
  }

  /** Discovers live bridges, then listens. */
  async start(): Promise<void> {
    this.policy = this.options.policy ?? (await createPolicy(parsePolicyConfig({})));
    const policy = this.policy;
    // With token budgets the budgets' counter gives the metric its counts (session-server.ts).
    if (this.options.config.countTokens && !policy.tokenBudgets) this.tokens = await createTokenCounter();
    if (policy.breakers) this.metrics.observeBreakers(() => policy.breakers!.states());
    if (this.options.config.balance === 'least-in-flight')
      this.metrics.observeBalancer(() => this.client.balance(this.registry.liveServers()));
    await Promise.all([this.registry.start(this.options.discoverSettleMs), this.sessionStore.open(), this.cache.open()]);
    void (async () => {
      for await (const status of this.options.nc.status()) {
        if (status.type === 'disconnect') this.natsConnected = false;
        if (status.type === 'reconnect') this.natsConnected = true;
      }
    })().catch(() => undefined);
    this.notifySub = this.options.nc.subscribe(this.subjects.notifyAll(), {
      callback: (error, msg) => {
        if (!error) this.deliverNotification(msg.subject, msg.data);
      },
    });
    // Notifications of one client's own upstream (per-client servers) name its session.
    this.sessionSub = this.options.nc.subscribe(this.subjects.sessionAll(), {
      callback: (error, msg) => {
        if (!error) this.deliverNotification(msg.subject, msg.data, true);
      },
    });
    const { host, port } = this.options.config;
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const idleMs = this.options.sessionIdleMs ?? 30 * 60_000;
    this.sweeper = setInterval(() => this.sweepSessions(idleMs), Math.min(idleMs, 60_000));
    this.sweeper.unref();
    this.started = true;
    this.options.logger.info({ url: this.url, servers: this.registry.liveServers() }, 'ingress listening');
  }

  get url(): string {
    const address = this.http.address() as AddressInfo | null;
    if (!address) throw new Error('ingress is not listening');
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** The catalog of a configured view (built once). */
  private view(name: string): ViewCatalog | undefined {
    const config = this.options.views?.[name];
    if (!config) return undefined;
    let view = this.viewCatalogs.get(name);
    if (!view) {
      view = new ViewCatalog(name, config, this.catalog, {
        separator: this.options.config.separator,
        listTimeoutMs: this.options.config.listTimeoutMs,
      });
      this.viewCatalogs.set(name, view);
    }
    return view;
  }

  /** Breaker state per server (empty without breakers), for health views. */
  breakerStates(): Record<string, string> {
    return this.policy?.breakers?.states() ?? {};
  }

  /** The gateway policy in force (after start()). */
  get activePolicy(): Policy | undefined {
    return this.policy;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // An absolute-form target (RFC 9112 §3.2.2) is served like its path.
    if (req.url && !req.url.startsWith('/')) {
      try {
        const absolute = new URL(req.url);
        req.url = `${absolute.pathname}${absolute.search}`;
      } catch {
        return sendMeshError(res, new MeshError('MESH_INVALID_REQUEST', 'the request target is neither a path nor an absolute URL'));
      }
    }
    const path = pathOf(req.url ?? '/');
    try {
      await this.routePath(path, req, res);
    } catch (error) {
      if (error instanceof URIError) {
        return sendMeshError(res, new MeshError('MESH_INVALID_REQUEST', `the path has a malformed %-escape: ${path.slice(0, 200)}`), 400);
      }
      throw error;
    }
  }

  private async routePath(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/readyz') return this.readiness(res);
    if (path === '/metrics' && this.options.metricsHandler) return this.options.metricsHandler(req, res);
    if (path === WELL_KNOWN_RESOURCE || path.startsWith(`${WELL_KNOWN_RESOURCE}/`)) return this.protectedResource(path, req, res);
    let scope: Scope | undefined;
    const legacy = LEGACY_PATH.exec(path);
    if (path === '/mcp' || path === '/mcp/') scope = { kind: 'aggregate' };
    else if (legacy) scope = legacy[1] ? { kind: 'server', server: decodeURIComponent(legacy[1]) } : { kind: 'aggregate' };
    else if (VIEW_PATH.test(path)) {
      const name = decodeURIComponent(VIEW_PATH.exec(path)![1]!);
      const view = this.view(name);
      if (!view) {
        const known = Object.keys(this.options.views ?? {});
        return sendMeshError(
          res,
          new MeshError('MESH_UNKNOWN_VIEW', `unknown view '${name}' (views: ${known.join(', ') || 'none configured'})`, {
            details: { view: name },
          }),
        );
      }
      scope = { kind: 'view', view: name, servers: view.servers };
    } else {
      const match = SERVER_PATH.exec(path);
      if (match) scope = { kind: 'server', server: decodeURIComponent(match[1]!) };
      else if (!this.options.routes)
        return sendJson(res, 404, { error: `no route for ${path}: MCP is served at /mcp and /servers/<name>/mcp` });
    }
    if (!this.validateHost(req, res) || !this.validateOrigin(req, res)) return;
    if (this.closing && req.headers['mcp-session-id'] === undefined) {
      // Draining: calls in flight finish, new sessions go to another replica.
      return sendMeshError(res, new MeshError('MESH_INGRESS_DRAINING', 'this ingress is shutting down; retry on another replica'), 503);
    }
    const policy = this.policy!;
    let identity: Identity;
    try {
      checkHeaders(req.rawHeaders, policy.limits);
      identity = await this.authenticate(req);
    } catch (error) {
      if (!(error instanceof MeshError)) throw error;
      if (error.code === 'MESH_UNAUTHENTICATED') this.auditAuthFailure(scope ?? { kind: 'aggregate' }, error);
      const challenge = (error.details as { wwwAuthenticate?: string } | undefined)?.wwwAuthenticate;
      const wire = error.toWire();
      return sendJson(res, error.httpStatus, { jsonrpc: '2.0', id: null, error: wire }, challenge ? { 'www-authenticate': challenge } : {});
    }
    if (!scope) {
      if (await this.options.routes!(path, req, res, identity)) return;
      return sendJson(res, 404, { error: `no route for ${path}: MCP is served at /mcp and /servers/<name>/mcp` });
    }
    if (legacy) return this.serveLegacySse(scope, legacy[2] as 'sse' | 'messages', req, res, identity);
    await this.serveMcp(scope, req, res, identity);
  }

  private async serveLegacySse(
    scope: Scope,
    kind: 'sse' | 'messages',
    req: IncomingMessage,
    res: ServerResponse,
    identity: Identity,
  ): Promise<void> {
    const base = scope.kind === 'server' ? `/servers/${encodeURIComponent(scope.server)}` : '';
    if (scope.kind === 'server' && !this.registry.isLive(scope.server)) return sendMeshError(res, this.unknownServer(scope.server));
    if (kind === 'sse') {
      if (req.method !== 'GET')
        return sendJsonRpcError(res, 405, JsonRpcCode.InvalidRequest, 'open the event stream with GET', {
          meshCode: 'MESH_METHOD_NOT_ALLOWED',
        });
      return this.legacySse.open(scope, base, identity, res);
    }
    if (req.method !== 'POST')
      return sendJsonRpcError(res, 405, JsonRpcCode.InvalidRequest, 'post messages with POST', { meshCode: 'MESH_METHOD_NOT_ALLOWED' });
    let body: unknown;
    try {
      const text = await readBody(req);
      checkJsonDepth(text, this.policy!.limits.maxJsonDepth);
      body = JSON.parse(text);
    } catch (error) {
      if (error instanceof MeshError) return sendMeshError(res, error);
      return sendJsonRpcError(res, 400, JsonRpcCode.ParseError, `Parse error: ${(error as Error).message}`, {
        meshCode: 'MESH_PARSE_ERROR',
      });
    }
    await this.legacySse.post(base, identity, req, res, body);
  }

  private unknownServer(server: string): MeshError {
    const live = this.registry.liveServers();
    return new MeshError(
      'MESH_UNKNOWN_SERVER',
      `unknown server '${server}': no live bridge serves it (live servers: ${live.join(', ') || 'none'})`,
      {
        details: { server },
      },
    );
  }

  /** Who is calling: from an API key or bearer token when auth is configured, else the anonymous principal. */
  private async authenticate(req: IncomingMessage): Promise<Identity> {
    const authenticator = this.policy!.authenticator;
    if (!authenticator) return ANONYMOUS;
    const header = req.headers[authenticator.apiKeyHeaderName];
    return authenticator.authenticate({
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      ...(typeof header === 'string' ? { apiKeyHeader: header } : {}),
    });
  }

  /** RFC 9728 protected-resource metadata for `/mcp` and `/servers/<name>/mcp`, when auth is configured. */
  private protectedResource(path: string, req: IncomingMessage, res: ServerResponse): void {
    const authenticator = this.policy?.authenticator;
    const configured = this.policy?.config.auth?.resource;
    const base = configured ? new URL(configured).origin : `http://${req.headers.host ?? 'localhost'}`;
    const resourcePath = path.slice(WELL_KNOWN_RESOURCE.length) || '/mcp';
    const metadata = authenticator?.protectedResourceMetadata(
      configured && resourcePath === new URL(configured).pathname ? configured : `${base}${resourcePath}`,
    );
    if (!metadata) return sendJson(res, 404, { error: 'no authentication is configured on this mesh' });
    sendJson(res, 200, metadata);
  }

  private auditAuthFailure(scope: Scope, error: MeshError): void {
    this.options.audit?.record({
      v: 1,
      id: newAuditEventId(),
      time: new Date().toISOString(),
      kind: 'auth.failure',
      endpoint: scopeLabel(scope),
      ...(scope.kind === 'server' ? { server: scope.server } : {}),
      outcome: 'denied',
      errorCode: error.code,
    });
  }

  private readiness(res: ServerResponse): void {
    const natsUp = this.natsConnected && !this.options.nc.isClosed() && !this.options.nc.isDraining();
    const ready = this.started && natsUp && this.closing === undefined;
    sendJson(res, ready ? 200 : 503, {
      status: ready ? 'ready' : 'not-ready',
      nats: natsUp ? 'connected' : 'disconnected',
      servers: this.registry.liveServers(),
      sessions: this.sessions.size,
      ...(this.policy?.breakers ? { breakers: this.policy.breakers.states() } : {}),
    });
  }

  private async serveMcp(scope: Scope, req: IncomingMessage, res: ServerResponse, identity: Identity): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE') {
      return sendJsonRpcError(res, 405, JsonRpcCode.InvalidRequest, `method ${method} is not allowed: use POST, GET or DELETE`, {
        meshCode: 'MESH_METHOD_NOT_ALLOWED',
      });
    }
    let body: unknown;
    if (method === 'POST') {
      let text: string;
      try {
        text = await readBody(req);
        checkJsonDepth(text, this.policy!.limits.maxJsonDepth);
      } catch (error) {
        if (error instanceof MeshError) return sendMeshError(res, error);
        throw error;
      }
      try {
        body = JSON.parse(text);
      } catch (error) {
        return sendJsonRpcError(res, 400, JsonRpcCode.ParseError, `Parse error: ${(error as Error).message}`, {
          meshCode: 'MESH_PARSE_ERROR',
        });
      }
      if (Array.isArray(body)) {
        return sendJsonRpcError(
          res,
          400,
          JsonRpcCode.InvalidRequest,
          'Invalid Request: JSON-RPC batches are not supported by this protocol version',
          { meshCode: 'MESH_INVALID_REQUEST' },
        );
      }
      const shape = JsonRpcMessageSchema.safeParse(body);
      const message = body as { method?: unknown; id?: unknown; result?: unknown; error?: unknown };
      if (shape.success && message.method === undefined && message.result === undefined && message.error === undefined) {
        return sendJsonRpcError(
          res,
          400,
          JsonRpcCode.InvalidRequest,
          'Invalid Request: a message needs a method (request, notification) or a result or error (response)',
          {
            meshCode: 'MESH_INVALID_REQUEST',
          },
        );
      }
      if (!shape.success) {
        const problems = shape.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
        return sendJsonRpcError(res, 400, JsonRpcCode.InvalidRequest, `Invalid Request: ${problems.join('; ')}`, {
          meshCode: 'MESH_INVALID_REQUEST',
        });
      }
      // Checked for initialize (answered 400: no session exists yet) and inside a session (200, the
      // error is in the body); other session-less requests get the session error below.
      // (A 2026-07-28 `initialize`, with the modern envelope, is a removed method: see below.)
      const initialize =
        shape.data.method === 'initialize' && modernRevisionOf(shape.data.params as Record<string, unknown> | undefined) === undefined;
      const inSession = typeof req.headers['mcp-session-id'] === 'string';
      const problems = message.id === undefined || (!initialize && !inSession) ? [] : paramsProblems(shape.data.method, shape.data.params);
      if (problems.length > 0) {
        return sendJson(res, initialize ? 400 : 200, {
          jsonrpc: '2.0',
          id: shape.data.id,
          error: {
            code: JsonRpcCode.InvalidParams,
            message: `Invalid params: ${problems.join('; ')}`,
            data: { meshCode: 'MESH_INVALID_PARAMS' },
          },
        });
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const session = this.sessions.get(sessionId) ?? (await this.resumeSession(sessionId, scope, identity));
      // A session belongs to the principal that started it: another caller's id is simply unknown.
      if (!session || scopeLabel(session.scope) !== scopeLabel(scope) || session.identity.principal !== identity.principal) {
        return sendJsonRpcError(
          res,
          404,
          -32001,
          `Session not found: ${sessionId} is unknown or expired on ${scopeLabel(scope)}; initialize a new session`,
          { meshCode: 'MESH_SESSION_NOT_FOUND' },
        );
      }
      session.lastSeen = Date.now();
      this.sessionStore.touch(session.id, session.record);
      // Inside a session the version negotiated at initialize wins over a stale header (as the
      // SDK's own servers behave), so features of that version (SSE priming, retry) apply.
      const negotiated = negotiatedVersion(session.record);
      if (negotiated && typeof req.headers['mcp-protocol-version'] === 'string') req.headers['mcp-protocol-version'] = negotiated;
      if (method === 'POST') {
        if (fastEligible(req, body, session)) {
          return serveFast(session, req, res, body, { logger: this.options.logger, closeSseAfterMs: this.options.config.closeSseAfterMs });
        }
        const cancelled = body as { method?: unknown; params?: { requestId?: unknown } };
        if (cancelled.method === 'notifications/cancelled') {
          const requestId = cancelled.params?.requestId;
          if (typeof requestId === 'string' || typeof requestId === 'number')
            session.fastCalls.get(requestId)?.abort(new Error('cancelled by the client'));
        }
      }
      await session.handle(req, res, body);
      return;
    }
    // An `initialize` that carries the 2026-07-28 envelope is a modern request for a removed method:
    // the modern handler answers it (404, -32601), no session is made.
    const initialize = body as { method?: string; params?: Record<string, unknown> };
    if (method === 'POST' && initialize.method === 'initialize' && modernRevisionOf(initialize.params) !== undefined) {
      return this.serveModern(scope, identity, req, res, body);
    }
    if (method !== 'POST' || (body as { method?: string }).method !== 'initialize') {
      // A 2026-07-28 (modern, stateless) request carries its era in every request: no session needed.
      if (method === 'POST' && (await isLegacyRequest(await toWebRequest(req as never, body), body)) === false) {
        return this.serveModern(scope, identity, req, res, body);
      }
      return sendJsonRpcError(
        res,
        400,
        JsonRpcCode.InvalidRequest,
        'Bad Request: no Mcp-Session-Id header; send initialize first to start a session',
        { meshCode: 'MESH_SESSION_REQUIRED' },
      );
    }
    if (scope.kind === 'server' && !this.registry.isLive(scope.server)) return sendMeshError(res, this.unknownServer(scope.server));
    if (scope.kind === 'server') {
      const decision = this.policy!.authorizer.can(identity, { kind: 'server', server: scope.server });
      if (!decision.allowed) {
        return sendMeshError(
          res,
          new MeshError('MESH_FORBIDDEN', `${identity.principal} may not use server '${scope.server}' (rule ${decision.rule})`, {
            details: { rule: decision.rule, server: scope.server },
          }),
        );
      }
    }
    const record: SessionRecord = {
      v: 1,
      endpoint: scopeLabel(scope),
      principal: identity.principal,
      initialize: body as Record<string, unknown>,
      createdAt: new Date().toISOString(),
    };
    const session = this.createSession(scope, record, identity, randomUUID);
    await session.server.connect(session.transport);
    await session.handle(req, res, body);
  }

  /**
   * The 2026-07-28 era: stateless, one fresh server per request (the SDK's handler), the same
   * routing and policy as a session; list changes reach `subscriptions/listen` streams via the
   * handler's notifier.
   */
  private async serveModern(scope: Scope, identity: Identity, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    if (scope.kind === 'server' && !this.registry.isLive(scope.server)) return sendMeshError(res, this.unknownServer(scope.server));
    const key = scopeLabel(scope);
    let modern = this.modern.get(key);
    if (!modern) {
      const handler = createMcpHandler(
        ({ authInfo }) => this.buildServer(scope, (authInfo?.extra?.identity as Identity | undefined) ?? ANONYMOUS, newSessionState()),
        { legacy: 'reject' },
      );
      modern = { handler, node: toNodeHandler(withMethodNotFound404(handler) as never) };
      this.modern.set(key, modern);
    }
    const mismatch = await paramHeaderProblem(this.catalog, scope, body, req.headers, this.options.config.listTimeoutMs);
    if (mismatch) {
      const error = new MeshError('MESH_PARAM_HEADER_MISMATCH', `Bad Request: the request headers and body disagree: ${mismatch.message}`, {
        details: { header: mismatch.header },
      });
      return sendJson(res, error.httpStatus, { jsonrpc: '2.0', id: (body as { id?: unknown }).id ?? null, error: error.toWire() });
    }
    (req as IncomingMessage & { auth?: unknown }).auth = { token: '', clientId: identity.principal, scopes: [], extra: { identity } };
    await modern.node(req as never, res as never, body);
  }

  /** The MCP server that serves one caller on one endpoint: a session's, or one modern-era request's. */
  private buildServer(scope: Scope, identity: Identity, state: SessionState, fastPath?: FastPath): Server {
    const logger = this.options.logger.child({ component: 'session' });
    const observer = new RequestObserver({
      logger,
      metrics: this.metrics,
      audit: this.options.audit,
      includeArguments: this.options.auditArguments ?? false,
      endpoint: scopeLabel(scope),
      principal: identity.principal,
      keyId: identity.keyId,
      ...(this.options.onRequestFinished ? { onFinished: this.options.onRequestFinished } : {}),
    });
    const server = createSessionServer({
      scope,
      registry: this.registry,
      catalog: this.catalog,
      client: this.client,
      logger,
      observer,
      requestTimeoutMs: this.options.config.requestTimeoutMs,
      identity,
      policy: this.policy!,
      metrics: this.metrics,
      tokens: this.tokens,
      state,
      closeSseAfterMs: this.options.config.closeSseAfterMs,
      view: scope.kind === 'view' ? this.view(scope.view) : undefined,
      cache: this.cache.enabled ? this.cache : undefined,
      fastPath,
    });
    return server;
  }

  private createSession(scope: Scope, record: SessionRecord, identity: Identity, newId: () => string, resumed = false): Session {
    const state = newSessionState();
    const fastPath: FastPath = { adopted: new Map() };
    const server = this.buildServer(scope, identity, state, fastPath);
    const session = {
      id: '',
      scope,
      server,
      record,
      identity,
      state,
      lastSeen: Date.now(),
      startedAt: Date.now(),
      fastPath,
      fastCalls: new Map(),
    } as unknown as Session;
    session.transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: newId,
      // Resumability: events kept per session (bounded) and replayed after Last-Event-ID.
      eventStore: new BoundedEventStore(this.options.eventsPerSession ?? 1_000),
      retryInterval: 1_000,
      onsessioninitialized: (id) => {
        session.id = id;
        this.sessions.set(id, session);
        if (resumed) return;
        this.options.logger.info({ session: id, endpoint: scopeLabel(scope) }, 'session started');
        this.auditSession('session.start', id, scope);
        void this.sessionStore.put(id, record);
      },
      // The client ended the session (DELETE): no replica may continue it.
      onsessionclosed: (id) => {
        this.endSession(id, true);
        void this.sessionStore.delete(id);
      },
    });
    session.transport.onclose = () => {
      if (session.transport.sessionId) this.endSession(session.transport.sessionId);
    };
    const transport = session.transport;
    session.handle = toNodeHandler({
      fetch: (request: Request, options?: { authInfo?: unknown }) => transport.handleRequest(request, options as never),
    } as never);
    return session;
  }

  /**
   * Continues a session another ingress replica started: its initialize, kept in NATS KV, is
   * replayed into a fresh local server and transport under the same session id.
   */
  private async resumeSession(id: string, scope: Scope, identity: Identity): Promise<Session | undefined> {
    const record = await this.sessionStore.get(id);
    if (!record || record.endpoint !== scopeLabel(scope) || record.principal !== identity.principal) return undefined;
    if (scope.kind === 'server' && !this.registry.isLive(scope.server)) return undefined;
    const existing = this.sessions.get(id);
    if (existing) return existing;
    const session = this.createSession(scope, record, identity, () => id, true);
    await session.server.connect(session.transport);
    const url = `http://ingress${scopeLabel(scope)}`;
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const init = await session.transport.handleRequest(
      new Request(url, { method: 'POST', headers, body: JSON.stringify(record.initialize) }),
      {
        parsedBody: record.initialize,
      },
    );
    const text = await init.text();
    const json = text.startsWith('{') ? text : (text.split('\n').find((line) => line.startsWith('data: {')) ?? 'data: {}').slice(6);
    const negotiated = (JSON.parse(json) as { result?: { protocolVersion?: string } }).result?.protocolVersion;
    if (!negotiated || !this.sessions.has(id)) return undefined;
    const initialized = { jsonrpc: '2.0', method: 'notifications/initialized' };
    await session.transport.handleRequest(
      new Request(url, {
        method: 'POST',
        headers: { ...headers, 'mcp-session-id': id, 'mcp-protocol-version': negotiated },
        body: JSON.stringify(initialized),
      }),
      { parsedBody: initialized },
    );
    this.options.logger.info({ session: id, endpoint: scopeLabel(scope) }, 'session resumed from the shared store');
    return session;
  }

  /** Forgets a local session; `over` when the client ended it or it idled out (not on shutdown: another replica may continue it). */
  private endSession(id: string, over = false): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.sessionStore.forget(id);
    // per-client bridges close this session's upstreams now rather than when they idle out.
    for (const [server, instance] of over ? session.state.instances : []) {
      void this.client
        .call(server, MeshMethod.SessionClose, undefined, { deadline: Date.now() + 2_000, session: id, instance })
        .catch(() => undefined);
    }
    this.metrics.record(this.metrics.sessionDuration, (Date.now() - session.startedAt) / 1_000, { endpoint: scopeLabel(session.scope) });
    this.options.logger.info({ session: id }, 'session ended');
    this.auditSession('session.end', id, session.scope);
  }

  private auditSession(kind: 'session.start' | 'session.end', id: string, scope: Scope): void {
    this.options.audit?.record({
      v: 1,
      id: newAuditEventId(),
      time: new Date().toISOString(),
      kind,
      session: id,
      principal: this.sessions.get(id)?.identity.principal ?? 'anonymous',
      endpoint: scopeLabel(scope),
      ...(scope.kind === 'server' ? { server: scope.server } : {}),
      outcome: 'ok',
    });
  }

  /**
   * Tells modern-era listeners (subscriptions/listen) of an endpoint that a list changed: on a new
   * digest (registry) and on the upstream's own list_changed relayed by a bridge, whichever comes
   * first (the other, within 250 ms, is the same change).
   */
  private notifyModern(change: Pick<RegistryChange, 'server' | 'lists'>): void {
    for (const [key, { handler }] of this.modern) {
      if (key !== '/mcp' && key !== `/servers/${change.server}/mcp`) continue;
      const once = (kind: string, send: () => void) => {
        if (this.firstNotice(`${key}:${change.server}:${kind}`)) send();
      };
      try {
        const kinds = new Set(change.lists);
        if (kinds.has('tools')) once('tools', () => handler.notify.toolsChanged());
        if (kinds.has('prompts')) once('prompts', () => handler.notify.promptsChanged());
        if (kinds.has('resources') || kinds.has('resourceTemplates')) once('resources', () => handler.notify.resourcesChanged());
      } catch (error) {
        this.options.logger.warn({ err: error }, 'could not notify modern-era listeners');
      }
    }
  }

  /** Tells every session that can see the server that its lists changed. */
  private notifySessions(change: RegistryChange): void {
    const kinds = new Set<ListKind>(change.lists);
    for (const session of this.sessions.values()) {
      if (!scopeIncludes(session.scope, change.server)) continue;
      const notify = (method: string) => {
        if (this.firstNotice(`${session.id}:${method}`)) session.server.notification({ method } as never).catch(() => undefined);
      };
      if (kinds.has('tools')) notify(ListMethods.tools.notification);
      if (kinds.has('prompts')) notify(ListMethods.prompts.notification);
      if (kinds.has('resources') || kinds.has('resourceTemplates')) notify(ListMethods.resources.notification);
    }
  }

  /**
   * A server notification that belongs to no call, from `mcp.v1.notify.<server>.…`: log messages
   * go to sessions that set a log level at or below theirs, `resources/updated` to sessions
   * subscribed to that URI, list changes to every session that sees the server.
   */
  private deliverNotification(subject: string, data: Uint8Array, forSession = false): void {
    let notification: { method: string; params?: Record<string, unknown>; server?: string };
    try {
      notification = JSON.parse(decoder.decode(data)) as typeof notification;
    } catch {
      return;
    }
    const token = this.subjects.addressee(subject);
    const server = forSession ? (notification.server ?? '') : token;
    const { server: _server, ...plain } = notification;
    notification = plain;
    if (notification.method === 'notifications/resources/updated' && typeof notification.params?.uri === 'string') {
      void this.cache.invalidate(server, notification.params.uri);
    } else if (notification.method.endsWith('/list_changed')) {
      // Whichever replica's upstream changed: its answers may differ now.
      void this.cache.invalidate(server);
      // The list may be the same (no new digest): modern-era listeners are told all the same.
      const lists = ListKinds.filter((kind) => ListMethods[kind].notification === notification.method);
      if (!forSession && lists.length > 0) this.notifyModern({ server, lists });
    }
    const targets = forSession ? [this.sessions.get(token)].filter((s): s is Session => s !== undefined) : this.sessions.values();
    for (const session of targets) {
      if (!scopeIncludes(session.scope, server)) continue;
      if (notification.method === 'notifications/message') {
        const level = String(notification.params?.level ?? 'info');
        const order: readonly string[] = LOG_LEVELS;
        if (!session.state.logLevel || order.indexOf(level) < order.indexOf(session.state.logLevel)) continue;
      } else if (notification.method === 'notifications/resources/updated') {
        const uri = notification.params?.uri;
        const subscribed = [...session.state.subscriptions.entries()].find(([, held]) => held.server === server && held.uri === uri);
        if (!subscribed) continue;
        // Tell the client by the URI it subscribed with (a mesh-rewritten one on /mcp).
        notification = { ...notification, params: { ...notification.params, uri: subscribed[0] } };
      } else if (notification.method.endsWith('/list_changed')) {
        // Several replicas relay the same upstream change: tell each session once.
        if (!this.firstNotice(`${session.id}:${notification.method}`)) continue;
      }
      session.server.notification(notification as never).catch(() => undefined);
    }
  }

  /** Whether a notice is the first of its key within NOTICE_DEDUP_MS (and records it when it is). */
  private firstNotice(key: string): boolean {
    const now = Date.now();
    if (now - (this.recentNotices.get(key) ?? 0) < NOTICE_DEDUP_MS) return false;
    this.recentNotices.set(key, now);
    return true;
  }

  private sweepSessions(idleMs: number): void {
    const now = Date.now();
    // Notices past the dedup window decide nothing any more (keys name sessions, which come and go).
    for (const [key, at] of this.recentNotices) if (now - at >= NOTICE_DEDUP_MS) this.recentNotices.delete(key);
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastSeen > idleMs) {
        this.endSession(session.id, true);
        void session.transport.close().catch(() => undefined);
      }
    }
  }

  /**
   * Drains, then stops: /readyz turns 503 and new sessions are refused at once, calls in flight
   * finish (up to `drainMs`), then sessions and the HTTP server close. Does not close the NATS
   * connection. Idempotent.
   */
  close(drainMs = 10_000): Promise<void> {
    this.closing ??= (async () => {
      clearInterval(this.sweeper);
      const deadline = Date.now() + drainMs;
      while (this.client.inFlight > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
      const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
      await Promise.allSettled([...this.sessions.values()].map((session) => session.transport.close()));
      for (const id of [...this.sessions.keys()]) this.endSession(id);
      this.http.closeAllConnections();
      await closed;
      this.notifySub?.unsubscribe();
      this.sessionSub?.unsubscribe();
      await Promise.allSettled([...this.modern.values()].map(({ handler }) => handler.close()));
      await this.legacySse.close();
      this.client.close();
      this.registry.close();
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
