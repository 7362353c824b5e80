import { z } from 'zod';
import { Ingress } from '@mcp-mesh/ingress';
import { MeshError } from '@mcp-mesh/protocol';
import { connectNats, createLogger, IngressConfigSchema, loadMeshConfig, Shutdown, type IngressConfig } from '@mcp-mesh/runtime';
import { LogLevelSchema, MillisSchema, natsUrlFrom, parseOptions, PortSchema } from '../options.js';

export const IngressOptionsSchema = z.object({
  config: z.string().optional(),
  port: PortSchema.optional(),
  host: z.string().optional(),
  natsUrl: z.string().optional(),
  timeout: MillisSchema.optional(),
  logLevel: LogLevelSchema.default('info'),
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Applies flags over the config file's ingress section. */
export function ingressConfigFrom(base: IngressConfig, flags: z.infer<typeof IngressOptionsSchema>): IngressConfig {
  const merged = IngressConfigSchema.parse({
    ...base,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.timeout === undefined ? {} : { requestTimeoutMs: flags.timeout }),
  });
  if (!LOOPBACK.has(merged.host)) {
    // No authentication exists yet: the ingress serves loopback clients only.
    throw new MeshError(
      'MESH_INVALID_CONFIG',
      `refusing to listen on ${merged.host}: without authentication the ingress serves loopback only (127.0.0.1, ::1)`,
    );
  }
  return merged;
}

/** `mcp-mesh ingress`: serves MCP over HTTP until SIGINT/SIGTERM. */
export async function runIngress(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const flags = parseOptions(IngressOptionsSchema, input, 'ingress');
  const file = flags.config ? await loadMeshConfig(flags.config) : undefined;
  const config = ingressConfigFrom(file?.ingress ?? IngressConfigSchema.parse({}), flags);
  const logger = createLogger({ name: 'mcp-mesh-ingress', level: flags.logLevel });
  const nc = await connectNats({ url: natsUrlFrom(flags.natsUrl, env, file?.nats.url), name: 'mcp-mesh-ingress' });
  const shutdown = new Shutdown(logger).listen();
  shutdown.add('nats', () => nc.drain());
  const ingress = new Ingress({ nc, config, logger, ...(file ? { prefix: file.nats.prefix } : {}) });
  shutdown.add('ingress', () => ingress.close());
  await ingress.start();
}
