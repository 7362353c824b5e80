import type { Ingress } from '@mcp-mesh/ingress';
import { BreakerState, type Identity } from '@mcp-mesh/policy';
import type { BridgeDescriptor, ListKind } from '@mcp-mesh/protocol';
import {
  ServerHealth,
  type CatalogServer,
  type PromptView,
  type ReplicaView,
  type ResourceView,
  type ServerSummary,
  type ToolView,
} from './api-types.js';

/** What the console reads of the ingress. */
export type ConsoleIngress = Pick<Ingress, 'registry' | 'catalog' | 'breakerStates' | 'activePolicy' | 'url'>;

const LIST_KINDS = ['tools', 'prompts', 'resources', 'resourceTemplates'] as const satisfies readonly ListKind[];
/** The policy's target kind of each list. */
const TARGET_KIND = { tools: 'tool', prompts: 'prompt', resources: 'resource', resourceTemplates: 'resource' } as const;

export function healthOf(replicas: readonly BridgeDescriptor[], breaker: string | undefined): ServerHealth {
  if (breaker === BreakerState.Open) return ServerHealth.BreakerOpen;
  const ready = replicas.filter((replica) => replica.state === 'ready').length;
  if (ready > 0) return ready === replicas.length ? ServerHealth.Healthy : ServerHealth.Degraded;
  if (replicas.some((replica) => replica.state === 'starting' || replica.state === 'upstream-down')) return ServerHealth.Restarting;
  return ServerHealth.Down;
}

function replicaView(descriptor: BridgeDescriptor): ReplicaView {
  return {
    instance: descriptor.instance,
    state: descriptor.state,
    restarts: descriptor.restarts,
    inFlight: descriptor.inFlight,
    startedAt: descriptor.startedAt,
    // The upstream's command or URL stays out: it can carry paths, hosts or tokens.
    upstream: descriptor.upstream.kind,
    sessionMode: descriptor.sessionMode ?? null,
  };
}

/** Whether the caller may see a server at all (the same rule `/servers/<name>/mcp` applies). */
export function canSeeServer(ingress: ConsoleIngress, identity: Identity, server: string): boolean {
  return ingress.activePolicy?.authorizer.can(identity, { kind: 'server', server }).allowed ?? false;
}

/** Every server the caller may see, with its replicas and health, from the registry (no I/O). */
export function serverSummaries(ingress: ConsoleIngress, identity: Identity): ServerSummary[] {
  const breakers = ingress.breakerStates();
  return ingress.registry
    .snapshot()
    .filter(({ server }) => canSeeServer(ingress, identity, server))
    .map(({ server, replicas }) => {
      const digests = ingress.registry.descriptor(server)?.digests ?? {};
      return {
        name: server,
        health: healthOf(replicas, breakers[server]),
        breaker: breakers[server] ?? null,
        replicas: replicas.map(replicaView).sort((a, b) => a.instance.localeCompare(b.instance)),
        listsVersion: LIST_KINDS.map((kind) => digests[kind] ?? '-').join('.'),
      };
    });
}

function pick<T extends object>(item: Record<string, unknown>, keys: readonly (keyof T & string)[]): T {
  const view: Record<string, unknown> = {};
  for (const key of keys) if (item[key] !== undefined) view[key] = item[key];
  return view as T;
}

/**
 * The catalog for one caller: every server it may see, with every tool, prompt, resource and
 * template it may use. Lists come from the ingress's catalog (cached per server by digest, fetched
 * over NATS when the digest changed); a list that fails is reported, not fatal.
 */
export async function catalogFor(ingress: ConsoleIngress, identity: Identity, listTimeoutMs: number): Promise<CatalogServer[]> {
  const authorizer = ingress.activePolicy!.authorizer;
  const deadline = Date.now() + listTimeoutMs;
  return Promise.all(
    serverSummaries(ingress, identity).map(async (summary): Promise<CatalogServer> => {
      const descriptor = ingress.registry.descriptor(summary.name);
      const lists: Record<(typeof LIST_KINDS)[number], Record<string, unknown>[]> = {
        tools: [],
        prompts: [],
        resources: [],
        resourceTemplates: [],
      };
      const listErrors: CatalogServer['listErrors'] = {};
      if (descriptor) {
        await Promise.all(
          LIST_KINDS.map(async (kind) => {
            try {
              const items = await ingress.catalog.serverList(summary.name, kind, deadline);
              lists[kind] = authorizer.filterList(identity, summary.name, TARGET_KIND[kind], items);
            } catch (error) {
              listErrors[kind] = (error as Error).message;
            }
          }),
        );
      }
      const info = descriptor?.serverInfo as { name: string; version: string; title?: unknown } | undefined;
      return {
        ...summary,
        serverInfo: info
          ? { name: info.name, version: info.version, ...(typeof info.title === 'string' ? { title: info.title } : {}) }
          : null,
        protocolVersion: descriptor?.protocolVersion ?? null,
        capabilities: descriptor?.capabilities ?? {},
        instructions: descriptor?.instructions ?? null,
        tools: lists.tools.map((item) =>
          pick<ToolView>(item, ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations']),
        ),
        prompts: lists.prompts.map((item) => pick<PromptView>(item, ['name', 'title', 'description', 'arguments'])),
        resources: lists.resources.map((item) => pick<ResourceView>(item, ['uri', 'name', 'description', 'mimeType'])),
        resourceTemplates: lists.resourceTemplates.map((item) =>
          pick<ResourceView>(item, ['uriTemplate', 'name', 'description', 'mimeType']),
        ),
        listErrors,
      };
    }),
  );
}
