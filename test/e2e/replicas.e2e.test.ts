import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngressConfigSchema } from '@mcp-mesh/runtime';
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

/** Counts the calls published to each replica's own subject (`mcp.v1.inst.<instance>.tools.call`). */
function spyOnReplicaSubjects(mesh: TestMesh): { counts: Map<string, number>; stop: () => void } {
  const counts = new Map<string, number>();
  const sub = mesh.nc.subscribe('mcp.v1.inst.*.tools.call', {
    callback: (error, msg) => {
      if (error) return;
      const instance = msg.subject.split('.')[3]!;
      counts.set(instance, (counts.get(instance) ?? 0) + 1);
    },
  });
  return { counts, stop: () => sub.unsubscribe() };
}

describe('balancing calls across replicas (ingress.balance)', () => {
  const meshes: TestMesh[] = [];
  afterAll(async () => {
    for (const mesh of meshes) await mesh.close();
  });

  async function meshWithReplicas(balance: 'least-in-flight' | 'queue-group', heartbeatMs?: number): Promise<TestMesh> {
    const mesh = await TestMesh.start({ balance });
    meshes.push(mesh);
    const spec = heartbeatMs === undefined ? {} : { heartbeatMs };
    await mesh.addBridge('bal', spec);
    await mesh.addBridge('bal', spec);
    return mesh;
  }

  it('least-in-flight (the default) gives each of two replicas half of 8 slow calls at once', async () => {
    const mesh = await meshWithReplicas(IngressConfigSchema.parse({}).balance);
    const spy = spyOnReplicaSubjects(mesh);
    const client = await mesh.client('/servers/bal/mcp');
    // Long calls, so that all 8 are in flight together even on a slow machine.
    const results = await Promise.all(Array.from({ length: 8 }, () => client.callTool({ name: 'sleep', arguments: { ms: 2_000 } })));
    for (const result of results) expect(result.content).toEqual([{ type: 'text', text: 'slept 2000' }]);
    spy.stop();
    // A queue group picks at random: an exact 4/4 split happens in 27% of runs (C(8,4)/2^8).
    expect([...spy.counts.values()].sort()).toEqual([4, 4]);
    const instances = mesh.ingress.registry.snapshot()[0]!.replicas.map((replica) => replica.instance);
    expect(new Set(spy.counts.keys())).toEqual(new Set(instances));
  });

  it('queue-group leaves the choice to NATS: nothing is sent to a replica subject', async () => {
    const mesh = await meshWithReplicas('queue-group');
    const spy = spyOnReplicaSubjects(mesh);
    const client = await mesh.client('/servers/bal/mcp');
    const results = await Promise.all(Array.from({ length: 8 }, () => client.callTool({ name: 'echo', arguments: { text: 'q' } })));
    for (const result of results) expect(result.isError).not.toBe(true);
    spy.stop();
    expect(spy.counts.size).toBe(0);
  });

  it('a replica killed without goodbye costs no call: its calls go to the queue subject, and it is forgotten', async () => {
    // Heartbeats 10 s apart: the killed replica cannot expire during the test, only be forgotten.
    const mesh = await meshWithReplicas('least-in-flight', 10_000);
    const client = await mesh.client('/servers/bal/mcp');
    await client.callTool({ name: 'echo', arguments: { text: 'warm' } });
    await mesh.bridges[0]!.stop('SIGKILL');
    // Its heartbeat has not expired (3 x 10 s): the ingress still lists both replicas.
    expect(mesh.ingress.registry.snapshot()[0]!.replicas).toHaveLength(2);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => client.callTool({ name: 'echo', arguments: { text: `after ${i}` } })),
    );
    results.forEach((result, i) => expect(result.content).toEqual([{ type: 'text', text: `after ${i}` }]));
    expect(mesh.ingress.registry.snapshot()[0]!.replicas).toHaveLength(1);
  });
});

describe('a bridge replica drained under load (rolling restart)', () => {
  const meshes: TestMesh[] = [];
  afterAll(async () => {
    for (const mesh of meshes) await mesh.close();
  });

  for (const balance of ['least-in-flight', 'queue-group'] as const) {
    it(`costs no call (ingress.balance: ${balance})`, async () => {
      const mesh = await TestMesh.start({ balance });
      meshes.push(mesh);
      await mesh.addBridge('roll');
      await mesh.addBridge('roll');
      const client = await mesh.client('/servers/roll/mcp');
      let stop = false;
      let calls = 0;
      const failures: string[] = [];
      // 8 clients calling back to back while one replica drains and a new one joins.
      const workers = Array.from({ length: 8 }, async (_, w) => {
        while (!stop) {
          const text = `w${w} #${calls++}`;
          const result = await client
            .callTool({ name: 'echo', arguments: { text } })
            .catch((error: Error) => ({ isError: true, content: [{ type: 'text', text: error.message }] }));
          const first = (result.content as { text?: string }[])[0]?.text;
          if (result.isError || first !== text) failures.push(String(first));
        }
      });
      try {
        await new Promise((resolve) => setTimeout(resolve, 300));
        await mesh.bridges[0]!.stop('SIGTERM');
        // Gone from the registry at once: no announcement after its goodbye brings it back.
        expect(mesh.ingress.registry.snapshot()[0]!.replicas.map((replica) => replica.state)).toEqual(['ready']);
        await mesh.addBridge('roll');
        await new Promise((resolve) => setTimeout(resolve, 300));
      } finally {
        stop = true;
        await Promise.all(workers);
      }
      expect(failures).toEqual([]);
      expect(calls).toBeGreaterThan(50);
    });
  }
});
