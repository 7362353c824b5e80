import { Server, type ServerContext } from '@modelcontextprotocol/server';
import { MeshError, type ListKind } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import type { Catalog } from './catalog.js';
import type { MeshClient } from './mesh-client.js';
import type { Registry } from './registry.js';
import type { Scope } from './scope.js';
import { toProtocolError } from './to-protocol-error.js';

export const MESH_SERVER_INFO = { name: 'mcp-mesh', version: '0.1.0' } as const;

export interface SessionServerDeps {
  scope: Scope;
  registry: Registry;
  catalog: Catalog;
  client: MeshClient;
  logger: Logger;
  requestTimeoutMs: number;
}

type Params = Record<string, unknown> | undefined;

/** Capabilities the mesh carries for one upstream (list_changed is always delivered by the mesh). */
function carriedCapabilities(upstream: Record<string, unknown> | undefined): Record<string, unknown> {
  const caps: Record<string, unknown> = {};
  if (upstream?.tools) caps.tools = { listChanged: true };
  if (upstream?.prompts) caps.prompts = { listChanged: true };
  if (upstream?.resources) caps.resources = { listChanged: true };
  if (upstream?.completions) caps.completions = {};
  return caps;
}

/**
 * Builds the MCP server one client session talks to. The ingress answers `initialize` and `ping`
 * itself; every other method is routed over NATS to the bridge of the server that owns it.
 */
export function createSessionServer(deps: SessionServerDeps): Server {
  const { scope, registry, catalog, client, logger } = deps;
  const single = scope.kind === 'server' ? scope.server : undefined;
  const descriptor = single ? registry.descriptor(single) : undefined;
  const capabilities = single
    ? carriedCapabilities(descriptor?.capabilities)
    : { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { listChanged: true }, completions: {} };
  const serverInfo = single && descriptor?.serverInfo ? descriptor.serverInfo : MESH_SERVER_INFO;
  const server = new Server(serverInfo as { name: string; version: string }, {
    capabilities,
    ...(single && descriptor?.instructions ? { instructions: descriptor.instructions } : {}),
  });

  const forward = (target: string, method: string, params: Params, ctx: ServerContext) =>
    client.call(target, method, params, {
      deadline: Date.now() + deps.requestTimeoutMs,
      signal: ctx.mcpReq.signal,
      ...(ctx.sessionId ? { session: ctx.sessionId } : {}),
      onNotification: (notification) => {
        void ctx.mcpReq.notify(notification as never).catch(() => undefined);
      },
    });

  const guard = <R>(method: string, work: () => Promise<R>): Promise<R> =>
    work().catch((error: unknown) => {
      throw toProtocolError(error, logger, { method, scope: scope.kind === 'server' ? scope.server : 'aggregate' });
    });

  const list = async (kind: ListKind, method: string, field: string, params: Params, ctx: ServerContext) => {
    if (single) return forward(single, method, params, ctx);
    const { items } = await catalog.aggregate(kind);
    return { [field]: items };
  };

  const offers = (capability: string) => (capabilities as Record<string, unknown>)[capability] !== undefined;

  if (offers('tools')) {
    server.setRequestHandler('tools/list', (request, ctx) =>
      guard('tools/list', () => list('tools', 'tools/list', 'tools', request.params as Params, ctx) as never),
    );
    registerToolCall();
  }
  if (offers('prompts')) {
    server.setRequestHandler('prompts/list', (request, ctx) =>
      guard('prompts/list', () => list('prompts', 'prompts/list', 'prompts', request.params as Params, ctx) as never),
    );
    registerPromptGet();
  }
  if (offers('resources')) {
    server.setRequestHandler('resources/list', (request, ctx) =>
      guard('resources/list', () => list('resources', 'resources/list', 'resources', request.params as Params, ctx) as never),
    );
    server.setRequestHandler('resources/templates/list', (request, ctx) =>
      guard(
        'resources/templates/list',
        () => list('resourceTemplates', 'resources/templates/list', 'resourceTemplates', request.params as Params, ctx) as never,
      ),
    );
    registerResourceRead();
  }
  if (offers('completions')) registerCompletion();
  return server;

  function registerToolCall(): void {
    server.setRequestHandler('tools/call', (request, ctx) =>
      guard('tools/call', async () => {
        const params = request.params as Record<string, unknown> & { name: string };
        if (single) return forward(single, 'tools/call', params, ctx) as never;
        const target = await catalog.resolveName('tools', params.name);
        return forward(target.server, 'tools/call', { ...params, name: target.name }, ctx) as never;
      }),
    );
  }

  function registerPromptGet(): void {
    server.setRequestHandler('prompts/get', (request, ctx) =>
      guard('prompts/get', async () => {
        const params = request.params as Record<string, unknown> & { name: string };
        if (single) return forward(single, 'prompts/get', params, ctx) as never;
        const target = await catalog.resolveName('prompts', params.name);
        return forward(target.server, 'prompts/get', { ...params, name: target.name }, ctx) as never;
      }),
    );
  }

  function registerResourceRead(): void {
    server.setRequestHandler('resources/read', (request, ctx) =>
      guard('resources/read', async () => {
        const params = request.params as Record<string, unknown> & { uri: string };
        if (single) return forward(single, 'resources/read', params, ctx) as never;
        const target = await catalog.resolveResource(params.uri);
        const result = await forward(target.server, 'resources/read', { ...params, uri: target.name }, ctx);
        if (target.name === params.uri) return result as never;
        // The client asked by the mesh-rewritten URI: answer with that URI.
        const contents = Array.isArray(result.contents)
          ? result.contents.map((c: Record<string, unknown>) => (c.uri === target.name ? { ...c, uri: params.uri } : c))
          : result.contents;
        return { ...result, contents } as never;
      }),
    );
  }

  function registerCompletion(): void {
    server.setRequestHandler('completion/complete', (request, ctx) =>
      guard('completion/complete', async () => {
        const params = request.params as Record<string, unknown> & { ref: { type: string; name?: string; uri?: string } };
        if (single) return forward(single, 'completion/complete', params, ctx) as never;
        const routed = await catalog.resolveCompletionRef(params.ref);
        const descriptorOfTarget = registry.descriptor(routed.server);
        if (!descriptorOfTarget?.capabilities?.completions) {
          throw new MeshError('MESH_METHOD_NOT_FOUND', `server '${routed.server}' does not offer completions`, {
            details: { server: routed.server },
          });
        }
        return forward(routed.server, 'completion/complete', { ...params, ref: routed.ref }, ctx) as never;
      }),
    );
  }
}
