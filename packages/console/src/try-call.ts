import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { checkJsonDepth, type Identity } from '@mcp-mesh/policy';
import { MeshError } from '@mcp-mesh/protocol';
import type { CallResponse } from './api-types.js';
import { BodyTooLargeError, readBody, sendError, sendJson, sendMethodNotAllowed } from './http.js';
import { loopbackFetch, loopbackUrl } from './loopback-fetch.js';
import { canSeeServer, type ConsoleIngress } from './mesh-view.js';

/** POST /api/call: which tool, with what arguments. Strict: an unknown key is a mistake worth telling. */
export const CallRequestSchema = z
  .object({
    server: z.string().min(1).max(64),
    tool: z.string().min(1).max(256),
    arguments: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export interface TryCallOptions {
  /** The ingress's deadline of one call; the console waits a little longer for its answer. */
  requestTimeoutMs: number;
  /** Largest request body accepted, bytes (default 1 MiB). */
  maxBodyBytes?: number;
}

const CLIENT_INFO = { name: 'mcp-mesh-console', version: '0.1.0' };

/** The credential headers of the request, to call the MCP endpoint as the same caller. */
function credentials(ingress: ConsoleIngress, req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  if (typeof req.headers.authorization === 'string') headers.authorization = req.headers.authorization;
  const apiKeyHeader = ingress.activePolicy?.authenticator?.apiKeyHeaderName;
  const apiKey = apiKeyHeader ? req.headers[apiKeyHeader] : undefined;
  if (apiKeyHeader && typeof apiKey === 'string') headers[apiKeyHeader] = apiKey;
  return headers;
}

/**
 * The try-it panel's call. It goes through the ingress's own MCP endpoint for the server
 * (`/servers/<name>/mcp`), as an MCP client carrying the caller's credentials: the call meets the
 * whole gateway policy (RBAC, rate limits, token budgets, breakers, bulkheads), is traced,
 * measured and audited exactly like any client's, and shows up in the live view and the audit
 * tail through the same paths. The RBAC check here only answers early and clearly.
 */
export async function serveCall(
  ingress: ConsoleIngress,
  identity: Identity,
  req: IncomingMessage,
  res: ServerResponse,
  options: TryCallOptions,
): Promise<void> {
  if (req.method !== 'POST') return sendMethodNotAllowed(res, 'POST');
  // A cross-site form cannot send JSON without a preflight: refusing other types closes that door too.
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') return sendError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', 'send the call as application/json');
  let text: string;
  try {
    text = await readBody(req, options.maxBodyBytes ?? 1024 * 1024);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return sendError(res, 413, 'PAYLOAD_TOO_LARGE', error.message);
    throw error;
  }
  let body: unknown;
  try {
    checkJsonDepth(text, ingress.activePolicy!.limits.maxJsonDepth);
    body = JSON.parse(text);
  } catch (error) {
    const message = error instanceof MeshError ? error.message : `the body is not JSON: ${(error as Error).message}`;
    return sendError(res, 400, 'INVALID_REQUEST', message);
  }
  const parsed = CallRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`);
    return sendError(res, 400, 'INVALID_REQUEST', `invalid call: ${issues.join('; ')}`, { issues });
  }
  const { server, tool, arguments: args } = parsed.data;
  if (!ingress.registry.isLive(server) || !canSeeServer(ingress, identity, server)) {
    return sendError(res, 404, 'UNKNOWN_SERVER', `no live server named '${server}'`);
  }
  const decision = ingress.activePolicy!.authorizer.can(identity, { kind: 'tool', server, name: tool });
  if (!decision.allowed) {
    return sendError(
      res,
      403,
      'FORBIDDEN',
      `${identity.principal} may not call tool '${tool}' of server '${server}' (rule ${decision.rule})`,
    );
  }

  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  // Loaded on the first console call (Node caches it): an ingress that nobody tries a tool from
  // never holds the client SDK (~26 MB of RSS measured; docs/performance.md, finding 9).
  const { Client, ProtocolError, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
  const base = loopbackUrl(ingress.url);
  const transport = new StreamableHTTPClientTransport(new URL(`/servers/${encodeURIComponent(server)}/mcp`, base), {
    fetch: loopbackFetch(base, req.headers.host ?? base.host),
    requestInit: { headers: credentials(ingress, req) },
  });
  const client = new Client(CLIENT_INFO);
  const started = performance.now();
  const timeout = options.requestTimeoutMs + 5_000;
  let answer: CallResponse;
  try {
    await client.connect(transport, { signal: abort.signal, timeout });
    try {
      const result = await client.callTool({ name: tool, arguments: args }, { signal: abort.signal, timeout });
      answer = { outcome: result.isError === true ? 'tool_error' : 'ok', result, latencyMs: performance.now() - started };
    } finally {
      // Ends the MCP session now rather than when it idles out.
      await transport.terminateSession().catch(() => undefined);
    }
  } catch (error) {
    if (abort.signal.aborted) return;
    if (error instanceof ProtocolError) {
      answer = {
        outcome: 'error',
        error: { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) },
        latencyMs: performance.now() - started,
      };
    } else {
      return sendError(res, 502, 'CALL_FAILED', `the call did not reach the mesh: ${(error as Error).message}`);
    }
  } finally {
    await client.close().catch(() => undefined);
  }
  sendJson(res, 200, answer);
}
