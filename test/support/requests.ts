import { fixtureServerCommand } from '@mcp-mesh/testing';
import { CLI } from './paths.js';
import { TestProcess } from './processes.js';

/** A raw `initialize` POST (no SDK), for tests of what the ingress answers before a session exists. */
export function postInitialize(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
}

/** A raw `tools/list` POST on a 2025-11-25 session (no SDK), for tests of which sessions an ingress honours. */
export function postToolsList(url: string, sessionId: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
}

/** `mcp-mesh bridge --name <name>` for the fixture server, on a given NATS URL, with fast heartbeats. */
export function startFixtureBridge(natsUrl: string, name: string, logLevel = 'error'): TestProcess {
  const fixture = fixtureServerCommand({ name });
  return new TestProcess(process.execPath, [
    CLI,
    'bridge',
    '--name',
    name,
    '--nats-url',
    natsUrl,
    '--heartbeat',
    '300',
    '--log-level',
    logLevel,
    '--',
    fixture.command,
    ...fixture.args,
  ]);
}
