import { EventEmitter } from 'node:events';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import {
  BridgeDescriptorSchema,
  ByeSchema,
  ListKinds,
  RegistryKind,
  Subjects,
  type BridgeDescriptor,
  type ListKind,
} from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import type { ReplicaBalancer } from './mesh-client.js';

export interface ServerView {
  name: string;
  /** Live replicas by instance id, each with when it was last heard. */
  instances: Map<string, { descriptor: BridgeDescriptor; seenAt: number }>;
  /**
   * Replicas whose upstream is ready, in the order they joined: the choices of the ingress's
   * balancer. Empty while the server has a single replica (its queue subject is as good).
   */
  balanced: string[];
}

export interface RegistryChange {
  server: string;
  /** added: first replica appeared; removed: last replica gone; lists: digests changed. */
  kind: 'added' | 'removed' | 'lists';
  /** The lists whose digests changed (all of the server's lists on added/removed). */
  lists: ListKind[];
}

export interface RegistryEvents {
  change: [RegistryChange];
}

const decoder = new TextDecoder();
const NONE: readonly string[] = Object.freeze([]);

/**
 * The replicas a balanced call may go to: with more than one replica, those whose upstream is
 * ready, and of those the ones in the ingress's own NATS cluster when there are any (as a queue
 * group prefers local members across a supercluster's gateways). Empty: use the queue subject.
 */
export function balancedChoices(replicas: readonly BridgeDescriptor[], localCluster: string | undefined): string[] {
  if (replicas.length < 2) return [];
  const ready = replicas.filter((replica) => replica.state === 'ready');
  const local = localCluster === undefined ? [] : ready.filter((replica) => replica.natsCluster === localCluster);
  return (local.length > 0 ? local : ready).map((replica) => replica.instance);
}

/**
 * What the ingress knows of live bridges, learnt from announce/heartbeat/bye messages and kept
 * fresh by expiry: a replica not heard from within its `ttlMs` is gone.
 */
export class Registry extends EventEmitter<RegistryEvents> implements ReplicaBalancer {
  private readonly servers = new Map<string, ServerView>();
  private sub: Subscription | undefined;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Subscribes, asks every bridge to announce itself, and waits `settleMs` for the answers. */
  async start(settleMs = 250): Promise<void> {
    this.sub = this.nc.subscribe(this.subjects.registryAll(), {
      callback: (error, msg) => {
        if (error) return;
        this.receive(msg.subject, msg.data);
      },
    });
    this.nc.publish(this.subjects.registry(RegistryKind.Discover));
    await this.nc.flush();
    this.sweeper = setInterval(() => this.sweep(), 250);
    this.sweeper.unref();
    await new Promise((resolve) => setTimeout(resolve, settleMs));
  }

  private receive(subject: string, data: Uint8Array): void {
    const kind = subject.slice(subject.lastIndexOf('.') + 1);
    if (kind === RegistryKind.Discover) return;
    let value: unknown;
    try {
      value = JSON.parse(decoder.decode(data));
    } catch {
      this.logger.warn({ subject }, 'ignoring a registry message that is not JSON');
      return;
    }
    if (kind === RegistryKind.Bye) {
      const bye = ByeSchema.safeParse(value);
      if (bye.success) this.remove(bye.data.server, bye.data.instance);
      return;
    }
    const parsed = BridgeDescriptorSchema.safeParse(value);
    if (!parsed.success) {
      this.logger.warn({ subject, issues: parsed.error.issues.slice(0, 3) }, 'ignoring an invalid bridge descriptor');
      return;
    }
    this.upsert(parsed.data);
  }

  private upsert(descriptor: BridgeDescriptor): void {
    let view = this.servers.get(descriptor.server);
    const before = view ? this.digests(view) : undefined;
    const wasServing = view ? this.serving(view) : false;
    if (!view) {
      view = { name: descriptor.server, instances: new Map(), balanced: [] };
      this.servers.set(descriptor.server, view);
    }
    view.instances.set(descriptor.instance, { descriptor, seenAt: Date.now() });
    this.rebalance(view);
    const serving = this.serving(view);
    if (serving && !wasServing) {
      this.logger.info({ server: descriptor.server, instance: descriptor.instance }, 'server joined');
      this.emit('change', { server: descriptor.server, kind: 'added', lists: [...ListKinds] });
      return;
    }
    if (!serving && wasServing) {
      this.emit('change', { server: descriptor.server, kind: 'removed', lists: [...ListKinds] });
      return;
    }
    if (serving && before) {
      const after = this.digests(view);
      const changed = ListKinds.filter((kind) => before[kind] !== after[kind]);
      if (changed.length > 0) this.emit('change', { server: descriptor.server, kind: 'lists', lists: changed });
    }
  }

