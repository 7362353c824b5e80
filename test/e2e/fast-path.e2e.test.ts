import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { conformanceServerCommand } from '@mcp-mesh/testing';
import { TestMesh } from '../support/mesh.js';

/**
 * The ingress answers a plain tools/call as one JSON response (its fast path), and moves a call to
 * an SSE stream only when the call streams: notifications or server->client requests.
 */
describe('tools/call: JSON when nothing streams, SSE when the call does', () => {
  let mesh: TestMesh;
  /** Content type of each tools/call response, by tool name, in order. */
  const responses: { tool: string; type: string }[] = [];

  const recordingFetch: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: string; params?: { name?: string } }) : {};
    if (body.method === 'tools/call') responses.push({ tool: body.params?.name ?? '', type: response.headers.get('content-type') ?? '' });
    return response;
  };

  const client = (path: string, prepare?: (client: Client) => void) => mesh.client(path, {}, prepare, recordingFetch);

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('conf', { upstream: conformanceServerCommand({ name: 'conf' }), sessionMode: 'per-client' });
    await mesh.addBridge('fix');
  });
  afterAll(async () => mesh?.close());

  it('answers a call that only returns a result with application/json', async () => {
    const c = await client('/servers/fix/mcp');
    const result = await c.callTool({ name: 'echo', arguments: { text: 'fast' } });
    expect(result.content).toEqual([{ type: 'text', text: 'fast' }]);
    const failed = await c.callTool({ name: 'fail', arguments: { message: 'told to fail' } }).catch((error: unknown) => error);
    expect(JSON.stringify(failed)).toContain('told to fail');
    expect(responses.filter((r) => r.tool === 'echo' || r.tool === 'fail').map((r) => r.type)).toEqual([
      'application/json',
      'application/json',
    ]);
  });

  it("writes the bridge's result bytes as they came (multi-byte text, escapes, string ids), with the right length", async () => {
    const text = `"quoted" \\ back\nslash ü€😀 ${'ß'.repeat(5_000)} \u2028 end`;
    const session = await fetch(`${mesh.ingress.url}/servers/fix/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-session-id': session.headers.get('mcp-session-id')!,
      'mcp-protocol-version': '2025-06-18',
    };
    await session.text();
    await fetch(`${mesh.ingress.url}/servers/fix/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
    });
    for (const id of [7, 'ab"c']) {
      const response = await fetch(`${mesh.ingress.url}/servers/fix/mcp`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } }),
      });
      expect(response.headers.get('content-type')).toBe('application/json');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(Number(response.headers.get('content-length'))).toBe(bytes.length);
      expect(JSON.parse(bytes.toString('utf8'))).toEqual({ jsonrpc: '2.0', id, result: { content: [{ type: 'text', text }] } });
    }
  });

  it('moves a call to SSE when it logs, and delivers every message and the result', async () => {
    const messages: unknown[] = [];
    const c = await client('/servers/conf/mcp', (sdk) =>
      sdk.setNotificationHandler('notifications/message', (notification) => void messages.push(notification.params.data)),
    );
    await c.setLoggingLevel('debug');
    const result = await c.callTool({ name: 'test_tool_with_logging', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'Tool with logging executed successfully' }]);
    expect(messages.filter((m) => typeof m === 'string' && m.startsWith('Tool '))).toEqual([
      'Tool execution started',
      'Tool processing data',
      'Tool execution completed',
    ]);
    expect(responses.find((r) => r.tool === 'test_tool_with_logging')?.type).toBe('text/event-stream');
  });

  it('moves a call to SSE when the server asks the client (sampling), and the call completes with the answer', async () => {
    const c = await client('/servers/conf/mcp', (sdk) =>
      sdk.setRequestHandler('sampling/createMessage', async (request) => ({
        model: 'test',
        role: 'assistant',
        content: { type: 'text', text: `echo of ${JSON.stringify(request.params.messages[0]?.content)}` },
      })),
    );
    const calls = [];
    for (const k of [1, 2, 3]) calls.push(await c.callTool({ name: 'test_sampling', arguments: { prompt: `question ${k}` } }));
    calls.forEach((result, k) => expect(JSON.stringify(result.content)).toContain(`question ${k + 1}`));
    expect(responses.filter((r) => r.tool === 'test_sampling').map((r) => r.type)).toEqual(Array(3).fill('text/event-stream'));
    // The same session still takes the fast path for calls that do not stream.
    await c.callTool({ name: 'test_simple_text', arguments: {} });
    expect(responses.at(-1)).toEqual({ tool: 'test_simple_text', type: 'application/json' });
  });
});
