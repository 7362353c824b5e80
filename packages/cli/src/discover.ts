import { MeshClient, Registry } from '@mcp-mesh/ingress';
import { Subjects } from '@mcp-mesh/protocol';
import { connectNats, createLogger } from '@mcp-mesh/runtime';
import type { NatsConnection } from '@nats-io/transport-node';

export interface MeshHandle {
  nc: NatsConnection;
  registry: Registry;
  client: MeshClient;
  close(): Promise<void>;
}

/** Connects to a running mesh and waits briefly for its bridges to announce themselves. */
export async function joinMesh(url: string, prefix: string | undefined, settleMs = 600): Promise<MeshHandle> {
  const nc = await connectNats({ url, name: 'mcp-mesh-cli' });
  const subjects = new Subjects(prefix);
  const registry = new Registry(nc, subjects, createLogger({ name: 'mcp-mesh-cli', level: 'warn' }));
  await registry.start(settleMs);
  const client = new MeshClient(nc, subjects);
  return {
    nc,
    registry,
    client,
    close: async () => {
      client.close();
      registry.close();
      await nc.drain();
    },
  };
}
