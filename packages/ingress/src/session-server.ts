import type { Context } from '@opentelemetry/api';
import { Server, type ServerContext } from '@modelcontextprotocol/server';
import { isHeldInputState, MeshError, parseReplicaBoundId, type ListKind } from '@mcp-mesh/protocol';
import { resultText, type Identity, type Policy, type TokenCounter } from '@mcp-mesh/policy';
import type { Logger } from '@mcp-mesh/runtime';
import type { MeshMetrics } from '@mcp-mesh/telemetry';
import { Attr } from '@mcp-mesh/telemetry';
import type { Catalog } from './catalog.js';
import type { ViewCatalog } from './view-catalog.js';
import type { ResponseCache } from './response-cache.js';
import type { CallOptions, HeldRequest, MeshClient } from './mesh-client.js';
import type { Registry } from './registry.js';
import type { RequestNote, RequestObserver } from './request-observer.js';
import type { Scope } from './scope.js';
import { toProtocolError } from './to-protocol-error.js';
import { heldInputResult, heldRetry, type HeldRetry } from './held-input.js';

export const MESH_SERVER_INFO = { name: 'mcp-mesh', version: '0.1.0' } as const;

export interface SessionServerDeps {
  scope: Scope;
  registry: Registry;
  catalog: Catalog;
  client: MeshClient;
  logger: Logger;
  observer: RequestObserver;
  requestTimeoutMs: number;
  /** Who this session belongs to, and the policy every request passes. */
  identity: Identity;
  policy: Policy;
  metrics: MeshMetrics;
  /** Counts tokens in tool results for the token metric (budgets count their own). */
  tokens: TokenCounter | undefined;
  state: SessionState;
  /** Close a long call's SSE stream after this long (SSE polling), when set. */
  closeSseAfterMs?: number | undefined;
  /** The view this endpoint shows, for `/views/<name>/mcp`. */
  view?: ViewCatalog | undefined;
  /** The opt-in response cache. */
  cache?: ResponseCache | undefined;
  /** Filled in here for the ingress's fast path (tools/call answered without the SDK transport). */
  fastPath?: FastPath | undefined;
}

/** What forward() needs of the request it serves: the SDK's context, or the ingress's fast path. */
export interface CallContext {
  readonly signal: AbortSignal;
  readonly sessionId: string | undefined;
  /** A notification of this call (progress, logging) for the client. */
  notify(notification: { method: string; params?: Record<string, unknown> }): void;
  /** A server->client request of this call (sampling, elicitation, roots); rejects with the client's error. */
  send(request: { method: string; params?: Record<string, unknown> }): Promise<Record<string, unknown>>;
  /** Closes the call's SSE stream (SSE polling), when it has one. */
  readonly closeSSE: (() => void) | undefined;
}

/** A fast-path request handed to the SDK transport: it binds its context, and answers with `result`. */
export interface Adoption {
  bind(ctx: CallContext): void;
  readonly result: Promise<Record<string, unknown>>;
}

/** The session's entry points for the ingress's fast path. */
export interface FastPath {
  /** tools/call, observed and routed as the SDK handler would; rejects with a ProtocolError. */
  callTool?: (
    requestId: string | number,
    params: Params,
    call: CallContext,
    httpHeaders?: Headers,
    /** Called with the result as soon as it is known, before the request's telemetry is recorded. */
    respond?: (result: Record<string, unknown>) => void,
  ) => Promise<Record<string, unknown>>;
  /** Requests the fast path began that the SDK transport takes over, by JSON-RPC id. */
  readonly adopted: Map<string | number, Adoption>;
}

function sdkCallContext(ctx: ServerContext): CallContext {
  return {
    signal: ctx.mcpReq.signal,
    sessionId: ctx.sessionId,
    notify: (notification) => void ctx.mcpReq.notify(notification as never).catch(() => undefined),
    send: async (request) =>
      (await ctx.mcpReq.send({ method: request.method, params: request.params } as never, PASSTHROUGH as never)) as Record<string, unknown>,
    closeSSE: ctx.http?.closeSSE,
  };
}

