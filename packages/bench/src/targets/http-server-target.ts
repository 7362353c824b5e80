import { HttpMcpSession, keepAliveAgent } from '../http-session.js';
import { ManagedProcess, type SpawnSpec } from '../processes.js';
import { httpGet, waitUntil } from '../wait.js';

export interface HttpServerOptions {
  /** The server process; it must answer `GET /healthz` with 200 once it listens on `port`. */
  spec: SpawnSpec;
  port: number;
  /** Path of the MCP endpoint, e.g. `/mcp`. */
  mcpPath: string;
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
 * Starts one HTTP MCP server process, waits for its `/healthz`, and opens `sessions` client
 * sessions on a shared keep-alive agent; on failure it cleans up what it started and rethrows.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const server = new ManagedProcess(options.spec);
  const agent = keepAliveAgent();
  const sessions: HttpMcpSession[] = [];
  const close = async () => {
    await Promise.allSettled(sessions.map((session) => session.close()));
    agent.destroy();
    await server.stop();
  };
  try {
    const base = `http://127.0.0.1:${options.port}`;
    await waitUntil(async () => (await httpGet(`${base}/healthz`))?.status === 200, options.what, [server]);
    for (let i = 0; i < options.sessions; i++) sessions.push(await HttpMcpSession.open(`${base}${options.mcpPath}`, agent));
  } catch (error) {
    await close();
    throw error;
  }
  return { process: server, sessions, close };
}
