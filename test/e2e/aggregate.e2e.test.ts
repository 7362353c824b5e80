import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { EVERYTHING_SERVER } from '../support/paths.js';
import { isAlive, waitFor } from '../support/processes.js';
import { TestMesh } from '../support/mesh.js';

type TextContent = { type: string; text: string };
const textOf = (result: { content?: unknown }) => (result.content as TextContent[])[0]!.text;

describe('aggregated /mcp over a real mesh', () => {
  let mesh: TestMesh;
  let client: Client;

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('alpha');
    await mesh.addBridge('everything', { upstream: EVERYTHING_SERVER });
    client = await mesh.client();
  });
  afterAll(async () => mesh?.close());

  it('lists the namespaced union of both servers', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('alpha__echo');
    expect(names).toContain('alpha__whoami');
    expect(names).toContain('everything__echo');
    expect(names).toContain('everything__get-sum');
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    // Schemas pass through untouched.
    const sum = tools.find((tool) => tool.name === 'everything__get-sum')!;
    expect(sum.inputSchema.properties).toHaveProperty('a');
  });

  it('calls tools on both servers', async () => {
    const echoed = await client.callTool({ name: 'alpha__echo', arguments: { text: 'through the mesh' } });
    expect(textOf(echoed)).toBe('through the mesh');
    const sum = await client.callTool({ name: 'everything__get-sum', arguments: { a: 20, b: 22 } });
    expect(textOf(sum)).toContain('42');
  });

  it('passes structured output through', async () => {
    const result = await client.callTool({ name: 'alpha__add', arguments: { a: 2, b: 3 } });
    expect(result.structuredContent).toEqual({ sum: 5 });
  });

  it('reads resources of both servers by their own URIs', async () => {
    const { resources } = await client.listResources();
    const uris = resources.map((resource) => resource.uri);
    expect(uris).toContain('fixture://alpha/hello');
    expect(uris.some((uri) => uri.startsWith('demo://'))).toBe(true);
    const hello = await client.readResource({ uri: 'fixture://alpha/hello' });
    expect(hello.contents[0]).toMatchObject({ uri: 'fixture://alpha/hello', text: 'hello from alpha' });
    const demo = uris.find((uri) => uri.startsWith('demo://'))!;
    const read = await client.readResource({ uri: demo });
    expect(read.contents[0]!.uri).toBe(demo);
  });

  it('reads a resource through a template of one server', async () => {
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.name)).toContain('alpha__item');
    const item = await client.readResource({ uri: 'fixture://alpha/items/7' });
    expect(item.contents[0]).toMatchObject({ text: 'item 7' });
  });

  it('gets prompts of both servers', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(expect.arrayContaining(['alpha__greet', 'everything__simple-prompt']));
    const greeting = await client.getPrompt({ name: 'alpha__greet', arguments: { who: 'mesh' } });
    expect(greeting.messages[0]!.content).toMatchObject({ type: 'text', text: 'Hello, mesh!' });
    const simple = await client.getPrompt({ name: 'everything__simple-prompt' });
    expect(simple.messages.length).toBeGreaterThan(0);
  });

  it('streams progress of a call back to the client that made it', async () => {
    const seen: number[] = [];
    const result = await client.callTool(
      { name: 'alpha__progress', arguments: { steps: 3, intervalMs: 30 } },
      { onprogress: (progress) => seen.push(progress.progress) },
    );
    expect(result.isError).not.toBe(true);
    // The SDK client may drop a progress notification that arrives with the result (typescript-sdk#2580).
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([1, 2, 3].slice(0, seen.length));
  });

  it('answers ping itself', async () => {
    await expect(client.ping()).resolves.toBeDefined();
  });

  it('tells connected clients when a bridge joins, and serves it within 2 s', async () => {
    let changed = 0;
    const watcher = await mesh.client();
    watcher.setNotificationHandler('notifications/tools/list_changed', () => {
      changed++;
    });
    const started = Date.now();
    await mesh.addBridge('gamma');
    await waitFor(() => changed > 0, 'tools/list_changed after gamma joined', 5_000);
    const { tools } = await watcher.listTools();
    expect(tools.map((tool) => tool.name)).toContain('gamma__echo');
    expect(Date.now() - started).toBeLessThan(5_000);
    const result = await watcher.callTool({ name: 'gamma__echo', arguments: { text: 'late joiner' } });
    expect(textOf(result)).toBe('late joiner');
  });

  it('refreshes lists when an upstream changes its tools', async () => {
    let changed = 0;
    const watcher = await mesh.client();
    watcher.setNotificationHandler('notifications/tools/list_changed', () => {
      changed++;
    });
    await watcher.callTool({ name: 'alpha__add_tool', arguments: { name: 'fresh' } });
    await waitFor(() => changed > 0, 'tools/list_changed after alpha added a tool', 5_000);
    const { tools } = await watcher.listTools();
    expect(tools.map((tool) => tool.name)).toContain('alpha__fresh');
  });

  it('drops a killed bridge from the lists, tells clients, and leaves no upstream behind', async () => {
    const doomed = await mesh.addBridge('delta');
    const watcher = await mesh.client();
    const who = await watcher.callTool({ name: 'delta__whoami', arguments: {} });
    const upstreamPid = (who.structuredContent as { pid: number }).pid;
    expect(isAlive(upstreamPid)).toBe(true);
    let changed = 0;
    watcher.setNotificationHandler('notifications/tools/list_changed', () => {
      changed++;
    });
    doomed.child.kill('SIGKILL');
    await waitFor(() => changed > 0, 'tools/list_changed after delta was killed', 5_000);
    const { tools } = await watcher.listTools();
    expect(tools.some((tool) => tool.name.startsWith('delta__'))).toBe(false);
    expect(tools.some((tool) => tool.name.startsWith('alpha__'))).toBe(true);
    // The bridge died with SIGKILL: its watchdog still ends the upstream.
    await waitFor(() => !isAlive(upstreamPid), `upstream ${upstreamPid} to exit after its bridge was killed`, 5_000);
  });
});
