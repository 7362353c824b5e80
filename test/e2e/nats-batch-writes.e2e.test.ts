import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { batchWrites, connectNats } from '@mcp-mesh/runtime';
import { NatsServer } from '@mcp-mesh/testing';

/** Counts the socket writes a connection makes (through nats.js's transport). */
function countWrites(nc: NatsConnection): { writes: number } {
  const counter = { writes: 0 };
  const transport = (nc as unknown as { protocol: { transport: { send: (frame: Uint8Array) => void } } }).protocol.transport;
  const send = transport.send.bind(transport);
  transport.send = (frame) => {
    counter.writes++;
    send(frame);
  };
  return counter;
}

describe('batchWrites: the publishes of one event-loop turn go out in one socket write', () => {
  let nats: NatsServer;
  let receiver: NatsConnection;

  beforeAll(async () => {
    nats = await NatsServer.start();
    receiver = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await receiver?.close();
    await nats?.stop();
  });

  it('keeps order across turns and writes once per turn instead of once per burst', async () => {
    const got: number[] = [];
    const sub = receiver.subscribe('batch.order', { callback: (_e, msg) => void got.push(Number(msg.string())) });
    await receiver.flush();
    const nc = await connectNats({ url: nats.url, name: 'batch-test' });
    const counter = countWrites(nc);
    // 200 publishes from 200 separate macrotasks scheduled in the same turn (as HTTP requests
    // read in one poll phase are): one write for all of them, where nats.js alone makes 200.
    await new Promise<void>((resolve) => {
      let left = 200;
      for (let i = 0; i < 200; i++) {
        setImmediate(() => {
          nc.publish('batch.order', String(i));
          if (--left === 0) resolve();
        });
      }
    });
    await nc.flush();
    await receiver.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(counter.writes).toBeLessThanOrEqual(3);
    sub.unsubscribe();
    await nc.close();
  });

  it('writes what is pending before the connection closes', async () => {
    const got: string[] = [];
    const sub = receiver.subscribe('batch.close', { callback: (_e, msg) => void got.push(msg.string()) });
    await receiver.flush();
    const nc = await connect({ servers: nats.url });
    expect(batchWrites(nc)).toBe(true);
    nc.publish('batch.close', 'last words');
    await nc.close();
    await receiver.flush();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(got).toEqual(['last words']);
    sub.unsubscribe();
  });

  it('still serves request/reply', async () => {
    const responder = await connectNats({ url: nats.url, name: 'responder' });
    responder.subscribe('batch.echo', { callback: (_e, msg) => msg.respond(msg.data) });
    await responder.flush();
    const nc = await connectNats({ url: nats.url, name: 'requester' });
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => nc.request('batch.echo', String(i), { timeout: 2_000 })));
    expect(replies.map((r) => r.string())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
    await nc.close();
    await responder.close();
  });
});
