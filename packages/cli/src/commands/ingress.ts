import { z } from 'zod';
import { DEFAULT_SUBJECT_PREFIX, MeshError } from '@mcp-mesh/protocol';
import {
  AuditConfigSchema,
  connectNats,
  createLogger,
  IngressConfigSchema,
  loadMeshConfig,
  Shutdown,
  type IngressConfig,
  tuneHeap,
} from '@mcp-mesh/runtime';
import { traceFields } from '@mcp-mesh/telemetry';
import { JaegerUrlSchema, policyFrom, requiresAuthentication, serveIngress, withJaegerUrlFromEnv } from '../serve-ingress.js';
import { startTelemetry } from '../telemetry-sdk.js';
import { LogLevelSchema, MillisSchema, natsUrlFrom, parseOptions, PortSchema } from '../options.js';

export const IngressOptionsSchema = z.object({
  config: z.string().optional(),
  port: PortSchema.optional(),
  host: z.string().optional(),
  natsUrl: z.string().optional(),
  timeout: MillisSchema.optional(),
  allowAnonymous: z.boolean().default(false),
  closeSseAfter: MillisSchema.optional(),
  balance: IngressConfigSchema.shape.balance.unwrap().optional(),
  allowedHost: z.array(z.string().min(1)).default([]),
  noAudit: z.boolean().default(false),
  noConsole: z.boolean().default(false),
  jaegerUrl: JaegerUrlSchema.optional(),
  logLevel: LogLevelSchema.default('info'),
});

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/** Applies flags over the config file's ingress section. */
export function ingressConfigFrom(
  base: IngressConfig,
  flags: {
    port?: number | undefined;
    host?: string | undefined;
    timeout?: number | undefined;
    allowAnonymous?: boolean;
    closeSseAfter?: number | undefined;
    balance?: IngressConfig['balance'] | undefined;
    allowedHost?: string[] | undefined;
  },
  authenticated = false,
): IngressConfig {
  const merged = IngressConfigSchema.parse({
    ...base,
    ...(flags.port === undefined ? {} : { port: flags.port }),
    ...(flags.host === undefined ? {} : { host: flags.host }),
    ...(flags.timeout === undefined ? {} : { requestTimeoutMs: flags.timeout }),
    ...(flags.closeSseAfter === undefined ? {} : { closeSseAfterMs: flags.closeSseAfter }),
    ...(flags.balance === undefined ? {} : { balance: flags.balance }),
    ...(flags.allowedHost && flags.allowedHost.length > 0 ? { allowedHosts: [...base.allowedHosts, ...flags.allowedHost] } : {}),
  });
  if (!LOOPBACK.has(merged.host) && flags.allowAnonymous !== true && !authenticated) {
    // No authentication is configured: like Redis's protected mode, serve loopback clients only.
    throw new MeshError(
      'MESH_INVALID_CONFIG',
      `refusing to listen on ${merged.host} without authentication: anyone who can reach it could call every server. Use --host 127.0.0.1, or --allow-anonymous (e.g. inside a private network or container)`,
    );
  }
  return merged;
}

/** `mcp-mesh ingress`: serves MCP over HTTP until SIGINT/SIGTERM. */
export async function runIngress(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const flags = parseOptions(IngressOptionsSchema, withJaegerUrlFromEnv(input, env), 'ingress');
  tuneHeap();
  const file = flags.config ? await loadMeshConfig(flags.config) : undefined;
  const base = file?.ingress ?? IngressConfigSchema.parse({});
  const policy = await policyFrom(file?.policy, flags.config ?? 'flags', base.separator);
  const config = ingressConfigFrom(base, flags, requiresAuthentication(policy));
  const logger = createLogger({ name: 'mcp-mesh-ingress', level: flags.logLevel, mixin: () => traceFields() });
  const telemetry = await startTelemetry({ serviceName: 'mcp-mesh-ingress', env, metrics: { kind: 'handler' } });
  const nc = await connectNats({ url: natsUrlFrom(flags.natsUrl, env, file?.nats.url), name: 'mcp-mesh-ingress' });
  const shutdown = new Shutdown(logger).listen();
  shutdown.add('telemetry', () => telemetry.shutdown());
  shutdown.add('nats', () => nc.drain());
  const audit = AuditConfigSchema.parse({ ...(file?.audit ?? {}), ...(flags.noAudit ? { enabled: false } : {}) });
  const served = await serveIngress({
    nc,
    config,
    audit,
    prefix: file?.nats.prefix ?? DEFAULT_SUBJECT_PREFIX,
    logger,
    telemetry,
    policy,
    cache: file?.cache ?? {},
    views: file?.views ?? {},
    env,
    console: flags.noConsole ? false : { jaegerUrl: flags.jaegerUrl },
  });
  shutdown.add('ingress', () => served.close());
}
