import type { Context } from '@opentelemetry/api';
import { Server, type ServerContext } from '@modelcontextprotocol/server';
import { MeshError, type ListKind } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
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
}

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
  const { scope, registry, catalog, client, logger, observer } = deps;
  const single = scope.kind === 'server' ? scope.server : undefined;
  const descriptor = single ? registry.descriptor(single) : undefined;
  const capabilities: Record<string, unknown> = single ? carriedCapabilities(descriptor?.capabilities) : AGGREGATE_CAPABILITIES;
  const serverInfo = single && descriptor?.serverInfo ? descriptor.serverInfo : MESH_SERVER_INFO;
  const server = new Server(serverInfo as { name: string; version: string }, {
    capabilities,
    ...(single && descriptor?.instructions ? { instructions: descriptor.instructions } : {}),
  });

  /** Sends one request to a server's bridges; progress frames go back to this client. */
  const forward = (note: RequestNote, trace: Context, target: string, method: string, params: Params, ctx: ServerContext) => {
    note.server = target;
    return client.call(target, method, params, {
      deadline: Date.now() + deps.requestTimeoutMs,
      signal: ctx.mcpReq.signal,
      trace,
      stats: note.stats,
      ...(ctx.sessionId ? { session: ctx.sessionId } : {}),
      onNotification: (notification) => {
        void ctx.mcpReq.notify(notification as never).catch(() => undefined);
      },
    });
  };

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
      if (single) return forward(note, trace, single, method, params, ctx);
      const { items } = await catalog.aggregate(kind);
      return { [field]: items };
    });

  /** tools/call and prompts/get: the name routes the request (namespaced on /mcp). */
  const named = (kind: 'tools' | 'prompts', method: string) =>
    handle(method, async (params, note, trace, ctx) => {
      const request = params as Named;
      note.target = request.name;
      if (single) return forward(note, trace, single, method, params, ctx);
      const target = await catalog.resolveName(kind, request.name);
      note.target = target.name;
      return forward(note, trace, target.server, method, { ...request, name: target.name }, ctx);
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
      if (single) return forward(note, trace, single, 'resources/read', params, ctx);
      const target = await catalog.resolveResource(uri);
      const result = await forward(note, trace, target.server, 'resources/read', { ...params, uri: target.name }, ctx);
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
      return forward(note, trace, routed.server, 'completion/complete', { ...request, ref: routed.ref }, ctx);
    });
  }
  return server;
}
