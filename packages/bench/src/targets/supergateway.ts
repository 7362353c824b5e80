import { freePort } from '@mcp-mesh/testing';

import { HttpMcpSession, keepAliveAgent } from '../http-session.js';
import { supergatewayEntry } from '../paths.js';
import { nodeDescendants } from '../proc-stats.js';
import { ManagedProcess } from '../processes.js';
import { httpGet, waitUntil } from '../wait.js';
import type { Upstream } from './direct.js';
import type { BenchTarget } from './target.js';

export interface SupergatewayOptions {
  upstream: Upstream;
  /** Client sessions to open. */
  sessions: number;
  /**
   * `stateful` (`--stateful`): one upstream child per client session, kept for the session.
   * `stateless` (supergateway's default): a new upstream child for every HTTP request.
   */
  mode: 'stateful' | 'stateless';
}

/** The fixture server behind supergateway (stdio → Streamable HTTP, one hop), on a free port. */
export async function startSupergateway(options: SupergatewayOptions): Promise<BenchTarget> {
  const port = await freePort();
  const stdio = [options.upstream.command, ...options.upstream.args].map(shellQuote).join(' ');
  const args = [supergatewayEntry(), '--stdio', stdio, '--outputTransport', 'streamableHttp', '--port', String(port)];
  args.push('--logLevel', 'none', '--healthEndpoint', '/healthz');
  if (options.mode === 'stateful') args.push('--stateful');
  const gateway = new ManagedProcess({ name: 'supergateway', command: process.execPath, args });
  const agent = keepAliveAgent();
  const sessions: HttpMcpSession[] = [];
  const close = async () => {
    await Promise.allSettled(sessions.map((session) => session.close()));
    agent.destroy();
    await gateway.stop();
  };
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitUntil(async () => (await httpGet(`${base}/healthz`))?.status === 200, 'supergateway to listen', [gateway]);
    for (let i = 0; i < options.sessions; i++) sessions.push(await HttpMcpSession.open(`${base}/mcp`, agent));
  } catch (error) {
    await close();
    throw error;
  }
  return {
    id: options.mode === 'stateful' ? 'supergateway' : 'supergateway-stateless',
    description:
      options.mode === 'stateful'
        ? `supergateway --stateful (one upstream child per session, ${options.sessions} sessions)`
        : 'supergateway default stateless mode (a new upstream child per request)',
    watched: [
      { role: 'supergateway', pids: () => [gateway.pid] },
      { role: 'upstream', pids: () => nodeDescendants(gateway.pid), reapedBy: () => (gateway.running ? gateway.pid : undefined) },
    ],
    callers: sessions,
    disturbsMachine: options.mode === 'stateless',
    close,
  };
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
