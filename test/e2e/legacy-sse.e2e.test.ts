import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, SSEClientTransport } from '@modelcontextprotocol/client';
import { TestMesh } from '../support/mesh.js';

describe('the legacy HTTP+SSE transport for older clients', () => {
  let mesh: TestMesh;
  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('old');
  });
  afterAll(async () => mesh?.close());

  it('serves /sse + /messages with the aggregated names', async () => {
    const client = new Client({ name: 'old-client', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${mesh.ingress.url}/sse`)));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('old__echo');
    const result = await client.callTool({ name: 'old__echo', arguments: { text: 'over the old transport' } });
    expect(result.content).toEqual([{ type: 'text', text: 'over the old transport' }]);
    await client.close();
  });

  it('serves one server alone at /servers/<name>/sse', async () => {
    const client = new Client({ name: 'old-client', version: '1' });
    await client.connect(new SSEClientTransport(new URL(`${mesh.ingress.url}/servers/old/sse`)));
    const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
    expect(result.structuredContent).toEqual({ sum: 42 });
    await client.close();
  });

  it('refuses a message for an unknown session with 404', async () => {
    const response = await fetch(`${mesh.ingress.url}/messages?sessionId=nope`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(response.status).toBe(404);
  });
});
