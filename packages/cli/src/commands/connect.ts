import { z } from 'zod';
import { StreamableHTTPClientTransport, type JSONRPCMessage } from '@modelcontextprotocol/client';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { MeshError } from '@mcp-mesh/protocol';
import { parseOptions } from '../options.js';
import { warn } from '../output.js';

export const ConnectOptionsSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: 'the mesh URL must be http(s), e.g. http://127.0.0.1:8080/mcp' }),
  header: z.array(z.string().regex(/^[A-Za-z0-9-]+:\s?.+$/, 'use --header "Name: value"')).default([]),
});

/** Headers from `--header "Name: value"` flags, plus `Authorization: Bearer $MCP_MESH_TOKEN` when set. */
export function connectHeaders(flags: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const headers: Record<string, string> = {};
  if (env.MCP_MESH_TOKEN) headers.authorization = `Bearer ${env.MCP_MESH_TOKEN}`;
  for (const flag of flags) {
    const at = flag.indexOf(':');
    headers[flag.slice(0, at).trim().toLowerCase()] = flag.slice(at + 1).trim();
  }
  return headers;
}

/**
 * `mcp-mesh connect <url>`: a stdio MCP server for desktop clients that only speak stdio, relaying
 * every message to a remote mesh over Streamable HTTP and back (both directions, so notifications
 * and server->client requests work). Logs go to stderr; stdout is the protocol.
 */
export async function runConnect(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const options = parseOptions(ConnectOptionsSchema, input, 'connect');
  const remote = new StreamableHTTPClientTransport(new URL(options.url), { requestInit: { headers: connectHeaders(options.header, env) } });
  const local = new StdioServerTransport();
  const initializeIds = new Set<string | number>();
  let closing = false;
  const close = async (code: number) => {
    if (closing) return;
    closing = true;
    await remote.terminateSession().catch(() => undefined);
    await Promise.allSettled([remote.close(), local.close()]);
    process.exit(code);
  };

  local.onmessage = (message: JSONRPCMessage) => {
    const request = message as { id?: string | number; method?: string };
    if (request.method === 'initialize' && request.id !== undefined) initializeIds.add(request.id);
    remote.send(message).catch((error: Error) => {
      warn(`mcp-mesh connect: could not reach ${options.url}: ${error.message}`);
      // A request that could not be delivered gets an error answer rather than hanging the client.
      if (request.id !== undefined && request.method !== undefined) {
        void local.send({
          jsonrpc: '2.0',
          id: request.id,
          error: { code: -32000, message: `mcp-mesh connect: ${error.message}` },
        } as JSONRPCMessage);
      }
    });
  };
  remote.onmessage = (message: JSONRPCMessage) => {
    const response = message as { id?: string | number; result?: { protocolVersion?: string } };
    if (response.id !== undefined && initializeIds.delete(response.id) && response.result?.protocolVersion) {
      remote.setProtocolVersion(response.result.protocolVersion);
    }
    void local.send(message).catch(() => undefined);
  };
  remote.onerror = (error) => warn(`mcp-mesh connect: ${error.message}`);
  local.onerror = (error) => warn(`mcp-mesh connect: ${error.message}`);
  local.onclose = () => void close(0);
  process.stdin.once('end', () => void close(0));
  process.once('SIGINT', () => void close(130));
  process.once('SIGTERM', () => void close(0));
  try {
    await remote.start();
  } catch (error) {
    throw new MeshError('MESH_BUS_UNAVAILABLE', `cannot connect to ${options.url}: ${(error as Error).message}`);
  }
  await local.start();
}
