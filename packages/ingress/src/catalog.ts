import { UriTemplate } from '@modelcontextprotocol/server';
import {
  ListMethods,
  MeshError,
  meshResourceUri,
  namespacedName,
  parseMeshResourceUri,
  splitNamespacedName,
  type ListKind,
} from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import type { MeshClient } from './mesh-client.js';
import type { Registry } from './registry.js';

type Item = Record<string, unknown> & { name?: string; uri?: string; uriTemplate?: string };

export interface Target {
  server: string;
  /** The name or URI as the server knows it. */
  name: string;
}

export interface AggregateList {
  items: Item[];
  /** Servers left out of this list because they failed or were too slow, with why. */
  skipped: { server: string; reason: string }[];
}

/**
 * The aggregated view of every live server's lists for `/mcp`: fetches each server's full list
 * (cached per server by the digest its bridges announce), namespaces names as
 * `<server><sep><name>`, and keeps the reverse maps that route calls back. One slow or failing
 * server is left out of a list and reported, never turned into an error for the whole list.
 */
export class Catalog {
  private readonly cache = new Map<string, { digest: string; items: Item[] }>();
  private readonly routes: Record<ListKind, Map<string, Target>> = {
    tools: new Map(),
    prompts: new Map(),
    resources: new Map(),
    resourceTemplates: new Map(),
  };

  constructor(
    private readonly registry: Registry,
    private readonly client: MeshClient,
    private readonly options: { separator: string; listTimeoutMs: number; logger: Logger },
  ) {
    registry.on('change', (change) => {
      if (change.kind === 'removed') for (const kind of change.lists) this.cache.delete(`${change.server}/${kind}`);
    });
  }

  /** One server's full list (every page), from cache while its digest is unchanged. */
  async serverList(server: string, kind: ListKind, deadline: number): Promise<Item[]> {
    const descriptor = this.registry.descriptor(server);
    if (!descriptor) throw new MeshError('MESH_SERVER_UNAVAILABLE', `server '${server}' has no live bridge`, { details: { server } });
    const digest = descriptor.digests[kind];
    if (digest === undefined) return [];
    const key = `${server}/${kind}`;
    const cached = this.cache.get(key);
    if (cached?.digest === digest) return cached.items;
    // If the replica that gave the first page goes away before a later one, the list starts again once.
    const items = (await this.pages(server, kind, deadline, true)) ?? (await this.pages(server, kind, deadline, false))!;
    this.cache.set(key, { digest, items });
    return items;
  }

  /**
   * Every page of one server's list. Later pages go to the replica that gave the first: a cursor
   * may mean something only there. Undefined when that replica is gone (no responders) and
   * `mayRestart` is set; otherwise that fails like any call.
   */
  private async pages(server: string, kind: ListKind, deadline: number, mayRestart: boolean): Promise<Item[] | undefined> {
    const { method, field } = ListMethods[kind];
    const items: Item[] = [];
    const stats: { instance?: string } = {};
    let cursor: string | undefined;
    for (let page = 0; page < 1_000; page++) {
      const pinned = cursor === undefined ? undefined : stats.instance;
      let result: Record<string, unknown>;
      try {
        result = await this.client.call(server, method, cursor === undefined ? undefined : { cursor }, {
          deadline,
          stats,
          ...(pinned ? { instance: pinned } : {}),
        });
      } catch (error) {
        if (pinned && mayRestart && error instanceof MeshError && error.code === 'MESH_SERVER_UNAVAILABLE') return undefined;
        throw error;
      }
      const pageItems = result[field];
      if (Array.isArray(pageItems)) items.push(...(pageItems as Item[]));
      const next = result.nextCursor;
      if (typeof next !== 'string' || next.length === 0) break;
      cursor = next;
    }
    return items;
  }

  /**
   * The namespaced union of one list over every live server. `visible` filters each server's items
   * for the caller (RBAC) before they are namespaced; routes are always built from every item.
   */
  async aggregate(kind: ListKind, visible?: (server: string, items: Item[]) => Item[]): Promise<AggregateList> {
    const deadline = Date.now() + this.options.listTimeoutMs;
    const servers = this.registry.liveServers();
    const settled = await Promise.allSettled(servers.map((server) => this.serverList(server, kind, deadline)));
    const items: Item[] = [];
    const skipped: AggregateList['skipped'] = [];
    const routes = new Map<string, Target>();
    settled.forEach((outcome, index) => {
      const server = servers[index]!;
      if (outcome.status === 'rejected') {
        const reason = (outcome.reason as Error).message;
        skipped.push({ server, reason });
        this.options.logger.warn({ server, list: kind, reason }, 'server left out of an aggregated list');
        return;
      }
      const allowed = visible ? new Set(visible(server, outcome.value)) : undefined;
      for (const item of outcome.value) {
        const exposed = this.expose(kind, server, item, routes);
        if (exposed && (!allowed || allowed.has(item))) items.push(exposed);
      }
    });
    this.routes[kind] = routes;
    return { items, skipped };
  }

