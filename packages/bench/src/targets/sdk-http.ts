import { fileURLToPath } from 'node:url';

import { freePort } from '@mcp-mesh/testing';

import { HttpMcpSession, keepAliveAgent } from '../http-session.js';
import { ManagedProcess } from '../processes.js';
import { httpGet, waitUntil } from '../wait.js';
import type { BenchTarget } from './target.js';

const SERVER = fileURLToPath(new URL('../sdk-http-server.js', import.meta.url));

/**
 * A reference point, not a competitor: the MCP SDK's Streamable HTTP server transport answering
 * tools/call in-process, with SSE (`json: false`, what the ingress does today) or JSON responses.
 * It bounds what an ingress built on this transport can reach with no NATS and no upstream.
 */
export async function startSdkHttp(options: { sessions: number; json: boolean }): Promise<BenchTarget> {
  const port = await freePort();
  const args = [SERVER, '--port', String(port), ...(options.json ? ['--json'] : [])];
  const server = new ManagedProcess({ name: 'sdk-http-server', command: process.execPath, args });
  const agent = keepAliveAgent();
  const sessions: HttpMcpSession[] = [];
  const close = async () => {
    await Promise.allSettled(sessions.map((session) => session.close()));
    agent.destroy();
    await server.stop();
  };
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await httpGet(`${base}/healthz`))?.status === 200, 'the SDK HTTP server to listen', [server]);
    for (let i = 0; i < options.sessions; i++) sessions.push(await HttpMcpSession.open(`${base}/mcp`, agent));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    id: options.json ? 'sdk-http-json' : 'sdk-http-sse',
    description: `SDK Server + NodeStreamableHTTPServerTransport answering in-process (${options.json ? 'JSON' : 'SSE'} responses), no NATS`,
    watched: [{ role: 'server', pids: () => [server.pid] }],
    callers: sessions,
    close,
  };
}
