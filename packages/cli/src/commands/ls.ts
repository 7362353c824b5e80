import { z } from 'zod';
import { natsUrlFrom, parseOptions } from '../options.js';
import { joinMesh } from '../discover.js';
import { colour, say } from '../output.js';

export const LsOptionsSchema = z.object({
  natsUrl: z.string().optional(),
  prefix: z.string().optional(),
  json: z.boolean().default(false),
  timeout: z.coerce.number().int().min(100).max(60_000).default(5_000),
});

interface ServerListing {
  server: string;
  live: boolean;
  replicas: { instance: string; state: string; restarts: number; inFlight: number; upstream: string }[];
  serverInfo?: unknown;
  tools: { name: string; description?: string }[];
  error?: string;
}

/** `mcp-mesh ls`: every server the mesh knows, its replicas and its tools. */
export async function runLs(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = parseOptions(LsOptionsSchema, input, 'ls');
  const mesh = await joinMesh(natsUrlFrom(options.natsUrl, env), options.prefix);
  try {
    const listings: ServerListing[] = [];
    for (const { server, replicas } of mesh.registry.snapshot()) {
      const listing: ServerListing = {
        server,
        live: mesh.registry.isLive(server),
        replicas: replicas.map((r) => ({
          instance: r.instance,
          state: r.state,
          restarts: r.restarts,
          inFlight: r.inFlight,
          upstream: r.upstream.target,
        })),
        serverInfo: mesh.registry.descriptor(server)?.serverInfo,
        tools: [],
      };
      if (listing.live && mesh.registry.descriptor(server)?.digests.tools !== undefined) {
        try {
          const result = await mesh.client.call(server, 'tools/list', undefined, { deadline: Date.now() + options.timeout });
          listing.tools = ((result.tools as { name: string; description?: string }[]) ?? []).map((t) => ({
            name: t.name,
            ...(t.description ? { description: t.description } : {}),
          }));
        } catch (error) {
          listing.error = (error as Error).message;
        }
      }
      listings.push(listing);
    }
    if (options.json) {
      say(JSON.stringify({ servers: listings }, null, 2));
      return 0;
    }
    if (listings.length === 0) {
      say('no servers: no bridge answered on this mesh. Start one with `mcp-mesh bridge --name <server> -- <command>`.');
      return 0;
    }
    for (const listing of listings) {
      const state = listing.live ? colour.green('live') : colour.yellow('not ready');
      say(`${colour.bold(listing.server)}  ${state}  ${listing.replicas.length} replica(s)  ${listing.tools.length} tool(s)`);
      for (const replica of listing.replicas) {
        say(colour.dim(`  replica ${replica.instance}  ${replica.state}  restarts=${replica.restarts}  in-flight=${replica.inFlight}`));
      }
      for (const tool of listing.tools)
        say(`  - ${tool.name}${tool.description ? colour.dim(`  ${tool.description.split('\n')[0]!.slice(0, 80)}`) : ''}`);
      if (listing.error) say(colour.red(`  tools unavailable: ${listing.error}`));
    }
    return 0;
  } finally {
    await mesh.close();
  }
}
