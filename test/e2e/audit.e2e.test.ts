import { startFixtureBridge } from '../support/requests.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { AuditPublisher, readAudit } from '@mcp-mesh/audit';
import { Ingress } from '@mcp-mesh/ingress';
import { argsDigest, type AuditEvent } from '@mcp-mesh/protocol';
import { connectNats, createLogger, IngressConfigSchema } from '@mcp-mesh/runtime';
import { NatsServer } from '@mcp-mesh/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { TestProcess, waitFor } from '../support/processes.js';
import { CLI } from '../support/paths.js';

const silent = createLogger({ name: 'audit-test', level: 'silent' });

async function collect(nc: NatsConnection, filter: Parameters<typeof readAudit>[0]['filter'] = {}): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readAudit({ nc, filter })) events.push(event);
  return events;
}

describe('audit on JetStream: nothing lost', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let audit: AuditPublisher;
  let ingress: Ingress;
  let bridge: TestProcess;
  let client: Client;
  const outbox = mkdtempSync(join(tmpdir(), 'mcp-mesh-outbox-'));

  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connectNats({ url: nats.url, name: 'audit-test' });
    audit = await AuditPublisher.open({ nc, logger: silent, dir: outbox, publishTimeoutMs: 1_000 });
    ingress = new Ingress({
      nc,
      config: IngressConfigSchema.parse({ port: 0, requestTimeoutMs: 3_000 }),
      logger: silent,
      audit,
      discoverSettleMs: 50,
    });
    await ingress.start();
    bridge = startFixtureBridge(nats.url, 'audited');
    await waitFor(() => ingress.registry.isLive('audited'), 'the audited bridge', 20_000);
    client = new Client({ name: 'audit-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${ingress.url}/mcp`)));
  });

  afterAll(async () => {
    await client?.close();
    await bridge?.stop();
    await ingress?.close();
    await audit?.close(1_000);
    await nc?.close();
    await nats?.stop();
  });

  it('records one event per request with the fields of the schema', async () => {
    await client.callTool({ name: 'audited__echo', arguments: { text: 'first' } });
    await client.callTool({ name: 'audited__fail', arguments: { message: 'no' } });
    expect(await audit.drain(5_000)).toBe(0);
    const events = await collect(nc, { server: 'audited' });
    const echo = events.find((e) => e.argsDigest === argsDigest({ text: 'first' }))!;
    expect(echo).toMatchObject({
      kind: 'request',
      server: 'audited',
      method: 'tools/call',
      target: 'echo',
      outcome: 'ok',
      principal: 'anonymous',
      endpoint: '/mcp',
    });
    expect(echo.session).toBeTruthy();
    expect(echo.bytesOut).toBeGreaterThan(0);
    expect(echo.args).toBeUndefined();
    const failed = events.find((e) => e.target === 'fail')!;
    expect(failed.outcome).toBe('tool_error');
    const sessions = await collect(nc, { kind: 'session.start' });
    expect(sessions.length).toBeGreaterThan(0);
  });

  it('keeps exactly one event for every successful call while nats-server is killed and restarted mid-stream', async () => {
    const total = 1_000;
    const succeeded: string[] = [];
    let failed = 0;
    let next = 0;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const text = `call-${i}`;
        try {
          const result = await client.callTool({ name: 'audited__echo', arguments: { text } });
          if (result.isError !== true) succeeded.push(text);
        } catch {
          failed++;
        }
        if (i === 300) {
          await nats.kill();
          setTimeout(() => void nats.restart(), 1_000);
        }
      }
    };
    await Promise.all(Array.from({ length: 4 }, worker));
    console.info(`nats restart during 1000 calls: ${succeeded.length} succeeded, ${failed} failed with an error`);
    expect(succeeded.length).toBeGreaterThan(500);
    await waitFor(async () => (await audit.drain(1_000)) === 0, 'the audit outbox to drain after the restart', 30_000);
    const events = await collect(nc, { server: 'audited', tool: 'echo' });
    const counts = new Map<string, number>();
    for (const event of events) counts.set(event.argsDigest!, (counts.get(event.argsDigest!) ?? 0) + 1);
    const missing = succeeded.filter((text) => counts.get(argsDigest({ text })) !== 1);
    expect(missing, `calls without exactly one audit event (failed calls: ${failed})`).toEqual([]);
    // Ids are unique in the stream: re-published events were removed as duplicates.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('is readable with mcp-mesh audit query and export, filtered', async () => {
    await client.callTool({ name: 'audited__echo', arguments: { text: 'for the cli' } });
    await client.callTool({ name: 'audited__fail', arguments: { message: 'for the cli' } });
    expect(await audit.drain(5_000)).toBe(0);
    const query = new TestProcess(process.execPath, [
      CLI,
      'audit',
      'query',
      '--nats-url',
      nats.url,
      '--server',
      'audited',
      '--outcome',
      'tool_error',
      '--json',
    ]);
    expect((await query.exited).code).toBe(0);
    const lines = query.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const event of lines) expect(event).toMatchObject({ server: 'audited', outcome: 'tool_error', target: 'fail' });

    const file = join(outbox, 'export.jsonl');
    const exported = new TestProcess(process.execPath, [
      CLI,
      'audit',
      'export',
      '--nats-url',
      nats.url,
      '--kind',
      'session.start',
      '-o',
      file,
    ]);
    expect((await exported.exited).code).toBe(0);
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEvent);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.kind).toBe('session.start');
    expect(exported.stderr).toMatch(/\d+ event\(s\) written to/);

    const bad = new TestProcess(process.execPath, [CLI, 'audit', 'query', '--nats-url', nats.url, '--since', 'yesterday-ish']);
    expect((await bad.exited).code).toBe(1);
    expect(bad.stderr).toContain('neither an ISO time nor a duration');
  });
});
