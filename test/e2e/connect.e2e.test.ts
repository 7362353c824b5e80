import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CLI } from '../support/paths.js';
import { TestMesh } from '../support/mesh.js';
import { waitFor } from '../support/processes.js';

describe('mcp-mesh connect: a stdio adapter for desktop clients', () => {
  let mesh: TestMesh;
  let client: Client;

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('desk');
    client = new Client({ name: 'desktop-app', version: '1' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [CLI, 'connect', `${mesh.ingress.url}/mcp`], stderr: 'pipe' }),
    );
  });
  afterAll(async () => {
    await client?.close();
    await mesh?.close();
  });

  it('relays lists and calls to the remote mesh', async () => {
    expect(client.getServerVersion()?.name).toBe('mcp-mesh');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('desk__echo');
    const result = await client.callTool({ name: 'desk__echo', arguments: { text: 'over stdio' } });
    expect(result.content).toEqual([{ type: 'text', text: 'over stdio' }]);
  });

  it('relays progress notifications back', async () => {
    // A raw handler: the SDK's onprogress may drop notifications that arrive with the result (typescript-sdk#2580).
    const seen: { token: unknown; progress: number }[] = [];
    client.setNotificationHandler('notifications/progress', (notification) => {
      seen.push({ token: notification.params.progressToken, progress: notification.params.progress });
    });
    await client.callTool({ name: 'desk__progress', arguments: { steps: 3, intervalMs: 10 }, _meta: { progressToken: 'via-stdio' } });
    await waitFor(() => seen.length === 3, 'three progress notifications through the adapter', 5_000);
    expect(seen).toEqual([1, 2, 3].map((progress) => ({ token: 'via-stdio', progress })));
  });

  it('relays list_changed from the mesh (the GET stream is open)', async () => {
    let changed = 0;
    client.setNotificationHandler('notifications/tools/list_changed', () => {
      changed++;
    });
    await mesh.addBridge('late');
    await waitFor(() => changed > 0, 'list_changed through the stdio adapter', 5_000);
  });

  it('ends the remote session when stdin closes', async () => {
    expect(mesh.ingress.sessionCount).toBeGreaterThan(0);
    const before = mesh.ingress.sessionCount;
    await client.close();
    await waitFor(() => mesh.ingress.sessionCount < before, 'the remote session to end', 5_000);
  });
});
