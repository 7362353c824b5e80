import { z } from 'zod';
import { formatIssues, invalidConfig } from '@mcp-mesh/protocol';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

export const LogLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Parses a command's options with zod; every problem is reported at once. */
export function parseOptions<T extends z.ZodType>(schema: T, value: unknown, command: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw invalidConfig(
      `invalid options for '${command}'`,
      formatIssues(result.error).map((line) => `--${line}`),
    );
  }
  return result.data;
}

export const PortSchema = z.coerce.number().int().min(0).max(65535);
export const MillisSchema = z.coerce.number().int().min(10).max(3_600_000);

/** `NATS_URL` from the environment wins over a config file's `nats.url`, an explicit flag over both. */
export function natsUrlFrom(flag: string | undefined, env: NodeJS.ProcessEnv, configured?: string): string {
  return flag ?? env.NATS_URL ?? configured ?? DEFAULT_NATS_URL;
}
