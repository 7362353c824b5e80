import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RegistryKind, Subjects } from '@mcp-mesh/protocol';

interface Replica {
  server: string;
  state: string;
  seen: number;
}

const FORGET_AFTER_MS = 5_000;

/**
 * Listens to the registry subjects (announce, heartbeat, bye) and counts the bridge replicas of
 * each server that say they are ready, so the harness knows when a new replica takes calls.
 */
export class ReplicaWatcher {
  private readonly replicas = new Map<string, Replica>();

  private constructor(
    private readonly nc: NatsConnection,
    private readonly sub: Subscription,
  ) {}

  static async start(natsUrl: string, prefix?: string): Promise<ReplicaWatcher> {
    const nc = await connect({ servers: natsUrl, name: 'mcp-mesh-bench' });
    const subjects = new Subjects(prefix);
    const bye = subjects.registry(RegistryKind.Bye);
    let watcher: ReplicaWatcher | undefined;
    const sub = nc.subscribe(subjects.registryAll(), {
      callback: (error, msg) => {
        if (error || !watcher) return;
        let body: { server?: unknown; instance?: unknown; state?: unknown };
        try {
          body = msg.json();
        } catch {
          return;
        }
        if (typeof body.instance !== 'string' || typeof body.server !== 'string') return;
        if (msg.subject === bye) watcher.replicas.delete(body.instance);
        else watcher.replicas.set(body.instance, { server: body.server, state: String(body.state), seen: Date.now() });
      },
    });
    watcher = new ReplicaWatcher(nc, sub);
    await nc.flush();
    return watcher;
  }

  /** Replicas of `server` heard from recently that report state `ready`. */
  ready(server: string): number {
    const now = Date.now();
    let count = 0;
    for (const replica of this.replicas.values()) {
      if (replica.server === server && replica.state === 'ready' && now - replica.seen < FORGET_AFTER_MS) count++;
    }
    return count;
  }

  async close(): Promise<void> {
    this.sub.unsubscribe();
    await this.nc.close();
  }
}
