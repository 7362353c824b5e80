import { z } from 'zod';
import { MeshError } from '@mcp-mesh/protocol';
import { formatIssues } from '@mcp-mesh/runtime';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Parses a command's options with zod; every problem is reported at once. */
export function parseOptions<T extends z.ZodType>(schema: T, value: unknown, command: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const problems = formatIssues(result.error).map((line) => `--${line}`);
    throw new MeshError('MESH_INVALID_CONFIG', `invalid options for '${command}':\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
      details: { problems },
    });
  }
  return result.data;
}

export const PortSchema = z.coerce.number().int().min(0).max(65535);
export const MillisSchema = z.coerce.number().int().min(10).max(3_600_000);

/** `NATS_URL` from the environment wins over a config file's `nats.url`, an explicit flag over both. */
export function natsUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv, configured?: string): string {
  return flag ?? env.NATS_URL ?? configured ?? DEFAULT_NATS_URL;
}
