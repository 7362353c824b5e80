import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestMesh } from '../support/mesh.js';

describe('replicas of one server', () => {
  let mesh: TestMesh;

  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('shared');
    await mesh.addBridge('shared');
  });
  afterAll(async () => mesh?.close());

  it('share the calls through the queue group', async () => {
    const client = await mesh.client();
    const pids = new Set<number>();
    const calls = Array.from({ length: 40 }, () => client.callTool({ name: 'shared__whoami', arguments: {} }));
    for (const result of await Promise.all(calls)) pids.add((result.structuredContent as { pid: number }).pid);
    expect(pids.size).toBe(2);
  });

  it('show as one server with two replicas, with its tools listed once', async () => {
    const entry = mesh.ingress.registry.snapshot().find((server) => server.server === 'shared');
    expect(entry?.replicas).toHaveLength(2);
    const client = await mesh.client();
    const { tools } = await client.listTools();
    expect(tools.filter((tool) => tool.name === 'shared__echo')).toHaveLength(1);
  });

  it('keep serving when one replica stops', async () => {
    const client = await mesh.client();
    await mesh.bridges[0]!.stop('SIGTERM');
    const results = await Promise.all(
      Array.from({ length: 10 }, () => client.callTool({ name: 'shared__echo', arguments: { text: 'still here' } })),
    );
    for (const result of results) expect(result.isError).not.toBe(true);
  });
});
