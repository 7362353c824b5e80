import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Bridge } from '@mcp-mesh/bridge';
import { Subjects } from '@mcp-mesh/protocol';
import { createLogger, StdioServerConfigSchema } from '@mcp-mesh/runtime';
import { fixtureServerCommand, NatsServer } from '@mcp-mesh/testing';

describe('a bridge closed while it starts', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  beforeAll(async () => {
    nats = await NatsServer.start();
    nc = await connect({ servers: nats.url });
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.stop();
  });

  it('serves nothing: no endpoint answers once both have settled', async () => {
    const fixture = fixtureServerCommand({ name: 'early' });
    const bridge = new Bridge({
      server: 'early',
      config: StdioServerConfigSchema.parse({ command: fixture.command, args: fixture.args }),
      nc,
      logger: createLogger({ name: 'bridge-lifecycle', level: 'silent' }),
    });
    // A signal arrives while the upstream is still starting.
    const started = bridge.start();
    const closed = bridge.close();
    await Promise.allSettled([started, closed]);
    const subjects = new Subjects();
    await expect(nc.request(subjects.server('early', 'tools/list'), '{}', { timeout: 2_000 })).rejects.toThrow(/no responders/i);
    await expect(nc.request(subjects.instance(bridge.instance, 'tools/list'), '{}', { timeout: 2_000 })).rejects.toThrow(/no responders/i);
  });
});
