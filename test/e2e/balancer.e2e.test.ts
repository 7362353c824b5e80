import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, headers as natsHeaders, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { Catalog, MeshClient, Registry, replicaFailure, type ReplicaBalancer } from '@mcp-mesh/ingress';
import { createLogger } from '@mcp-mesh/runtime';
import { FrameKind, MeshError, MeshHeader, RegistryKind, Subjects } from '@mcp-mesh/protocol';
import { NatsServer } from '@mcp-mesh/testing';

/**
 * The ingress's replica balancer against a real nats-server, with two stand-in replicas
 * answering on their own subjects as bridges do (frames with the Mcp-Mesh-Frame header).
 */
describe('least-in-flight balancing in the mesh client', () => {
  let nats: NatsServer;
  let ingressNc: NatsConnection;
  let replicaNc: NatsConnection;
  const subjects = new Subjects();
  const balancer: ReplicaBalancer = { balancedReplicas: () => ['a', 'b'], forget: () => undefined };

  beforeAll(async () => {
    nats = await NatsServer.start();
    ingressNc = await connect({ servers: nats.url });
    replicaNc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await ingressNc?.close();
    await replicaNc?.close();
    await nats?.stop();
  });

  function answer(msg: Msg, frame: 'result' | 'error', body: unknown, instance?: string): void {
    const h = natsHeaders();
    h.set(MeshHeader.Frame, frame);
    // Bridges name themselves on every frame.
    if (instance) h.set(MeshHeader.Instance, instance);
    msg.respond(new TextEncoder().encode(JSON.stringify(body)), { headers: h });
  }

  /** Answers every held request with an empty result. */
  function release(held: Msg[]): void {
    for (const msg of held.splice(0)) answer(msg, FrameKind.Result, { result: {} });
  }

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** A stand-in replica: `reply` decides, per request, when and how it is answered. */
  async function replica(instance: string, reply: (msg: Msg) => void): Promise<{ received: () => number; stop: () => void }> {
    let received = 0;
    const sub = replicaNc.subscribe(subjects.instanceAll(instance), {
      callback: (error, msg) => {
        if (error) return;
        received++;
        reply(msg);
      },
    });
    await replicaNc.flush();
    return { received: () => received, stop: () => sub.unsubscribe() };
  }

  const call = (client: MeshClient, timeoutMs = 5_000) =>
    client.call('svc', 'tools/call', { name: 'x' }, { deadline: Date.now() + timeoutMs });
  const clients: MeshClient[] = [];
  const meshClient = (choices: ReplicaBalancer = balancer) => {
    const client = new MeshClient(ingressNc, subjects, choices);
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('sends each call to the replica with fewer calls in flight', async () => {
    const held: Msg[] = [];
    const a = await replica('a', (msg) => held.push(msg));
    const b = await replica('b', (msg) => held.push(msg));
    const client = meshClient();
    const calls = Array.from({ length: 6 }, () => call(client));
    await expect.poll(() => held.length).toBe(6);
    expect([a.received(), b.received()]).toEqual([3, 3]);
    for (const msg of held) answer(msg, FrameKind.Result, { result: { content: [] } });
    await Promise.all(calls);
    a.stop();
    b.stop();
  });

  it('holds fast failures against a replica, so a broken replica does not draw the calls it fails quickest', async () => {
    const broken = await replica('a', (msg) => answer(msg, FrameKind.Error, { error: { code: -32603, message: 'credentials expired' } }));
    const healthy = await replica('b', (msg) => setTimeout(() => answer(msg, FrameKind.Result, { result: { content: [] } }), 20));
    const client = meshClient();
    let failed = 0;
    // 4 clients, 10 calls each, one after another: on the least-loaded count alone the replica that
    // answers at once (with an error) would take nearly all of them.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = 0; i < 10; i++) await call(client).catch(() => failed++);
      }),
    );
    expect(broken.received() + healthy.received()).toBe(40);
    expect(failed).toBe(broken.received());
    expect(broken.received()).toBeLessThan(10);
    broken.stop();
    healthy.stop();
  });

  it('lets a failure record wear off, so a recovered replica is used again', async () => {
    let broken = true;
    const held: Msg[] = [];
    const a = await replica('a', (msg) => {
      if (broken) answer(msg, FrameKind.Error, { error: { code: -32603, message: 'restarting' } });
      else held.push(msg);
    });
    const b = await replica('b', (msg) => held.push(msg));
    // First only a is offered: it fails 4 calls in a row.
    let choices = ['a'];
    const client = meshClient({ balancedReplicas: () => choices, forget: () => undefined });
    for (let i = 0; i < 4; i++) await expect(call(client)).rejects.toThrow('restarting');
    expect(a.received()).toBe(4);
    broken = false;
    choices = ['a', 'b'];
    // Held against it now: 2 calls at once both go to b.
    const before = b.received();
    const first = Array.from({ length: 2 }, () => call(client));
    await expect.poll(() => held.length).toBe(2);
    expect(b.received() - before).toBe(2);
    release(held);
    await Promise.all(first);
    // After the record wears off (2 s), a takes its share again.
    await sleep(2_100);
    const aBefore = a.received();
    const second = Array.from({ length: 4 }, () => call(client));
    await expect.poll(() => held.length).toBe(4);
    expect(a.received() - aBefore).toBe(2);
    release(held);
    await Promise.all(second);
    a.stop();
    b.stop();
  });

  it('tries a replica that keeps failing ever more rarely (its record is held twice as long each time)', async () => {
    const held: Msg[] = [];
    const a = await replica('a', (msg) => answer(msg, FrameKind.Error, { error: { code: -32603, message: 'credentials expired' } }));
    const b = await replica('b', (msg) => held.push(msg));
    let choices = ['a'];
    const client = meshClient({ balancedReplicas: () => choices, forget: () => undefined });
    for (let i = 0; i < 4; i++) await expect(call(client)).rejects.toThrow('credentials expired');
    choices = ['a', 'b'];
    // b keeps calls in flight from here on: a gets a call exactly when its record no longer outweighs them.
    const pending = [call(client, 20_000)];
    try {
      await expect.poll(() => held.length).toBe(1);
      await sleep(2_100);
      // The 2 s record wore off: a is tried, fails, and is now held off for 4 s.
      await expect(call(client)).rejects.toThrow('credentials expired');
      expect(a.received()).toBe(5);
      await sleep(2_100);
      pending.push(call(client, 20_000));
      await expect.poll(() => held.length).toBe(2);
      expect(a.received()).toBe(5);
      await sleep(2_100);
      await expect(call(client)).rejects.toThrow('credentials expired');
      expect(a.received()).toBe(6);
      release(held);
      await Promise.all(pending);
      expect(b.received()).toBe(2);
    } finally {
      a.stop();
      b.stop();
    }
  });

  it('sends a call the chosen replica cannot take (no responders) to the queue subject, and forgets that replica', async () => {
    const forgotten: string[] = [];
    const queue = replicaNc.subscribe(subjects.server('svc', 'tools/call'), {
      queue: subjects.queueGroup('svc'),
      callback: (error, msg) => {
        if (!error) answer(msg, FrameKind.Result, { result: { via: 'queue' } });
      },
    });
    await replicaNc.flush();
    // 'gone' has no subscriber: nats-server answers 503 at once.
    const client = meshClient({ balancedReplicas: () => ['gone'], forget: (_server, instance) => forgotten.push(instance) });
    const results = await Promise.all(Array.from({ length: 3 }, () => call(client)));
    expect(results).toEqual([{ via: 'queue' }, { via: 'queue' }, { via: 'queue' }]);
    expect(forgotten).toEqual(['gone', 'gone', 'gone']);
    queue.unsubscribe();
  });

  it("fetches a paged list's later pages from the first page's replica, and starts again once if that replica goes", async () => {
    const logger = createLogger({ name: 'catalog-test', level: 'silent' });
    const registry = new Registry(ingressNc, subjects, logger);
    await registry.start(20);
    const pages: Record<string, { tools: { name: string }[]; nextCursor?: string }> = {
      first: { tools: [{ name: 't1' }, { name: 't2' }], nextCursor: 'p2' },
      p2: { tools: [{ name: 't3' }] },
    };
    const served: string[] = [];
    let firstServer: string | undefined;
    const subs = ['a', 'b'].map((instance) => {
      const serve = (msg: Msg) => {
        const cursor = (JSON.parse(new TextDecoder().decode(msg.data)) as { params?: { cursor?: string } }).params?.cursor;
        served.push(`${instance}:${cursor ?? 'first'}`);
        answer(msg, FrameKind.Result, { result: pages[cursor ?? 'first'] }, instance);
        // The replica that served the first page goes away before the second is asked for.
        if (firstServer === undefined && cursor === undefined) {
          firstServer = instance;
          for (const sub of owned) sub.unsubscribe();
        }
      };
      const owned = [
        replicaNc.subscribe(subjects.instanceAll(instance), { callback: (error, msg) => !error && serve(msg) }),
        replicaNc.subscribe(subjects.server('svc', 'tools/list'), {
          queue: subjects.queueGroup('svc'),
          callback: (error, msg) => !error && serve(msg),
        }),
      ];
      return owned;
    });
    await replicaNc.flush();
    for (const instance of ['a', 'b']) {
      const descriptor = {
        v: 1,
        server: 'svc',
        instance,
        state: 'ready',
        upstream: { kind: 'stdio', target: 'x' },
        serverInfo: { name: 'svc', version: '1' },
        digests: { tools: 'd1' },
        counts: {},
        startedAt: new Date().toISOString(),
        restarts: 0,
        ttlMs: 60_000,
        inFlight: 0,
      };
      replicaNc.publish(subjects.registry(RegistryKind.Announce), JSON.stringify(descriptor));
    }
    await expect.poll(() => registry.balancedReplicas('svc').length).toBe(2);
    const client = meshClient(registry);
    const catalog = new Catalog(registry, client, { separator: '__', listTimeoutMs: 5_000, logger });
    const items = await catalog.serverList('svc', 'tools', Date.now() + 5_000);
    expect(items.map((item) => item.name)).toEqual(['t1', 't2', 't3']);
    const other = firstServer === 'a' ? 'b' : 'a';
    // Page 2 was asked of the first replica (gone: no responders), then the list started over elsewhere.
    expect(served).toEqual([`${firstServer}:first`, `${other}:first`, `${other}:p2`]);
    for (const sub of subs.flat()) sub.unsubscribe();
    registry.close();
  });

  it('counts only failures of the replica, not of the request', () => {
    expect(replicaFailure({ code: -32603, message: 'internal' })).toBe(true);
    expect(replicaFailure(new MeshError('MESH_UPSTREAM_TIMEOUT', 'slow').toWire())).toBe(true);
    expect(replicaFailure(new MeshError('MESH_UPSTREAM_UNAVAILABLE', 'restarting').toWire())).toBe(true);
    expect(replicaFailure({ code: -32602, message: 'invalid params' })).toBe(false);
    expect(replicaFailure({ code: -32601, message: 'method not found' })).toBe(false);
    expect(replicaFailure(new MeshError('MESH_INVALID_PARAMS', 'bad').toWire())).toBe(false);
  });
});
