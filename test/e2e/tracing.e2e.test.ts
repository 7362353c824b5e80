import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixtureServerCommand, freePort, NatsServer } from '@mcp-mesh/testing';
import { OtlpReceiver, SpanKindCode, type ReceivedSpan } from '../support/otlp-receiver.js';
import { CLI } from '../support/paths.js';
import { TestProcess, waitFor } from '../support/processes.js';

const otelEnv = (receiver: OtlpReceiver) => ({
  ...process.env,
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: '50',
  MCP_MESH_HOME: mkdtempSync(join(tmpdir(), 'mcp-mesh-tracing-')),
});

describe('one trace per call across ingress, NATS, bridge and upstream', () => {
  let nats: NatsServer;
  let receiver: OtlpReceiver;
  let ingress: TestProcess;
  let bridge: TestProcess;
  let second: TestProcess | undefined;
  let client: Client;
  let port: number;

  beforeAll(async () => {
    nats = await NatsServer.start();
    receiver = await OtlpReceiver.start();
    port = await freePort();
    ingress = new TestProcess(process.execPath, [CLI, 'ingress', '--port', String(port), '--nats-url', nats.url, '--no-audit'], {
      env: otelEnv(receiver),
    });
    const fixture = fixtureServerCommand({ name: 'traced' });
    bridge = new TestProcess(
      process.execPath,
      [CLI, 'bridge', '--name', 'traced', '--nats-url', nats.url, '--', fixture.command, ...fixture.args],
      {
        env: otelEnv(receiver),
      },
    );
    await waitFor(
      async () => {
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.json() as Promise<{ servers: string[] }>,
          () => ({ servers: [] }),
        );
        return ready.servers.includes('traced');
      },
      'the ingress to see the traced bridge',
      20_000,
    );
    client = new Client({ name: 'trace-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/servers/traced/mcp`)));
  });

  afterAll(async () => {
    await client?.close();
    await Promise.all([ingress?.stop(), bridge?.stop(), second?.stop()]);
    await receiver?.close();
    await nats?.stop();
  });

  function one(spans: ReceivedSpan[], predicate: (span: ReceivedSpan) => boolean, what: string): ReceivedSpan {
    const found = spans.filter(predicate);
    expect(found, `${what} in ${JSON.stringify(spans.map((s) => [s.service, s.name, s.kind]))}`).toHaveLength(1);
    return found[0]!;
  }

  it('links ingress SERVER -> NATS PRODUCER -> bridge CONSUMER -> upstream CLIENT, and the server sees it in _meta', async () => {
    const result = await client.callTool({ name: 'meta', arguments: {} });
    const meta = JSON.parse((result.content as { text: string }[])[0]!.text) as { traceparent?: string };
    expect(meta.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const [, traceId, parentOfUpstream] = meta.traceparent!.split('-');
    await waitFor(() => receiver.trace(traceId!).length >= 4, 'four spans of the trace to be exported', 10_000);
    const spans = receiver.trace(traceId!);

    const server = one(spans, (s) => s.kind === SpanKindCode.SERVER, 'the ingress SERVER span');
    expect(server.service).toBe('mcp-mesh-ingress');
    expect(server.name).toBe('tools/call meta');
    expect(server.attributes).toMatchObject({ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'meta', 'mcp_mesh.server': 'traced' });
    expect(server.attributes['mcp.session.id']).toBeTruthy();

    const producer = one(spans, (s) => s.kind === SpanKindCode.PRODUCER, 'the NATS PRODUCER span');
    expect(producer.parentSpanId).toBe(server.spanId);
    expect(producer.name).toBe('send mcp.v1.srv.traced.tools.call');
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'nats', 'messaging.destination.name': 'mcp.v1.srv.traced.tools.call' });

    const consumer = one(spans, (s) => s.kind === SpanKindCode.CONSUMER, 'the bridge CONSUMER span');
    expect(consumer.service).toBe('mcp-mesh-bridge-traced');
    expect(consumer.parentSpanId).toBe(producer.spanId);

    const upstream = one(spans, (s) => s.kind === SpanKindCode.CLIENT, 'the upstream CLIENT span');
    expect(upstream.parentSpanId).toBe(consumer.spanId);
    expect(upstream.name).toBe('tools/call meta');
    // The upstream server's parent is the bridge's CLIENT span: the trace continues into it.
    expect(parentOfUpstream).toBe(upstream.spanId);
  });

  it("continues the client's traceparent from _meta instead of starting a new trace", async () => {
    const traceId = 'a1'.repeat(16);
    const parentId = 'b2'.repeat(8);
    await client.callTool({ name: 'echo', arguments: { text: 'traced' }, _meta: { traceparent: `00-${traceId}-${parentId}-01` } });
    await waitFor(() => receiver.trace(traceId).length >= 4, 'the continued trace to be exported', 10_000);
    const server = one(receiver.trace(traceId), (s) => s.kind === SpanKindCode.SERVER, 'the ingress SERVER span');
    expect(server.parentSpanId).toBe(parentId);
  });

  it('marks a tool error result as tool_error', async () => {
    const result = await client.callTool({ name: 'fail', arguments: { message: 'nope' } });
    expect(result.isError).toBe(true);
    await waitFor(
      () => receiver.spans.some((s) => s.name === 'tools/call fail' && s.kind === SpanKindCode.SERVER),
      'the failing call span',
      10_000,
    );
    const span = receiver.spans.find((s) => s.name === 'tools/call fail' && s.kind === SpanKindCode.SERVER)!;
    expect(span.attributes['error.type']).toBe('tool_error');
  });

  it('serves Prometheus metrics with the request durations', async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/mcp_server_operation_duration_count\{[^}]*mcp_method_name="tools\/call"/);
    expect(text).toContain('mcp_mesh_tool_calls');
  });

  it('reports the replica balancer: replicas it balances, calls in flight on them, and calls resent when a replica was gone', async () => {
    const metricsText = () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const fixture = fixtureServerCommand({ name: 'traced' });
    // Heartbeats 10 s apart: the killed replica cannot expire before the calls below reach it.
    second = new TestProcess(
      process.execPath,
      [CLI, 'bridge', '--name', 'traced', '--nats-url', nats.url, '--heartbeat', '10000', '--', fixture.command, ...fixture.args],
      { env: otelEnv(receiver) },
    );
    // Two replicas: the balancer chooses between them; at rest none has a call in flight.
    await waitFor(
      async () => /mcp_mesh_balancer_replicas\{[^}]*mcp_mesh_server="traced"[^}]*\} 2$/m.test(await metricsText()),
      'two balanced replicas',
      20_000,
    );
    expect(await metricsText()).toMatch(/mcp_mesh_balancer_replica_calls_in_flight_max\{[^}]*mcp_mesh_server="traced"[^}]*\} 0$/m);
    await second.stop('SIGKILL');
    // Two calls at rest go to both replicas in turn: one meets the killed replica and is resent.
    for (const text of ['a', 'b']) {
      const result = await client.callTool({ name: 'echo', arguments: { text } });
      expect(result.content).toEqual([{ type: 'text', text }]);
    }
    const after = await metricsText();
    expect(after).toMatch(/mcp_mesh_balancer_requeues_total\{[^}]*mcp_mesh_server="traced"[^}]*\} 1$/m);
    // Forgotten: one replica left, so the queue subject takes the calls again.
    expect(after).toMatch(/mcp_mesh_balancer_replicas\{[^}]*mcp_mesh_server="traced"[^}]*\} 0$/m);
  });

  it('puts trace ids on log lines', () => {
    const lines = ingress.stderr.split('\n').filter((line) => line.includes('"mcp request"'));
    expect(lines.length).toBeGreaterThan(0);
    const parsed = JSON.parse(lines.at(-1)!) as { trace_id?: string; span_id?: string; method: string; latencyMs: number };
    expect(parsed.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(parsed.span_id).toMatch(/^[0-9a-f]{16}$/);
    expect(typeof parsed.latencyMs).toBe('number');
  });
});