  private remove(server: string, instance: string): void {
    const view = this.servers.get(server);
    if (!view || !view.instances.has(instance)) return;
    const wasServing = this.serving(view);
    view.instances.delete(instance);
    this.rebalance(view);
    if (view.instances.size === 0) this.servers.delete(server);
    if (wasServing && !this.serving(view)) {
      this.logger.info({ server, instance }, 'server left');
      this.emit('change', { server, kind: 'removed', lists: [...ListKinds] });
    }
  }

  private rebalance(view: ServerView): void {
    view.balanced = balancedChoices(
      [...view.instances.values()].map((entry) => entry.descriptor),
      this.nc.info?.cluster,
    );
  }

  /**
   * The replicas a call to `server` may be sent to directly (least-in-flight balancing), or an
   * empty list when the server's queue subject should take it: one replica, or none ready.
   */
  balancedReplicas(server: string): readonly string[] {
    return this.servers.get(server)?.balanced ?? NONE;
  }

  /**
   * A replica that did not answer on its own subject (no responders): gone until it is heard
   * from again, so no further call is balanced to it meanwhile.
   */
  forget(server: string, instance: string): void {
    if (this.servers.get(server)?.instances.has(instance)) {
      this.logger.warn({ server, instance }, 'bridge replica did not answer on its own subject: forgotten until its next heartbeat');
      this.remove(server, instance);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const view of [...this.servers.values()]) {
      for (const [instance, entry] of [...view.instances]) {
        if (now - entry.seenAt > entry.descriptor.ttlMs) {
          this.logger.warn({ server: view.name, instance }, 'bridge heartbeat expired');
          this.remove(view.name, instance);
        }
      }
    }
  }

  /**
   * A server serves while at least one replica takes calls: ready, or restarting its upstream (the
   * bridge holds calls until the upstream is back or the call's deadline passes). Draining
   * replicas take no new calls.
   */
  private serving(view: ServerView): boolean {
    for (const { descriptor } of view.instances.values()) if (descriptor.state !== 'draining' && descriptor.serverInfo) return true;
    return false;
  }

  private digests(view: ServerView): Partial<Record<ListKind, string>> {
    return this.descriptor(view.name)?.digests ?? {};
  }

  /**
   * The descriptor the lists come from: the newest ready replica's, else the newest replica that
   * has known its upstream (its digests are those of the upstream's last run).
   */
  descriptor(server: string): BridgeDescriptor | undefined {
    const view = this.servers.get(server);
    if (!view) return undefined;
    const rank = (d: BridgeDescriptor) => (d.state === 'ready' ? 2 : d.state !== 'draining' && d.serverInfo ? 1 : 0);
    let best: BridgeDescriptor | undefined;
    for (const { descriptor } of view.instances.values()) {
      if (rank(descriptor) === 0) continue;
      if (!best || rank(descriptor) > rank(best) || (rank(descriptor) === rank(best) && descriptor.startedAt > best.startedAt))
        best = descriptor;
    }
    return best;
  }

  /** Names of servers with at least one replica taking calls, sorted. */
  liveServers(): string[] {
    return [...this.servers.values()]
      .filter((view) => this.serving(view))
      .map((view) => view.name)
      .sort();
  }

  isLive(server: string): boolean {
    const view = this.servers.get(server);
    return view !== undefined && this.serving(view);
  }

  knows(server: string): boolean {
    return this.servers.has(server);
  }

  /** Every replica, for `mcp-mesh ls` and health. */
  snapshot(): { server: string; replicas: BridgeDescriptor[] }[] {
    return [...this.servers.values()]
      .map((view) => ({ server: view.name, replicas: [...view.instances.values()].map((entry) => entry.descriptor) }))
      .sort((a, b) => a.server.localeCompare(b.server));
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sub?.unsubscribe();
  }
}
