import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SSEServerTransport } from '@modelcontextprotocol/server-legacy/sse';
import type { Server } from '@modelcontextprotocol/server';
import type { Identity } from '@mcp-mesh/policy';
import { sendJsonRpcError } from './http-io.js';
import type { Scope } from './scope.js';

interface LegacySession {
  transport: SSEServerTransport;
  server: Server;
  principal: string;
  scope: string;
}

/**
 * The legacy HTTP+SSE transport (protocol 2024-11-05) for older clients: `GET …/sse` opens the
 * event stream and names the endpoint; `POST …/messages?sessionId=…` delivers each message. The
 * same session servers, routing and policy as Streamable HTTP serve it.
 */
export class LegacySseSessions {
  private readonly sessions = new Map<string, LegacySession>();

  constructor(private readonly build: (scope: Scope, identity: Identity) => Server) {}

  async open(scope: Scope, base: string, identity: Identity, res: ServerResponse): Promise<void> {
    // Loaded on the first legacy client (Node caches it): most ingresses never hold it (~8 MB of RSS).
    const { SSEServerTransport } = await import('@modelcontextprotocol/server-legacy/sse');
    // The client may have gone while the transport's module loaded: nothing to open for it.
    if (res.destroyed || res.writableEnded) return;
    const transport = new SSEServerTransport(`${base}/messages`, res);
    const server = this.build(scope, identity);
    const session: LegacySession = { transport, server, principal: identity.principal, scope: base };
    this.sessions.set(transport.sessionId, session);
    transport.onclose = () => this.sessions.delete(transport.sessionId);
    await server.connect(transport as never);
  }

  async post(base: string, identity: Identity, req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const id = new URL(req.url ?? '/', 'http://ingress').searchParams.get('sessionId');
    const session = id ? this.sessions.get(id) : undefined;
    if (!session || session.scope !== base || session.principal !== identity.principal) {
      return sendJsonRpcError(res, 404, -32001, `Session not found: open ${base}/sse first and post to the endpoint it names`, {
        meshCode: 'MESH_SESSION_NOT_FOUND',
      });
    }
    await session.transport.handlePostMessage(req as never, res, body);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.sessions.values()].map((session) => session.transport.close()));
    this.sessions.clear();
  }
}
