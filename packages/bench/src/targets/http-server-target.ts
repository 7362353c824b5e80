import { freePort } from '@mcp-mesh/testing';
import { HttpMcpSession, keepAliveAgent } from '../http-session.js';
import { ManagedProcess } from '../processes.js';
import { httpGet, waitUntil } from '../wait.js';

export interface HttpServerOptions {
  /** Short name of the server process for progress lines and errors. */
  name: string;
  /** `node` arguments of the server for a free port; it must answer `GET /healthz` with 200 once it listens there. */
  args: (port: number) => string[];
  /** Path of the MCP endpoint (default `/mcp`). */
  mcpPath?: string;
  /** Client sessions to open. */
  sessions: number;
  /** What the readiness wait names in its error, e.g. `supergateway to listen`. */
  what: string;
}

export interface HttpServer {
  readonly process: ManagedProcess;
  readonly sessions: readonly HttpMcpSession[];
  /** Closes the sessions, the keep-alive agent and the process. */
  close(): Promise<void>;
}

/**
 * Starts one HTTP MCP server process (`node` with `args`) on a free port, waits for its
 * `/healthz`, and opens `sessions` client sessions on a shared keep-alive agent; on failure it
 * cleans up what it started and rethrows.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const port = await freePort();
  const server = new ManagedProcess({ name: options.name, command: process.execPath, args: options.args(port) });
  const agent = keepAliveAgent();
  const sessions: HttpMcpSession[] = [];
  const close = async () => {
    await Promise.allSettled(sessions.map((session) => session.close()));
    agent.destroy();
    await server.stop();
  };
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await httpGet(`${base}/healthz`))?.status === 200, options.what, [server]);
    for (let i = 0; i < options.sessions; i++) sessions.push(await HttpMcpSession.open(`${base}${options.mcpPath ?? '/mcp'}`, agent));
  } catch (error) {
    await close();
    throw error;
  }
  return { process: server, sessions, close };
}
