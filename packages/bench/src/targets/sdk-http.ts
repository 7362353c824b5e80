import { fileURLToPath } from 'node:url';

import { startHttpServer } from './http-server-target.js';
import type { BenchTarget } from './target.js';

const SERVER = fileURLToPath(new URL('../sdk-http-server.js', import.meta.url));

/**
 * A reference point, not a competitor: the MCP SDK's Streamable HTTP server transport answering
 * tools/call in-process, with SSE (`json: false`, what the ingress does today) or JSON responses.
 * It bounds what an ingress built on this transport can reach with no NATS and no upstream.
 */
export async function startSdkHttp(options: { sessions: number; json: boolean }): Promise<BenchTarget> {
  const server = await startHttpServer({
    name: 'sdk-http-server',
    args: (port) => [SERVER, '--port', String(port), ...(options.json ? ['--json'] : [])],
    sessions: options.sessions,
    what: 'the SDK HTTP server to listen',
  });
  return {
    id: options.json ? 'sdk-http-json' : 'sdk-http-sse',
    description: `SDK Server + NodeStreamableHTTPServerTransport answering in-process (${options.json ? 'JSON' : 'SSE'} responses), no NATS`,
    watched: [{ role: 'server', pids: () => [server.process.pid] }],
    callers: server.sessions,
    close: server.close,
  };
}
