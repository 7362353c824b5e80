import { z } from 'zod';
import { UpstreamError } from '@mcp-mesh/ingress';
import { MeshError } from '@mcp-mesh/protocol';
import { natsUrlFrom, parseOptions } from '../options.js';
import { joinMesh } from '../discover.js';
import { say, warn } from '../output.js';

export const CallOptionsSchema = z.object({
  server: z.string().min(1),
  tool: z.string().min(1),
  args: z.string().default('{}'),
  natsUrl: z.string().optional(),
  prefix: z.string().optional(),
  timeout: z.coerce.number().int().min(10).max(3_600_000).default(60_000),
});

/** Parses the JSON arguments of `mcp-mesh call`: an object, with a clear error otherwise. */
export function parseToolArguments(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MeshError('MESH_INVALID_PARAMS', `tool arguments are not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MeshError('MESH_INVALID_PARAMS', 'tool arguments must be a JSON object, e.g. \'{"text":"hi"}\'');
  }
  return value as Record<string, unknown>;
}

/** `mcp-mesh call <server> <tool> '<json>'`: prints the tool result as JSON; exit 1 on an error result. */
export async function runCall(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = parseOptions(CallOptionsSchema, input, 'call');
  const args = parseToolArguments(options.args);
  const mesh = await joinMesh(natsUrlFrom(options.natsUrl, env), options.prefix, 0);
  try {
    const result = await mesh.client.call(
      options.server,
      'tools/call',
      { name: options.tool, arguments: args },
      { deadline: Date.now() + options.timeout },
    );
    say(JSON.stringify(result, null, 2));
    return result.isError === true ? 1 : 0;
  } catch (error) {
    if (!(error instanceof UpstreamError)) throw error;
    warn(`error: ${options.server} answered ${error.wire.code}${error.meshCode ? ` [${error.meshCode}]` : ''}: ${error.wire.message}`);
    return 1;
  } finally {
    await mesh.close();
  }
}
