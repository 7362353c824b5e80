import { z } from 'zod';
import { Bridge } from '@mcp-mesh/bridge';
import { MeshError, ServerNameSchema } from '@mcp-mesh/protocol';
import { connectNats, createLogger, loadMeshConfig, parseMeshConfig, Shutdown, type ServerConfig, tuneHeap } from '@mcp-mesh/runtime';
import { traceFields } from '@mcp-mesh/telemetry';
import { LogLevelSchema, MillisSchema, natsUrlFrom, parseOptions } from '../options.js';
import { startTelemetry } from '../telemetry-sdk.js';

export const BridgeOptionsSchema = z
  .object({
    name: ServerNameSchema,
    url: z.string().optional(),
    config: z.string().optional(),
    natsUrl: z.string().optional(),
    prefix: z.string().optional(),
    env: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*=/, 'use --env NAME=value')).default([]),
    envPass: z.array(z.string()).default([]),
    timeout: MillisSchema.optional(),
    heartbeat: MillisSchema.optional(),
    metricsPort: z.coerce.number().int().min(1).max(65535).optional(),
    sessionMode: z.enum(['shared', 'per-client']).optional(),
    rateLimit: z
      .string()
      .regex(/^\d+(\.\d+)?\/\d+$/, 'use --rate-limit <calls per second>/<burst>, e.g. 10/20')
      .transform((text) => ({ ratePerSec: Number(text.split('/')[0]), burst: Number(text.split('/')[1]) }))
      .optional(),
    logLevel: LogLevelSchema.default('info'),
    command: z.array(z.string()).default([]),
  })
  .superRefine((options, ctx) => {
    const sources = [options.url !== undefined, options.config !== undefined, options.command.length > 0].filter(Boolean).length;
    if (sources !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: 'give exactly one upstream: -- <command> [args…], --url <http(s) endpoint>, or -c <config> (the server of that name)',
      });
    }
  });
export type BridgeCommandOptions = z.infer<typeof BridgeOptionsSchema>;

/** Builds the server config from flags, or takes it from a config file by name. */
async function resolveServer(options: BridgeCommandOptions): Promise<{ server: ServerConfig; natsUrl?: string; prefix?: string }> {
  if (options.config) {
    const config = await loadMeshConfig(options.config);
    const server = config.servers[options.name];
    if (!server) {
      throw new MeshError(
        'MESH_INVALID_CONFIG',
        `${options.config} has no server named '${options.name}' (it has: ${Object.keys(config.servers).join(', ') || 'none'})`,
      );
    }
    return { server, natsUrl: config.nats.url, prefix: config.nats.prefix };
  }
  const env = Object.fromEntries(options.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  const common = {
    ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout }),
    ...(options.sessionMode === undefined ? {} : { sessionMode: options.sessionMode }),
    ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
  };
  const raw = options.url
    ? { url: options.url, ...common }
    : { command: options.command[0], args: options.command.slice(1), env, envPassthrough: options.envPass, ...common };
  const parsed = parseMeshConfig({ servers: { [options.name]: raw } }, 'bridge options');
  return { server: parsed.servers[options.name]! };
}

/** `mcp-mesh bridge`: exposes one MCP server on NATS until SIGINT/SIGTERM, then drains. */
export async function runBridge(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const options = parseOptions(BridgeOptionsSchema, input, 'bridge');
  tuneHeap();
  const logger = createLogger({
    name: 'mcp-mesh-bridge',
    level: options.logLevel,
    base: { server: options.name },
    mixin: () => traceFields(),
  });
  const resolved = await resolveServer(options);
  const telemetry = await startTelemetry({
    serviceName: `mcp-mesh-bridge-${options.name}`,
    env,
    metrics: options.metricsPort === undefined ? { kind: 'off' } : { kind: 'port', port: options.metricsPort },
  });
  const url = natsUrlFrom(options.natsUrl, env, resolved.natsUrl);
  const nc = await connectNats({ url, name: `mcp-mesh-bridge-${options.name}` });
  const shutdown = new Shutdown(logger).listen();
  shutdown.add('telemetry', () => telemetry.shutdown());
  shutdown.add('nats', () => nc.drain());
  const bridge = new Bridge({
    server: options.name,
    config: resolved.server,
    nc,
    logger,
    parentEnv: env,
    ...((options.prefix ?? resolved.prefix) ? { prefix: options.prefix ?? resolved.prefix } : {}),
    ...(options.heartbeat === undefined ? {} : { heartbeatMs: options.heartbeat }),
  });
  shutdown.add('bridge', () => bridge.close());
  await bridge.start();
}
