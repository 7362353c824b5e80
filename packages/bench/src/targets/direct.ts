import { SdkStdioSession } from '../sdk-session.js';
import { StdioMcpSession } from '../stdio-session.js';
import type { BenchTarget } from './target.js';

export interface Upstream {
  command: string;
  args: string[];
}

/**
 * The floor: the server as a child of the load generator, JSON-RPC pipelined over its stdio.
 * One process, one session; every call of every worker shares it (as a gateway's single
 * upstream connection would).
 */
export async function startDirect(upstream: Upstream): Promise<BenchTarget> {
  const session = await StdioMcpSession.open(upstream.command, upstream.args);
  return {
    id: 'direct',
    description: 'fixture server as a child process, raw JSON-RPC pipelined over stdio (the floor)',
    watched: [{ role: 'upstream', pids: () => [session.pid] }],
    callers: [session],
    close: () => session.close(),
  };
}

/** The same, through the MCP SDK's `Client` + `StdioClientTransport` (client-side validation included). */
export async function startDirectSdk(upstream: Upstream): Promise<BenchTarget> {
  const session = await SdkStdioSession.open(upstream.command, upstream.args);
  const pid = session.pid;
  return {
    id: 'direct-sdk',
    description: 'fixture server over stdio through the MCP SDK Client + StdioClientTransport',
    watched: pid === undefined ? [] : [{ role: 'upstream', pids: () => [pid] }],
    callers: [session],
    close: () => session.close(),
  };
}
