import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/processes.js';
import { TestMesh } from '../support/mesh.js';

describe('the opt-in response cache (NATS KV)', () => {
  let mesh: TestMesh;

  beforeAll(async () => {
    mesh = await TestMesh.start(
      {},
      { cache: { twice: { ttlMs: 60_000, tools: ['whoami'], prompts: [], resources: ['fixture://twice/*'], scope: 'shared' } } },
    );
    // Two replicas: without the cache, calls alternate between their processes.
    await mesh.addBridge('twice');
    await mesh.addBridge('twice');
  });
  afterAll(async () => mesh?.close());

  const pid = async (client: Awaited<ReturnType<TestMesh['client']>>) =>
    ((await client.callTool({ name: 'twice__whoami', arguments: {} })).structuredContent as { pid: number }).pid;

  it('answers a cached tool from the cache, across sessions', async () => {
    const a = await mesh.client();
    const b = await mesh.client();
    const first = await pid(a);
    const pids = new Set([first]);
    for (let i = 0; i < 10; i++) pids.add(await pid(i % 2 ? a : b));
    expect(pids).toEqual(new Set([first]));
  });

  it('never caches a tool that is not listed', async () => {
    const client = await mesh.client();
    const texts = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const result = await client.callTool({ name: 'twice__add_tool', arguments: { name: `t${i}` } });
      texts.add(JSON.stringify(result.content));
    }
    expect(texts.size).toBe(4);
  });

  it('drops a server entries when its lists change', async () => {
    const lookup = mesh.ingress.cache.lookup('twice', 'tools/call', { name: 'whoami', arguments: {} }, 'anonymous')!;
    expect(lookup).toBeDefined();
    const client = await mesh.client();
    // The previous test's list changes may still be arriving (a bridge announces its new digests
    // after refetching its lists, which drops the server's entries): call until the answer stays.
    await waitFor(
      async () => {
        await pid(client);
        return (await mesh.ingress.cache.get(lookup)) !== undefined;
      },
      'the answer to be cached',
      5_000,
    );
    await client.callTool({ name: 'twice__add_tool', arguments: { name: 'invalidates' } });
    await waitFor(async () => (await mesh.ingress.cache.get(lookup)) === undefined, 'the list change to drop the cached entry', 5_000);
  });
});
