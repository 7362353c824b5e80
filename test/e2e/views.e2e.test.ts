import { postInitialize } from '../support/requests.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViewConfigSchema } from '@mcp-mesh/runtime';
import { TestMesh } from '../support/mesh.js';

describe('views: curated endpoints drawn from several servers', () => {
  let mesh: TestMesh;

  beforeAll(async () => {
    mesh = await TestMesh.start(
      {},
      {
        views: {
          triage: ViewConfigSchema.parse({
            description: 'what the triage agent needs',
            tools: [
              { server: 'alpha', name: 'echo', as: 'say', description: 'Repeat a text back' },
              { server: 'beta', name: 'a*' },
            ],
            prompts: [{ server: 'beta', name: 'greet' }],
            resources: [{ server: 'alpha', uri: 'fixture://alpha/*' }],
          }),
        },
      },
    );
    await mesh.addBridge('alpha');
    await mesh.addBridge('beta');
  });
  afterAll(async () => mesh?.close());

  it('lists exactly the chosen items, renamed and re-described', async () => {
    const client = await mesh.client('/views/triage/mcp');
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual(['beta__add', 'beta__add_tool', 'say']);
    expect(tools.find((t) => t.name === 'say')!.description).toBe('Repeat a text back');
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['beta__greet']);
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['fixture://alpha/hello']);
  });

  it('routes calls to the right server under the view names', async () => {
    const client = await mesh.client('/views/triage/mcp');
    expect((await client.callTool({ name: 'say', arguments: { text: 'from the view' } })).content).toEqual([
      { type: 'text', text: 'from the view' },
    ]);
    expect((await client.callTool({ name: 'beta__add', arguments: { a: 1, b: 2 } })).structuredContent).toEqual({ sum: 3 });
    const greeting = await client.getPrompt({ name: 'beta__greet', arguments: { who: 'triage' } });
    expect(greeting.messages[0]!.content).toMatchObject({ text: 'Hello, triage!' });
    const hello = await client.readResource({ uri: 'fixture://alpha/hello' });
    expect(hello.contents[0]).toMatchObject({ text: 'hello from alpha' });
  });

  it('refuses what the view does not offer, naming the view', async () => {
    const client = await mesh.client('/views/triage/mcp');
    await expect(client.callTool({ name: 'alpha__echo', arguments: { text: 'x' } })).rejects.toThrow(
      /view 'triage' has no tool 'alpha__echo'/,
    );
  });

  it('answers 404 for an unknown view, naming the known ones', async () => {
    const response = await postInitialize(`${mesh.ingress.url}/views/nope/mcp`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('triage');
  });
});
