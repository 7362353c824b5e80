import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { MeshClient } from '@mcp-mesh/ingress';
import { MeshError, Subjects } from '@mcp-mesh/protocol';
import { TestMesh } from '../support/mesh.js';
import { waitFor } from '../support/processes.js';
import { rejection } from '../support/rejection.js';

const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text };
}

/** The JSON-RPC error of a response, whether it came as JSON or as one SSE event. */
function errorOf(text: string): { code: number; message: string; data?: { meshCode?: string } } {
  const json = text.startsWith('{')
    ? text
    : text
        .split('\n')
        .find((line) => line.startsWith('data: {'))!
        .slice(6);
  return (JSON.parse(json) as { error: { code: number; message: string } }).error;
}

describe('bad input gets a clear answer, and nothing breaks', () => {
  let mesh: TestMesh;
  let client: Client;

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('slow', { timeoutMs: 500 });
    await mesh.addBridge('fragile');
    await mesh.addBridge('patient', { logLevel: 'info' });
    client = await mesh.client();
  });
  afterAll(async () => mesh?.close());

  it('malformed JSON -> -32700', async () => {
    const { status, text } = await post(mesh.url, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(status).toBe(400);
    expect(errorOf(text).code).toBe(-32700);
  });

  it('a body that is not JSON-RPC -> -32600 naming the problem', async () => {
    const { status, text } = await post(mesh.url, JSON.stringify({ jsonrpc: '1.0', id: 1, method: 'initialize' }));
    expect(status).toBe(400);
    const error = errorOf(text);
    expect(error.code).toBe(-32600);
    expect(error.message).toContain('jsonrpc');
  });

  it('a batch -> -32600', async () => {
    const { status, text } = await post(mesh.url, JSON.stringify([INIT]));
    expect(status).toBe(400);
    expect(errorOf(text).code).toBe(-32600);
  });

  it('a request without a session -> 400 saying to initialize first', async () => {
    const { status, text } = await post(mesh.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }));
    expect(status).toBe(400);
    expect(errorOf(text).message).toContain('initialize');
  });

  it('an unknown session -> 404', async () => {
    const { status, text } = await post(mesh.url, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), {
      'mcp-session-id': 'no-such-session',
      'mcp-protocol-version': '2025-11-25',
    });
    expect(status).toBe(404);
    expect(errorOf(text).message).toContain('no-such-session');
  });

  it('params of the wrong shape -> -32602 with a useful message', async () => {
    const init = await post(mesh.url, JSON.stringify(INIT));
    const session = init.headers.get('mcp-session-id')!;
    expect(session).toBeTruthy();
    const headers = { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
    await post(mesh.url, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), headers);
    const { text } = await post(
      mesh.url,
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { arguments: {} } }),
      headers,
    );
    const error = errorOf(text);
    expect(error.code).toBe(-32602);
    expect(error.message).toMatch(/name/);
  });

  it('an unknown method -> -32601', async () => {
    const error = await rejection(
      client.request({ method: 'acme/unknown', params: {} }, {
        '~standard': { version: 1, vendor: 't', validate: (v: unknown) => ({ value: v }) },
      } as never),
    );
    expect(error.code).toBe(-32601);
  });

  it('an unknown tool -> an error naming the tool and the server', async () => {
    const error = await rejection(client.callTool({ name: 'fragile__nope', arguments: {} }));
    expect(error.code).toBe(-32602);
    expect(error.message).toContain("'fragile__nope'");
    expect(error.message).toContain("no tool named 'nope'");
  });

  it('an unknown server -> an error naming the server and the live ones', async () => {
    const error = await rejection(client.callTool({ name: 'ghost__echo', arguments: {} }));
    expect(error.message).toContain("server 'ghost'");
    expect(error.message).toContain('fragile');
    expect((error.data as { meshCode: string }).meshCode).toBe('MESH_UNKNOWN_SERVER');
  });

  it('a server with no live bridge -> an immediate error from NATS no-responders, not a timeout', async () => {
    const meshClient = new MeshClient(mesh.nc, new Subjects());
    const started = Date.now();
    const error = await meshClient
      .call('nobody', 'tools/call', { name: 'x' }, { deadline: Date.now() + 30_000 })
      .catch((e: unknown) => e as MeshError);
    meshClient.close();
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('MESH_SERVER_UNAVAILABLE');
    expect((error as MeshError).message).toContain("'nobody'");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an upstream that hangs -> a timeout error after the deadline', async () => {
    const error = await rejection(client.callTool({ name: 'slow__sleep', arguments: { ms: 600_000 } }));
    expect(error.code).toBe(-32011);
    expect((error.data as { meshCode: string }).meshCode).toBe('MESH_UPSTREAM_TIMEOUT');
    // The same bridge serves the next call.
    const ok = await client.callTool({ name: 'slow__echo', arguments: { text: 'after the timeout' } });
    expect(ok.content).toEqual([{ type: 'text', text: 'after the timeout' }]);
  });

  it('a call the client cancels is cancelled upstream too', async () => {
    const abort = new AbortController();
    const call = client.callTool({ name: 'patient__sleep', arguments: { ms: 600_000 } }, { signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 300));
    abort.abort();
    await expect(call).rejects.toThrow();
    const bridge = mesh.bridges.at(-1)!;
    // The fixture logs the abort of its own handler: the cancel crossed ingress -> NATS -> bridge -> server.
    await waitFor(() => bridge.stderr.includes('sleep 600000 cancelled'), 'the upstream to see the cancel', 5_000);
  });

  it('an upstream that crashes mid-call -> an error for that call, and the bridge recovers', async () => {
    const before = await client.callTool({ name: 'fragile__whoami', arguments: {} });
    const pidBefore = (before.structuredContent as { pid: number }).pid;
    const error = await rejection(client.callTool({ name: 'fragile__crash', arguments: {} }));
    expect((error.data as { meshCode: string }).meshCode).toBe('MESH_UPSTREAM_CRASHED');
    expect(error.message).toContain('exited with code 1');
    const after = await client.callTool({ name: 'fragile__whoami', arguments: {} });
    const pidAfter = (after.structuredContent as { pid: number }).pid;
    expect(pidAfter).not.toBe(pidBefore);
    await waitFor(() => (mesh.ingress.registry.descriptor('fragile')?.restarts ?? 0) === 1, 'the restart to show in the heartbeat');
  });

  it('a tool error result passes through as a result, a thrown error as an error', async () => {
    const failed = await client.callTool({ name: 'fragile__fail', arguments: { message: 'nope' } });
    expect(failed.isError).toBe(true);
    expect(failed.content).toEqual([{ type: 'text', text: 'nope' }]);
  });

  it('a foreign Origin is refused (DNS rebinding)', async () => {
    const { status } = await post(mesh.url, JSON.stringify(INIT), { origin: 'http://evil.example' });
    expect(status).toBe(403);
  });

  it('kept serving well-formed calls throughout', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.callTool({ name: 'fragile__echo', arguments: { text: `ok ${i}` } })),
    );
    expect(results.map((r) => (r.content as { text: string }[])[0]!.text)).toEqual(Array.from({ length: 20 }, (_, i) => `ok ${i}`));
  });
});