/** What RBAC decides on, per forwarded method. */
type PolicyKind = 'server' | 'tool' | 'prompt' | 'resource';
const LIST_KIND: Record<ListKind, Exclude<PolicyKind, 'server'>> = {
  tools: 'tool',
  prompts: 'prompt',
  resources: 'resource',
  resourceTemplates: 'resource',
};

type Params = Record<string, unknown> | undefined;

/** A schema that accepts any answer: the client's result goes back to the upstream as it is. */
const PASSTHROUGH = {
  '~standard': { version: 1, vendor: 'mcp-mesh', validate: (value: unknown) => ({ value }) },
};
type Named = Record<string, unknown> & { name: string };
/** The methods whose 2026-07-28 results may be `input_required` (SEP-2322). */
const MULTI_ROUND_TRIP_METHODS: readonly string[] = ['tools/call', 'prompts/get', 'resources/read'];
/** Tasks-extension methods that share their names with 2025-11-25 core methods. */
const TASK_CORE_METHODS = ['tasks/get', 'tasks/cancel'] as const;

/**
 * The upstream's capabilities as the mesh carries them: everything passes through (logging,
 * subscriptions, completions, experimental and extension capabilities), and list_changed is
 * always on because the mesh delivers it.
 */
function carriedCapabilities(upstream: Record<string, unknown> | undefined): Record<string, unknown> {
  const caps: Record<string, unknown> = { ...upstream };
  for (const list of ['tools', 'prompts', 'resources']) {
    if (caps[list]) caps[list] = { ...(caps[list] as Record<string, unknown>), listChanged: true };
  }
  return caps;
}

/**
 * A 2026-07-28 request as the client sent it: the SDK lifts the envelope (`_meta` reserved keys) and
 * the multi-round-trip fields out of the params a handler sees; the mesh puts them back so the
 * bridge can hand a modern upstream the request untouched (its `input_required` answers, sealed
 * `requestState` and capability checks then work end to end). Legacy-era requests have none.
 */
function withClientEnvelope(params: Params, ctx: ServerContext): Params {
  const { envelope, inputResponses } = ctx.mcpReq;
  if (envelope === undefined) return params;
  const requestState = ctx.mcpReq.requestState();
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  return {
    ...params,
    _meta: { ...meta, ...envelope },
    ...(inputResponses === undefined ? {} : { inputResponses }),
    ...(typeof requestState === 'string' ? { requestState } : {}),
  };
}

/** The bridge replica whose upstream sealed a multi-round-trip retry's `requestState` (it alone can open it). */
function stateReplica(ctx: ServerContext | CallContext): string | undefined {
  if (!('mcpReq' in ctx)) return undefined;
  const state = ctx.mcpReq.requestState();
  return typeof state === 'string' ? parseReplicaBoundId(state)?.instance : undefined;
}

/** Text counted exactly per result for the token metric (4 KiB: ~50 µs); the rest is extrapolated (tokenizing 16 KiB cost ~200 µs, 100 KB milliseconds). */
const TOKEN_SAMPLE_CHARS = 4 * 1024;

function estimateTokens(counter: TokenCounter, texts: Iterable<string>): number {
  let tokens = 0;
  for (const text of texts) {
    if (text.length <= TOKEN_SAMPLE_CHARS) tokens += counter.count(text);
    else tokens += Math.round((counter.count(text.slice(0, TOKEN_SAMPLE_CHARS)) * text.length) / TOKEN_SAMPLE_CHARS);
  }
  return tokens;
}

/** What a view offers: the kinds it has entries for. */
function viewCapabilities(view: ViewCatalog): Record<string, unknown> {
  const caps: Record<string, unknown> = {};
  const config = view.config;
  if (config.tools.length > 0) caps.tools = { listChanged: true };
  if (config.prompts.length > 0) {
    caps.prompts = { listChanged: true };
    caps.completions = {};
  }
  if (config.resources.length > 0) caps.resources = { listChanged: true };
  return caps;
}

