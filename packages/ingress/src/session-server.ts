import type { Context } from '@opentelemetry/api';
import { Server, type ServerContext } from '@modelcontextprotocol/server';
import { MeshError, type ListKind } from '@mcp-mesh/protocol';
import { resultText, type Identity, type Policy, type TokenCounter } from '@mcp-mesh/policy';
import type { Logger } from '@mcp-mesh/runtime';
import type { MeshMetrics } from '@mcp-mesh/telemetry';
import { Attr } from '@mcp-mesh/telemetry';
import type { Catalog } from './catalog.js';
import type { MeshClient } from './mesh-client.js';
import type { Registry } from './registry.js';
import type { RequestNote, RequestObserver } from './request-observer.js';
import type { Scope } from './scope.js';
import { toProtocolError } from './to-protocol-error.js';

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
type Named = Record<string, unknown> & { name: string };

/** Capabilities the mesh carries for one upstream (list_changed is always delivered by the mesh). */
function carriedCapabilities(upstream: Record<string, unknown> | undefined): Record<string, unknown> {
  const caps: Record<string, unknown> = {};
  if (upstream?.tools) caps.tools = { listChanged: true };
  if (upstream?.prompts) caps.prompts = { listChanged: true };
  if (upstream?.resources) caps.resources = { listChanged: true };
  if (upstream?.completions) caps.completions = {};
  return caps;
}

const AGGREGATE_CAPABILITIES = {
  tools: { listChanged: true },
  prompts: { listChanged: true },
  resources: { listChanged: true },
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
  const descriptor = single ? registry.descriptor(single) : undefined;
  const capabilities: Record<string, unknown> = single ? carriedCapabilities(descriptor?.capabilities) : AGGREGATE_CAPABILITIES;
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
    ctx: ServerContext,
    asked: { kind: PolicyKind; name?: string } = { kind: 'server' },
  ) => {
    note.server = target;
    policy.authorizer.authorize(identity, { kind: asked.kind, server: target, ...(asked.name === undefined ? {} : { name: asked.name }) });
    await policy.rateLimits?.take({ principal, server: target });
    if (method === 'tools/call') policy.tokenBudgets?.check(principal);
    const deadline = Date.now() + deps.requestTimeoutMs;
    const result = await policy.guard.run(
      { method, server: target, ...(asked.kind === 'tool' && asked.name ? { tool: asked.name } : {}), deadline, signal: ctx.mcpReq.signal },
      () =>
        client.call(target, method, params, {
          deadline,
          signal: ctx.mcpReq.signal,
          trace,
          stats: note.stats,
          ...(ctx.sessionId ? { session: ctx.sessionId } : {}),
          onNotification: (notification) => {
            void ctx.mcpReq.notify(notification as never).catch(() => undefined);
          },
        }),
    );
    if (method === 'tools/call') {
      let tokens = 0;
      if (policy.tokenBudgets) {
        const usage = policy.tokenBudgets.record(principal, result);
        tokens = usage.tokens;
        if (usage.exceeded) logger.warn({ principal, used: usage.used, limit: usage.limit }, 'token budget exceeded');
      } else if (deps.tokens) {
        for (const text of resultText(result)) tokens += deps.tokens.count(text);
      }
      metrics.toolResultTokens.add(tokens, {
        [Attr.MeshServer]: target,
        [Attr.GenAiToolName]: asked.name ?? '',
        [Attr.MeshPrincipal]: principal,
      });
    }
    return result;
  };

  /** One server's list items the caller may see. */
  const visible = (kind: ListKind) => (server: string, items: Record<string, unknown>[]) =>
    policy.authorizer.filterList(identity, server, LIST_KIND[kind], items as never) as Record<string, unknown>[];

  /** Registers a handler that is observed (span, metrics, log, audit) and whose errors are normalised. */
  const handle = (method: string, work: (params: Params, note: RequestNote, trace: Context, ctx: ServerContext) => Promise<unknown>) => {
    server.setRequestHandler(method as 'tools/list', (request, ctx) => {
      const params = request.params as Params;
      const headers = ctx.http?.req?.headers;
      return observer.observe(
        method,
        params,
        { ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}), requestId: ctx.mcpReq.id, ...(headers ? { httpHeaders: headers } : {}) },
        (note, trace) =>
          work(params, note, trace, ctx).catch((error: unknown) => {
            throw toProtocolError(error, logger, { method, scope: single ?? 'aggregate' });
          }),
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
      const { items } = await catalog.aggregate(kind, visible(kind));
      return { [field]: items };
    });

  /** tools/call and prompts/get: the name routes the request (namespaced on /mcp). */
  const named = (kind: 'tools' | 'prompts', method: string) =>
    handle(method, async (params, note, trace, ctx) => {
      const request = params as Named;
      const asked = kind === 'tools' ? 'tool' : 'prompt';
      note.target = request.name;
      if (single) return forward(note, trace, single, method, params, ctx, { kind: asked, name: request.name });
      const target = await catalog.resolveName(kind, request.name);
      note.target = target.name;
      return forward(note, trace, target.server, method, { ...request, name: target.name }, ctx, { kind: asked, name: target.name });
    });

  if (capabilities.tools) {
    list('tools', 'tools/list', 'tools');
    named('tools', 'tools/call');
  }
  if (capabilities.prompts) {
    list('prompts', 'prompts/list', 'prompts');
    named('prompts', 'prompts/get');
  }
  if (capabilities.resources) {
    list('resources', 'resources/list', 'resources');
    list('resourceTemplates', 'resources/templates/list', 'resourceTemplates');
    handle('resources/read', async (params, note, trace, ctx) => {
      const uri = (params as { uri: string }).uri;
      note.target = uri;
      if (single) return forward(note, trace, single, 'resources/read', params, ctx, { kind: 'resource', name: uri });
      const target = await catalog.resolveResource(uri);
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
  if (capabilities.completions) {
    handle('completion/complete', async (params, note, trace, ctx) => {
      if (single) return forward(note, trace, single, 'completion/complete', params, ctx);
      const request = params as Record<string, unknown> & { ref: { type: string; name?: string; uri?: string } };
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
