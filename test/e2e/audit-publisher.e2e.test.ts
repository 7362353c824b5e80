import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AuditPublisher, auditStreamName } from '@mcp-mesh/audit';
import { newAuditEventId, type AuditEvent } from '@mcp-mesh/protocol';
import { connectNats, createLogger } from '@mcp-mesh/runtime';
import { NatsServer } from '@mcp-mesh/testing';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

const silent = createLogger({ name: 'audit-publisher-test', level: 'silent' });

function event(i: number, server: string): AuditEvent {
  return {
    v: 1,
    id: newAuditEventId(),
    time: new Date().toISOString(),
    kind: 'request',
    server,
    method: 'tools/call',
    target: `t${i}`,
    outcome: 'ok',
  };
}

/** Every stored message of one server's subjects, in stream order, with its Nats-Msg-Id. */
async function stored(nc: NatsConnection, server: string, expected: number): Promise<{ id: string | undefined; event: AuditEvent }[]> {
  const js = jetstream(nc);
  const consumer = await js.consumers.get(auditStreamName(), { filter_subjects: `mcp.v1.audit.${server}.>` });
  const out: { id: string | undefined; event: AuditEvent }[] = [];
  while (out.length < expected) {
    const batch = await consumer.fetch({ max_messages: expected - out.length, expires: 2_000 });
    let got = 0;
    for await (const msg of batch) {
      out.push({ id: msg.headers?.get('Nats-Msg-Id'), event: msg.json<AuditEvent>() });
      got++;
    }
    if (got === 0) break;
  }
  return out;
}

describe('audit publisher: group commit and acknowledged batches', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  const open: AuditPublisher[] = [];

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connectNats({ url: nats.url, name: 'audit-publisher-test' });
  });

  afterEach(async () => {
    for (const publisher of open.splice(0)) await publisher.close(1_000);
  });

  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  const start = async (dir: string, window?: number) => {
    const publisher = await AuditPublisher.open({ nc, logger: silent, dir, publishTimeoutMs: 2_000, ...(window ? { window } : {}) });
    open.push(publisher);
    return publisher;
  };

  it('stores every recorded event once, in record order, with its id as Nats-Msg-Id', async () => {
    const audit = await start(mkdtempSync(join(tmpdir(), 'mcp-mesh-outbox-order-')), 64);
    const events = Array.from({ length: 700 }, (_, i) => event(i, 'ordered'));
    for (const e of events) audit.record(e);
    expect(await audit.drain(10_000)).toBe(0);
    expect(audit.stats).toMatchObject({ recorded: 700, published: 700, duplicates: 0, dropped: 0 });
    const messages = await stored(nc, 'ordered', 700);
    expect(messages.map((m) => m.event.target)).toEqual(events.map((e) => e.target));
    expect(messages.map((m) => m.id)).toEqual(events.map((e) => e.id));
  });

  it("re-publishes an earlier run's unacknowledged events after a restart; the stream stores each once", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcp-mesh-outbox-replay-'));
    const first = await start(dir);
    for (let i = 0; i < 100; i++) first.record(event(i, 'replayed'));
    expect(await first.drain(10_000)).toBe(0);
    await first.close(1_000);
    open.splice(open.indexOf(first), 1);
    // A crash before the cursor was saved: the outbox believes only 40 of its events were acknowledged.
    const segment = readdirSync(dir).find((name) => name.startsWith('segment-'))!;
    writeFileSync(join(dir, 'cursor.json'), JSON.stringify({ seq: Number(/\d+/.exec(segment)![0]), acked: 40 }));

    const second = await start(dir);
    for (let i = 100; i < 110; i++) second.record(event(i, 'replayed'));
    expect(await second.drain(10_000)).toBe(0);
    expect(second.stats.duplicates).toBe(60);
    expect(second.stats.published).toBe(70);
    const messages = await stored(nc, 'replayed', 120);
    expect(messages.map((m) => m.event.target)).toEqual(Array.from({ length: 110 }, (_, i) => `t${i}`));
    const info = await (await jetstreamManager(nc)).streams.info(auditStreamName());
    expect(info.state.messages).toBe(810);
  });
});