/** Per-session state the mesh keeps for features outside single calls. */
export interface SessionState {
  /** Minimum level of log messages this client asked for (logging/setLevel). */
  logLevel?: string;
  /** Resource subscriptions by the URI the client used: which server and replica hold them. */
  subscriptions: Map<string, { server: string; uri: string; instance?: string }>;
  /** per-client servers: the bridge replica that holds this session's upstream, by server. */
  instances: Map<string, string>;
}

const AGGREGATE_CAPABILITIES = {
  logging: {},
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true, subscribe: true },
  completions: {},
};

/**
 * Builds the MCP server one client session talks to. The ingress answers `initialize` and `ping`
 * itself; every other method is routed over NATS to the bridge of the server that owns it.
 */
export function createSessionServer(deps: SessionServerDeps): Server {
  const { scope, registry, catalog, client, logger, observer, identity, policy, metrics } = deps;
  const principal = identity.principal;
  const single = scope.kind === 'server' ? scope.server : undefined;
  const view = scope.kind === 'view' ? deps.view : undefined;
  const descriptor = single ? registry.descriptor(single) : undefined;
  const capabilities: Record<string, unknown> = single
    ? carriedCapabilities(descriptor?.capabilities)
    : view
      ? viewCapabilities(view)
      : AGGREGATE_CAPABILITIES;
  const serverInfo = single && descriptor?.serverInfo ? descriptor.serverInfo : MESH_SERVER_INFO;
  const server = new Server(serverInfo as { name: string; version: string }, {
    capabilities,
    ...(single && descriptor?.instructions ? { instructions: descriptor.instructions } : {}),
  });

  /**
   * Sends one request to a server's bridges, through the gateway policy: RBAC on what is asked
   * for, rate limits, the token budget, then retry/breaker/bulkhead around the NATS call.
   * Progress frames go back to this client.
   */
  const forward = async (
    note: RequestNote,
    trace: Context,
    target: string,
    method: string,
    params: Params,
    ctx: ServerContext | CallContext,
    asked: { kind: PolicyKind; name?: string; instance?: string } = { kind: 'server' },
  ) => {
    const call = 'mcpReq' in ctx ? sdkCallContext(ctx) : ctx;
    note.server = target;
    policy.authorizer.authorize(identity, { kind: asked.kind, server: target, ...(asked.name === undefined ? {} : { name: asked.name }) });
    const cacheEntry = deps.cache?.lookup(target, method, params, principal);
    if (cacheEntry) {
      const hit = await deps.cache!.get(cacheEntry);
      if (hit) {
        note.cached = true;
        return hit;
      }
    }
    // A 2026-07-28 client is asked with input_required, never a push: a legacy-only upstream's push
    // request ends this request with one, and the retry resumes the call the bridge holds.
    const inBand = 'mcpReq' in ctx && ctx.mcpReq.envelope !== undefined && MULTI_ROUND_TRIP_METHODS.includes(method);
    const heldTarget = { server: target, method, name: asked.kind === 'server' ? undefined : asked.name };
    const retryState = inBand ? ctx.mcpReq.requestState() : undefined;
    const held: HeldRetry | undefined = isHeldInputState(retryState)
      ? heldRetry(retryState, (ctx as ServerContext).mcpReq.inputResponses, heldTarget)
      : undefined;
    await policy.rateLimits?.take({ principal, server: target });
    if (method === 'tools/call') policy.tokenBudgets?.check(principal);
    const deadline = Math.min(Date.now() + deps.requestTimeoutMs, held?.state.deadline ?? Number.POSITIVE_INFINITY);
    // per-client servers keep this session's upstream on one replica: every call goes there.
    const perClient = registry.descriptor(target)?.sessionMode === 'per-client';
    const pinned = asked.instance ?? stateReplica(ctx) ?? (perClient ? deps.state.instances.get(target) : undefined);
    if (pinned) asked = { ...asked, instance: pinned };
    // SSE polling: a long call's stream is closed; the client resumes it with Last-Event-ID.
    const poller = deps.closeSseAfterMs && call.closeSSE ? setTimeout(() => call.closeSSE?.(), deps.closeSseAfterMs) : undefined;
    const result = await policy.guard
      .run(
        {
          method,
          server: target,
          ...(asked.kind === 'tool' && asked.name ? { tool: asked.name } : {}),
          deadline,
          signal: call.signal,
        },
        () => {
          const options: CallOptions = {
            deadline,
            signal: call.signal,
            trace,
            stats: note.stats,
            ...(call.sessionId ? { session: call.sessionId } : {}),
            onNotification: (notification) => call.notify(notification),
            // Sampling, elicitation and roots requests of this call go to this client, on this call's stream.
            onRequest: async (request) => {
              try {
                return { result: await call.send(request) };
              } catch (error) {
                const e = error as { code?: number; message?: string; data?: unknown };
                return {
                  error: {
                    code: typeof e.code === 'number' ? e.code : -32603,
                    message: e.message ?? String(error),
                    ...(e.data === undefined ? {} : { data: e.data }),
                  },
                };
              }
            },
            ...(asked.instance ? { instance: asked.instance } : {}),
            ...(inBand ? { onHeldRequest: (request: HeldRequest) => heldInputResult(request, heldTarget) } : {}),
          };
          return held
            ? client.resume(target, method, held.state.replyTo, held.answer, { ...options, instance: held.state.instance })
            : client.call(target, method, 'mcpReq' in ctx ? withClientEnvelope(params, ctx) : params, options);
        },
      )
      .catch((error: unknown) => {
        if (pinned && error instanceof MeshError && error.code === 'MESH_SERVER_UNAVAILABLE') {
          deps.state.instances.delete(target);
          throw new MeshError(
            'MESH_SERVER_UNAVAILABLE',
            `the replica of '${target}' that held this session's upstream is gone, and the upstream's session state with it; the next call starts a new one`,
            { details: { server: target, instance: pinned } },
          );
        }
        throw error;
      });
    clearTimeout(poller);
    if (cacheEntry) deps.cache!.put(cacheEntry, result);
    if (perClient && note.stats.instance) deps.state.instances.set(target, note.stats.instance);
    if (method === 'tools/call') {
      // Run by the observer when the request finishes, before its metrics and audit: on the fast
      // path the client has its answer by then; the next call's budget check sees the count.
      const tool = asked.name ?? '';
      note.afterAnswer = () => {
        let tokens = 0;
        if (policy.tokenBudgets) {
          const usage = policy.tokenBudgets.record(principal, result);
          tokens = usage.tokens;
          if (usage.exceeded) logger.warn({ principal, used: usage.used, limit: usage.limit }, 'token budget exceeded');
        } else if (deps.tokens) {
          tokens = estimateTokens(deps.tokens, resultText(result));
        }
        metrics.toolResultTokens.add(tokens, {
          [Attr.MeshServer]: target,
          [Attr.GenAiToolName]: tool,
          [Attr.MeshPrincipal]: principal,
        });
      };
    }
    return result;
  };

  /** One server's list items the caller may see. */
  const visible = (kind: ListKind) => (server: string, items: Record<string, unknown>[]) =>
    policy.authorizer.filterList(identity, server, LIST_KIND[kind], items as never) as Record<string, unknown>[];

  /** Observes one request (span, metrics, log, audit) and normalises what its work throws. */
  const observed = <R>(
    method: string,
    params: Params,
    request: { sessionId: string | undefined; requestId: string | number; httpHeaders: Headers | undefined },
    work: (note: RequestNote, trace: Context) => Promise<R>,
  ): Promise<R> =>
    observer.observe(
      method,
      params,
      {
        ...(request.sessionId ? { sessionId: request.sessionId } : {}),
        requestId: request.requestId,
        ...(request.httpHeaders ? { httpHeaders: request.httpHeaders } : {}),
      },
      (note, trace) =>
        work(note, trace).catch((error: unknown) => {
          throw toProtocolError(error, logger, { method, scope: single ?? 'aggregate' });
        }),
    );

  /** Registers a handler that is observed and whose errors are normalised. */
  const handle = (method: string, work: (params: Params, note: RequestNote, trace: Context, ctx: ServerContext) => Promise<unknown>) => {
    server.setRequestHandler(method as 'tools/list', (request, ctx) => {
      // A request the ingress's fast path began (and observes): it started to stream, so the SDK
      // transport now carries it; its frames go to this context from here on.
      const adoption = deps.fastPath?.adopted.get(ctx.mcpReq.id);
      if (adoption) {
        deps.fastPath!.adopted.delete(ctx.mcpReq.id);
        adoption.bind(sdkCallContext(ctx));
        return adoption.result as never;
      }
      const params = request.params as Params;
      return observed(
        method,
        params,
        { sessionId: ctx.sessionId, requestId: ctx.mcpReq.id, httpHeaders: ctx.http?.req?.headers },
        (note, trace) => work(params, note, trace, ctx),
      ) as never;
    });
  };

  const list = (kind: ListKind, method: string, field: string) =>
    handle(method, async (params, note, trace, ctx) => {
      if (single) {
        const result = await forward(note, trace, single, method, params, ctx);
        const items = result[field];
        return Array.isArray(items) ? { ...result, [field]: visible(kind)(single, items as Record<string, unknown>[]) } : result;
      }
      if (view) {
        if (kind === 'resourceTemplates') return { [field]: [] };
        return { [field]: await view.list(kind, visible(kind)) };
      }
      const { items } = await catalog.aggregate(kind, visible(kind));
      return { [field]: items };
    });

  /** tools/call and prompts/get: the name routes the request (namespaced on /mcp). */
  const routeNamed =
    (kind: 'tools' | 'prompts', method: string) =>
    async (params: Params, note: RequestNote, trace: Context, ctx: ServerContext | CallContext) => {
      const request = params as Named;
      const asked = kind === 'tools' ? 'tool' : 'prompt';
      note.target = request.name;
      if (single) return forward(note, trace, single, method, params, ctx, { kind: asked, name: request.name });
      const target = view ? await view.resolve(kind, request.name, visible(kind)) : await catalog.resolveName(kind, request.name);
      note.target = target.name;
      return forward(note, trace, target.server, method, { ...request, name: target.name }, ctx, { kind: asked, name: target.name });
    };

  if (capabilities.tools) {
    list('tools', 'tools/list', 'tools');
    const callTool = routeNamed('tools', 'tools/call');
    handle('tools/call', callTool);
    if (deps.fastPath) {
      deps.fastPath.callTool = (requestId, params, call, httpHeaders, respond) =>
        observed('tools/call', params, { sessionId: call.sessionId, requestId, httpHeaders }, (note, trace) =>
          callTool(params, note, trace, call).then((result) => {
            // The client has its answer before the span, metrics, log line and audit event are made.
            respond?.(result);
            return result;
          }),
        );
    }
  }
  if (capabilities.prompts) {
    list('prompts', 'prompts/list', 'prompts');
    handle('prompts/get', routeNamed('prompts', 'prompts/get'));
  }
  if (capabilities.resources) {
    list('resources', 'resources/list', 'resources');
    list('resourceTemplates', 'resources/templates/list', 'resourceTemplates');
    handle('resources/read', async (params, note, trace, ctx) => {
      const uri = (params as { uri: string }).uri;
      note.target = uri;
      if (single) return forward(note, trace, single, 'resources/read', params, ctx, { kind: 'resource', name: uri });
      const target = view ? await view.resolve('resources', uri, visible('resources')) : await catalog.resolveResource(uri);
      const result = await forward(note, trace, target.server, 'resources/read', { ...params, uri: target.name }, ctx, {
        kind: 'resource',
        name: target.name,
      });
      if (target.name === uri) return result;
      // The client asked by the mesh-rewritten URI: answer with that URI.
      const contents = Array.isArray(result.contents)
        ? result.contents.map((c: Record<string, unknown>) => (c.uri === target.name ? { ...c, uri } : c))
        : result.contents;
      return { ...result, contents };
    });
  }
  if ((capabilities.resources as { subscribe?: boolean } | undefined)?.subscribe) {
    handle('resources/subscribe', async (params, note, trace, ctx) => {
      const uri = (params as { uri: string }).uri;
      note.target = uri;
      const target = single ? { server: single, name: uri } : await catalog.resolveResource(uri);
      await forward(note, trace, target.server, 'resources/subscribe', { ...params, uri: target.name }, ctx, {
        kind: 'resource',
        name: target.name,
      });
      deps.state.subscriptions.set(uri, {
        server: target.server,
        uri: target.name,
        ...(note.stats.instance ? { instance: note.stats.instance } : {}),
      });
      return {};
    });
    handle('resources/unsubscribe', async (params, note, trace, ctx) => {
      const uri = (params as { uri: string }).uri;
      note.target = uri;
      const held = deps.state.subscriptions.get(uri);
      if (!held) return {};
      deps.state.subscriptions.delete(uri);
      // The replica that counted the subscribe counts the unsubscribe.
      return forward(note, trace, held.server, 'resources/unsubscribe', { ...params, uri: held.uri }, ctx, {
        kind: 'resource',
        name: held.uri,
        ...(held.instance ? { instance: held.instance } : {}),
      });
    });
  }
  if (capabilities.logging) {
    handle('logging/setLevel', async (params, note, trace, ctx) => {
      deps.state.logLevel = (params as { level: string }).level;
      if (single) return forward(note, trace, single, 'logging/setLevel', params, ctx);
      // On /mcp the level goes to every live server that logs; one that fails is left out.
      const targets = registry.liveServers().filter((name) => registry.descriptor(name)?.capabilities?.logging);
      await Promise.allSettled(targets.map((name) => forward({ stats: {} }, trace, name, 'logging/setLevel', params, ctx)));
      return {};
    });
  }
  if (single) {
    // Methods the mesh does not know by name (extensions, newer spec methods) pass through to the
    // server; a task's requests go to the bridge replica whose upstream holds the task.
    const passThrough = (method: string, params: Params, ctx: ServerContext) =>
      observed(method, params, { sessionId: ctx.sessionId, requestId: ctx.mcpReq.id, httpHeaders: undefined }, (note, trace) => {
        const task = method.startsWith('tasks/') && typeof params?.taskId === 'string' ? parseReplicaBoundId(params.taskId) : undefined;
        return forward(note, trace, single, method, params, ctx, task ? { kind: 'server', instance: task.instance } : undefined);
      });
    server.fallbackRequestHandler = async (request, ctx) =>
      passThrough(request.method, request.params as Params, ctx as ServerContext) as never;
    // tasks/get and tasks/cancel were core methods until 2025-11-25: on 2026-07-28 the SDK dispatches
    // them (as the tasks extension's) only when registered with explicit schemas.
    for (const method of TASK_CORE_METHODS) {
      server.setRequestHandler(
        method,
        { params: PASSTHROUGH, result: PASSTHROUGH } as never,
        ((params: Params, ctx: ServerContext) => passThrough(method, params, ctx)) as never,
      );
    }
  }
  if (capabilities.completions) {
    handle('completion/complete', async (params, note, trace, ctx) => {
      if (single) return forward(note, trace, single, 'completion/complete', params, ctx);
      const request = params as Record<string, unknown> & { ref: { type: string; name?: string; uri?: string } };
      if (view && request.ref.type === 'ref/prompt' && request.ref.name) {
        const target = await view.resolve('prompts', request.ref.name, visible('prompts'));
        return forward(note, trace, target.server, 'completion/complete', { ...request, ref: { ...request.ref, name: target.name } }, ctx, {
          kind: 'prompt',
          name: target.name,
        });
      }
      const routed = await catalog.resolveCompletionRef(request.ref);
      if (!registry.descriptor(routed.server)?.capabilities?.completions) {
        throw new MeshError('MESH_METHOD_NOT_FOUND', `server '${routed.server}' does not offer completions`, {
          details: { server: routed.server },
        });
      }
      const ref = routed.ref as { type: string; name?: string; uri?: string };
      return forward(note, trace, routed.server, 'completion/complete', { ...request, ref: routed.ref }, ctx, {
        kind: ref.type === 'ref/prompt' ? 'prompt' : 'resource',
        name: ref.name ?? ref.uri ?? '',
      });
    });
  }
  return server;
}