  private expose(kind: ListKind, server: string, item: Item, routes: Map<string, Target>): Item | undefined {
    if (kind === 'resources') {
      if (typeof item.uri !== 'string') return undefined;
      const uri = routes.has(item.uri) ? meshResourceUri(server, item.uri) : item.uri;
      routes.set(uri, { server, name: item.uri });
      return uri === item.uri ? item : { ...item, uri };
    }
    if (typeof item.name !== 'string') return undefined;
    const name = namespacedName(server, item.name, this.options.separator);
    routes.set(name, { server, name: item.name });
    if (kind === 'resourceTemplates' && typeof item.uriTemplate === 'string') {
      routes.set(`template:${item.uriTemplate}`, { server, name: item.uriTemplate });
    }
    return { ...item, name };
  }

  /** Routes a namespaced tool or prompt name to its server. */
  async resolveName(kind: 'tools' | 'prompts', exposed: string): Promise<Target> {
    const known = this.routes[kind].get(exposed);
    if (known && this.registry.isLive(known.server)) return known;
    await this.aggregate(kind);
    const fresh = this.routes[kind].get(exposed);
    if (fresh) return fresh;
    const label = kind === 'tools' ? 'tool' : 'prompt';
    const split = splitNamespacedName(exposed, this.options.separator);
    const live = this.registry.liveServers();
    if (split && !this.registry.isLive(split.server)) {
      throw new MeshError(
        'MESH_UNKNOWN_SERVER',
        `unknown ${label} '${exposed}': server '${split.server}' has no live bridge (live servers: ${live.join(', ') || 'none'})`,
        { details: { [label]: exposed, server: split.server } },
      );
    }
    throw new MeshError(
      kind === 'tools' ? 'MESH_UNKNOWN_TOOL' : 'MESH_UNKNOWN_PROMPT',
      split
        ? `unknown ${label} '${exposed}': server '${split.server}' has no ${label} named '${split.name}'`
        : `unknown ${label} '${exposed}': names on this endpoint are <server>${this.options.separator}<${label}> (live servers: ${live.join(', ') || 'none'})`,
      { details: { [label]: exposed } },
    );
  }

  /** Routes a resource URI: a listed resource, a mesh-rewritten URI, or a URI one server's template matches. */
  async resolveResource(uri: string): Promise<Target> {
    let known = this.routes.resources.get(uri);
    if (!known) {
      await Promise.all([this.aggregate('resources'), this.aggregate('resourceTemplates')]);
      known = this.routes.resources.get(uri);
    }
    if (known) return known;
    const rewritten = parseMeshResourceUri(uri);
    if (rewritten && this.registry.isLive(rewritten.server)) return { server: rewritten.server, name: rewritten.uri };
    for (const [key, target] of this.routes.resourceTemplates) {
      if (!key.startsWith('template:')) continue;
      if (new UriTemplate(target.name).match(uri)) return { server: target.server, name: uri };
    }
    throw new MeshError('MESH_UNKNOWN_RESOURCE', `unknown resource '${uri}': no live server lists it or has a template that matches it`, {
      details: { uri },
    });
  }

  /** Routes a completion reference (`ref/prompt` by name, `ref/resource` by template). */
  async resolveCompletionRef(ref: {
    type: string;
    name?: string;
    uri?: string;
  }): Promise<{ server: string; ref: Record<string, unknown> }> {
    if (ref.type === 'ref/prompt' && typeof ref.name === 'string') {
      const target = await this.resolveName('prompts', ref.name);
      return { server: target.server, ref: { ...ref, name: target.name } };
    }
    if (ref.type === 'ref/resource' && typeof ref.uri === 'string') {
      let target = this.routes.resourceTemplates.get(`template:${ref.uri}`);
      if (!target) {
        await this.aggregate('resourceTemplates');
        target = this.routes.resourceTemplates.get(`template:${ref.uri}`);
      }
      if (!target)
        throw new MeshError('MESH_UNKNOWN_RESOURCE', `no live server has the resource template '${ref.uri}'`, {
          details: { uri: ref.uri },
        });
      return { server: target.server, ref };
    }
    throw new MeshError('MESH_INVALID_PARAMS', `completion/complete needs ref of type ref/prompt (with name) or ref/resource (with uri)`);
  }
}
