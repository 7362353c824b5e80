import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import { JsonRpcCode } from '@mcp-mesh/protocol';
import type { Catalog } from './catalog.js';
import { declaredParamHeaders, paramHeaderMismatch } from './param-headers.js';
import type { Scope } from './scope.js';

/**
 * 2026-07-28 (SEP-2575): a method the server does not implement is answered with HTTP 404 and
 * -32601. The SDK does that for methods it knows are missing; a method the mesh forwards learns it
 * only from the upstream's -32601, after dispatch, which the SDK sends with HTTP 200. This wrapper
 * gives that answer its 404 (JSON answers only; a streamed one has already sent its status).
 */
export function withMethodNotFound404(handler: McpHttpHandler): Pick<McpHttpHandler, 'fetch'> {
  return {
    fetch: async (request, options) => {
      const response = await handler.fetch(request, options);
      if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('application/json')) return response;
      const text = await response.text();
      // Only an error answer can be a -32601: a result (large, often) is passed on unparsed.
      if (!text.includes('"error"')) return new Response(text, { status: 200, headers: withoutLength(response.headers) });
      let code: unknown;
      try {
        code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code;
      } catch {
        code = undefined;
      }
      return new Response(text, { status: code === JsonRpcCode.MethodNotFound ? 404 : 200, headers: withoutLength(response.headers) });
    },
  };
}

function withoutLength(original: Headers): Headers {
  const headers = new Headers(original);
  headers.delete('content-length');
  return headers;
}

const ToolCallSchema = z.object({
  method: z.literal('tools/call'),
  params: z.object({ name: z.string(), arguments: z.unknown().optional() }).passthrough(),
});

/**
 * SEP-2243: why a modern `tools/call`'s `Mcp-Param-*` headers disagree with its arguments, judged
 * against the tool's schema in the catalog (undefined when they agree, the request is no tool call,
 * or the tool is not known here: the handler then answers as usual).
 */
export async function paramHeaderProblem(
  catalog: Catalog,
  scope: Scope,
  body: unknown,
  headers: IncomingHttpHeaders,
  listTimeoutMs: number,
): Promise<{ header: string; message: string } | undefined> {
  // Most modern requests are no tool call: no schema parse for them.
  if (scope.kind === 'view' || (body as { method?: unknown } | null)?.method !== 'tools/call') return undefined;
  const call = ToolCallSchema.safeParse(body);
  if (!call.success) return undefined;
  const { name, arguments: args } = call.data.params;
  try {
    const target = scope.kind === 'server' ? { server: scope.server, name } : await catalog.resolveName('tools', name);
    const tools = await catalog.serverList(target.server, 'tools', Date.now() + listTimeoutMs);
    const tool = tools.find((item) => item.name === target.name);
    if (!tool) return undefined;
    return paramHeaderMismatch(declaredParamHeaders(tool.inputSchema), args, headers);
  } catch {
    return undefined;
  }
}
