import { supergatewayEntry } from '../paths.js';
import { nodeDescendants } from '../proc-stats.js';
import type { Upstream } from './direct.js';
import { startHttpServer } from './http-server-target.js';
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
  const stdio = [options.upstream.command, ...options.upstream.args].map(shellQuote).join(' ');
  const server = await startHttpServer({
    name: 'supergateway',
    args: (port) => [
      supergatewayEntry(),
      ...['--stdio', stdio, '--outputTransport', 'streamableHttp', '--port', String(port)],
      ...['--logLevel', 'none', '--healthEndpoint', '/healthz'],
      ...(options.mode === 'stateful' ? ['--stateful'] : []),
    ],
    sessions: options.sessions,
    what: 'supergateway to listen',
  });
  const gateway = server.process;
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
    callers: server.sessions,
    disturbsMachine: options.mode === 'stateless',
    close: server.close,
  };
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./=:-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
