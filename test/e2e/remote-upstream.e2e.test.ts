import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceServerCommand, freePort } from '@mcp-mesh/testing';
import { TestMesh } from '../support/mesh.js';
import { EVERYTHING_SERVER } from '../support/paths.js';
import { TestProcess } from '../support/processes.js';

describe('bridges to remote MCP servers (--url)', () => {
  let mesh: TestMesh;
  const servers: TestProcess[] = [];

  beforeAll(async () => {
    mesh = await TestMesh.start();
    // A Streamable HTTP server.
    const httpPort = await freePort();
    const http = conformanceServerCommand({ transport: 'http', port: httpPort, name: 'remote-http' });
    servers.push(new TestProcess(http.command, http.args));
    await servers[0]!.waitForOutput('listening on');
    await mesh.addBridge('streamable', { url: `http://127.0.0.1:${httpPort}/mcp` });
    // A legacy HTTP+SSE server (server-everything's sse mode): the bridge falls back to it.
    const ssePort = await freePort();
    servers.push(
      new TestProcess(EVERYTHING_SERVER.command, [EVERYTHING_SERVER.args[0]!, 'sse'], { env: { ...process.env, PORT: String(ssePort) } }),
    );
    await servers[1]!.waitForOutput('running on port');
    await mesh.addBridge('legacy', { url: `http://127.0.0.1:${ssePort}/sse` });
  }, 60_000);
  afterAll(async () => {
    await mesh?.close();
    await Promise.all(servers.map((server) => server.stop()));
  });

  it('serves a Streamable HTTP upstream', async () => {
    const client = await mesh.client('/servers/streamable/mcp');
    const result = await client.callTool({ name: 'test_simple_text', arguments: {} });
    expect(JSON.stringify(result.content)).toContain('text');
  });

  it('falls back to the legacy HTTP+SSE transport for an upstream that only speaks it', async () => {
    const client = await mesh.client('/mcp');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('legacy__echo');
    const result = await client.callTool({ name: 'legacy__echo', arguments: { message: 'over sse' } });
    expect(result.content).toEqual([{ type: 'text', text: 'Echo: over sse' }]);
  });
});
