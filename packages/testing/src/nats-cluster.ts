import { freePort } from './free-port.js';
import { NatsServer, type NatsServerOptions } from './nats-server.js';

export interface NatsClusterOptions extends Pick<NatsServerOptions, 'startTimeoutMs' | 'stopTimeoutMs'> {
  /** Number of nodes (default 3). */
  size?: number;
  name?: string;
}

/**
 * A real nats-server cluster on loopback: every node has JetStream, its own store, a client port
 * and a route port, and routes to every other node. Nodes can be killed and restarted one by one.
 */
export class NatsCluster {
  private constructor(readonly nodes: NatsServer[]) {}

  static async start(options: NatsClusterOptions = {}): Promise<NatsCluster> {
    const size = options.size ?? 3;
    const name = options.name ?? 'mesh-test';
    const clientPorts: number[] = [];
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) {
      clientPorts.push(await freePort());
      routePorts.push(await freePort());
    }
    const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`).join(',');
    const nodes = await Promise.all(
      clientPorts.map((port, i) =>
        NatsServer.start({
          ...options,
          port,
          args: [
            '--server_name',
            `${name}-n${i + 1}`,
            '--cluster_name',
            name,
            '--cluster',
            `nats://127.0.0.1:${routePorts[i]}`,
            '--routes',
            routes,
          ],
        }),
      ),
    );
    return new NatsCluster(nodes);
  }

  /** Client URLs of every node, comma-separated (what NATS clients take). */
  get urls(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  node(index: number): NatsServer {
    const node = this.nodes[index];
    if (!node) throw new Error(`the cluster has no node ${index}`);
    return node;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
