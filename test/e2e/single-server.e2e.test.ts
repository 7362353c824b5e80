import { postInitialize } from '../support/requests.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestMesh } from '../support/mesh.js';
import { MEMORY_SERVER } from '../support/paths.js';

describe('/servers/<name>/mcp', () => {
  let mesh: TestMesh;

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('solo');
    await mesh.addBridge('memory', {
      upstream: MEMORY_SERVER,
      env: { MEMORY_FILE_PATH: join(tmpdir(), `mcp-mesh-memory-${process.pid}-${Date.now()}.jsonl`) },
    });
  });
  afterAll(async () => mesh?.close());

  it('serves one server with its own names and serverInfo', async () => {
    const client = await mesh.client('/servers/solo/mcp');
    expect(client.getServerVersion()?.name).toBe('solo');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('echo');
    expect(tools.some((tool) => tool.name.includes('__'))).toBe(false);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'alone' } });
    expect(result.content).toEqual([{ type: 'text', text: 'alone' }]);
    const prompt = await client.getPrompt({ name: 'greet', arguments: { who: 'solo' } });
    expect(prompt.messages[0]!.content).toMatchObject({ text: 'Hello, solo!' });
  });

  it('serves a published server (server-memory) and keeps its state across calls', async () => {
    const client = await mesh.client('/servers/memory/mcp');
    await client.callTool({
      name: 'create_entities',
      arguments: { entities: [{ name: 'mesh', entityType: 'project', observations: ['runs on NATS'] }] },
    });
    const graph = await client.callTool({ name: 'read_graph', arguments: {} });
    expect(JSON.stringify(graph.content)).toContain('runs on NATS');
  });

  it('offers only the capabilities the upstream has', async () => {
    const client = await mesh.client('/servers/memory/mcp');
    const caps = client.getServerCapabilities();
    expect(caps?.tools).toBeDefined();
    expect(caps?.prompts).toBeUndefined();
  });

  it('answers 404 naming the server when no bridge serves it', async () => {
    const response = await postInitialize(`${mesh.ingress.url}/servers/ghost/mcp`);
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { message: string; data: { meshCode: string } } };
    expect(body.error.message).toContain("'ghost'");
    expect(body.error.message).toContain('solo');
    expect(body.error.data.meshCode).toBe('MESH_UNKNOWN_SERVER');
  });
});
