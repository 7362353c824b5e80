/** The MCP protocol version every bench client speaks (legacy era: initialize + Mcp-Session-Id). */
export const BENCH_PROTOCOL_VERSION = '2025-06-18';

export const CLIENT_INFO = { name: 'mcp-mesh-bench', version: '0.1.0' } as const;

export interface JsonRpcReply {
  id?: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** A call that failed: a JSON-RPC error, a tool error (`isError`), a bad status or a broken stream. */
export class CallFailed extends Error {
  override readonly name = 'CallFailed';
}

export function initializeRequest(id: number): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion: BENCH_PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO },
  });
}

export const INITIALIZED_NOTIFICATION = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/**
 * Serialises a tools/call once and returns a builder that only splices in the id, so the load
 * generator spends no time re-encoding arguments (a 100 KB workload stays cheap on the client).
 */
export function toolCallTemplate(name: string, args: Record<string, unknown>): (id: number) => string {
  const params = JSON.stringify({ name, arguments: args });
  return (id) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`;
}

/** Throws CallFailed unless the reply is a successful result (and not a tool error). */
export function checkReply(reply: JsonRpcReply): Record<string, unknown> {
  if (reply.error) throw new CallFailed(`JSON-RPC error ${reply.error.code}: ${reply.error.message}`);
  if (!reply.result) throw new CallFailed('reply has neither result nor error');
  if (reply.result.isError === true) throw new CallFailed(`tool error: ${JSON.stringify(reply.result.content).slice(0, 200)}`);
  return reply.result;
}

/**
 * The reply with `id` from an HTTP response body: plain JSON (`application/json`) or the `data:`
 * lines of an SSE stream (`text/event-stream`), where notifications may precede the response.
 */
export function replyFromBody(contentType: string | undefined, body: string, id: number): JsonRpcReply {
  if (contentType?.startsWith('text/event-stream')) {
    let start = 0;
    while (start < body.length) {
      let end = body.indexOf('\n', start);
      if (end === -1) end = body.length;
      if (body.startsWith('data:', start)) {
        const message = JSON.parse(body.slice(start + 5, end)) as JsonRpcReply;
        if (message.id === id) return message;
      }
      start = end + 1;
    }
    throw new CallFailed(`SSE stream ended without the response to request ${id}`);
  }
  const message = JSON.parse(body) as JsonRpcReply;
  if (message.id !== id && message.id !== null) throw new CallFailed(`response id ${String(message.id)} does not match request ${id}`);
  return message;
}
