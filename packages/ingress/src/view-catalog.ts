import { MeshError, namespacedName, type ListKind } from '@mcp-mesh/protocol';
import { globMatch } from '@mcp-mesh/policy';
import type { ViewConfig, ViewEntry } from '@mcp-mesh/runtime';
import type { Catalog, Target } from './catalog.js';

type Item = Record<string, unknown> & { name?: string; uri?: string };

/**
 * One view: a curated list of tools, prompts and resources drawn from several servers, with
 * optional renames and description overrides. Items keep `<server>__<name>` names unless renamed.
 */
export class ViewCatalog {
  private readonly routes: Record<'tools' | 'prompts' | 'resources', Map<string, Target>> = {
    tools: new Map(),
    prompts: new Map(),
    resources: new Map(),
  };

  /** The servers the view draws from (its config is fixed: worked out once, not per request). */
  readonly servers: readonly string[];

  constructor(
    readonly name: string,
    readonly config: ViewConfig,
    private readonly catalog: Catalog,
    private readonly options: { separator: string; listTimeoutMs: number },
  ) {
    this.servers = [...new Set([...config.tools, ...config.prompts, ...config.resources].map((entry) => entry.server))];
  }

  /** The view's list of one kind; `visible` applies RBAC per server before renaming. */
  async list(kind: 'tools' | 'prompts' | 'resources', visible: (server: string, items: Item[]) => Item[]): Promise<Item[]> {
    const deadline = Date.now() + this.options.listTimeoutMs;
    const listKind: ListKind = kind;
    const routes = new Map<string, Target>();
    const out: Item[] = [];
    if (kind === 'resources') {
      for (const entry of this.config.resources) {
        const items = await this.catalog.serverList(entry.server, listKind, deadline).catch(() => [] as Item[]);
        for (const item of visible(entry.server, items)) {
          if (typeof item.uri !== 'string' || !globMatch(entry.uri, item.uri) || routes.has(item.uri)) continue;
          routes.set(item.uri, { server: entry.server, name: item.uri });
          out.push(item);
        }
      }
    } else {
      const entries: ViewEntry[] = this.config[kind];
      for (const entry of entries) {
        const items = await this.catalog.serverList(entry.server, listKind, deadline).catch(() => [] as Item[]);
        for (const item of visible(entry.server, items)) {
          if (typeof item.name !== 'string' || !globMatch(entry.name, item.name)) continue;
          const exposed = entry.as ?? namespacedName(entry.server, item.name, this.options.separator);
          if (routes.has(exposed)) continue;
          routes.set(exposed, { server: entry.server, name: item.name });
          out.push({ ...item, name: exposed, ...(entry.description === undefined ? {} : { description: entry.description }) });
        }
      }
    }
    this.routes[kind] = routes;
    return out;
  }

  /** Where a name (or URI) of the view goes; the view's lists are rebuilt once when it is not known. */
  async resolve(
    kind: 'tools' | 'prompts' | 'resources',
    exposed: string,
    visible: (server: string, items: Item[]) => Item[],
  ): Promise<Target> {
    let target = this.routes[kind].get(exposed);
    if (!target) {
      await this.list(kind, visible);
      target = this.routes[kind].get(exposed);
    }
    if (!target) {
      const label = kind === 'tools' ? 'tool' : kind === 'prompts' ? 'prompt' : 'resource';
      throw new MeshError(
        kind === 'tools' ? 'MESH_UNKNOWN_TOOL' : kind === 'prompts' ? 'MESH_UNKNOWN_PROMPT' : 'MESH_UNKNOWN_RESOURCE',
        `view '${this.name}' has no ${label} '${exposed}'`,
        {
          details: { view: this.name, [label]: exposed },
        },
      );
    }
    return target;
  }
}
