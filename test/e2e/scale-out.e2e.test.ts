import { postToolsList, startFixtureBridge } from '../support/requests.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Ingress } from '@mcp-mesh/ingress';
import { connectNats, createLogger, IngressConfigSchema } from '@mcp-mesh/runtime';
import { NatsServer } from '@mcp-mesh/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { TestProcess, waitFor } from '../support/processes.js';

describe('ingress replicas share sessions through NATS KV', () => {
  let nats: NatsServer;
  const connections: NatsConnection[] = [];
  const ingresses: Ingress[] = [];
  let bridge: TestProcess;

  beforeAll(async () => {
    nats = await NatsServer.start();
    for (let i = 0; i < 2; i++) {
      const nc = await connectNats({ url: nats.url, name: `ingress-${i}` });
      connections.push(nc);
      const ingress = new Ingress({
        nc,
        config: IngressConfigSchema.parse({ port: 0 }),
        logger: createLogger({ name: `ingress-${i}`, level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        discoverSettleMs: 50,
      });
      await ingress.start();
      ingresses.push(ingress);
    }
    bridge = startFixtureBridge(nats.url, 'shared');
    await waitFor(() => ingresses.every((ingress) => ingress.registry.isLive('shared')), 'both ingresses to see the bridge', 20_000);
  });

  afterAll(async () => {
    await bridge?.stop();
    for (const ingress of ingresses) await ingress.close();
    for (const nc of connections) await nc.close();
    await nats?.stop();
  });

  it('continues a session started on one replica on the other, with no sticky load balancer', async () => {
    const [a, b] = ingresses as [Ingress, Ingress];
    let target = a.url;
    // A load balancer that sends the client wherever it likes: here, to B after the handshake.
    const balancer: typeof fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const routed = new URL(url.pathname + url.search, target);
      return fetch(routed, init);
    };
    const client = new Client({ name: 'roaming', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`), { fetch: balancer }));
    expect(a.sessionCount).toBe(1);
    target = b.url;
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('shared__echo');
    const result = await client.callTool({ name: 'shared__echo', arguments: { text: 'served by B' } });
    expect(result.content).toEqual([{ type: 'text', text: 'served by B' }]);
    expect(b.sessionCount).toBe(1);
    await client.close();
  });

  it('still answers 404 for a session no replica knows', async () => {
    const response = await postToolsList(`${ingresses[1]!.url}/mcp`, 'never-issued');
    expect(response.status).toBe(404);
  });

  it('does not continue a session on another endpoint', async () => {
    const [a, b] = ingresses as [Ingress, Ingress];
    const client = new Client({ name: 'scoped', version: '1' });
    const transport = new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`));
    await client.connect(transport);
    const response = await postToolsList(`${b.url}/servers/shared/mcp`, transport.sessionId!);
    expect(response.status).toBe(404);
    await client.close();
  });
});
