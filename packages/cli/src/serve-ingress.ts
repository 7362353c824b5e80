import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { NatsConnection } from '@nats-io/transport-node';
import { AuditPublisher } from '@mcp-mesh/audit';
import { MeshConsole } from '@mcp-mesh/console';
import { Ingress } from '@mcp-mesh/ingress';
import { createPolicy, parsePolicyConfig, type Policy } from '@mcp-mesh/policy';
import type { AuditConfig, CacheRule, IngressConfig, Logger, ViewConfig } from '@mcp-mesh/runtime';
import type { TelemetryHandle } from './telemetry-sdk.js';

export interface ServeIngressOptions {
  nc: NatsConnection;
  config: IngressConfig;
  audit: AuditConfig;
  prefix: string;
  logger: Logger;
  telemetry: TelemetryHandle;
  policy: Policy;
  views?: Readonly<Record<string, ViewConfig>>;
  cache?: Readonly<Record<string, CacheRule>>;
  env: NodeJS.ProcessEnv;
  discoverSettleMs?: number;
  /** The web console at `/` (on unless false); `jaegerUrl` links audit events to their traces. */
  console?: { jaegerUrl?: string | undefined } | false;
}

/** `--jaeger-url`, or `$MCP_MESH_JAEGER_URL`: the Jaeger UI the console links traces to. */
export const JaegerUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL (from --jaeger-url or $MCP_MESH_JAEGER_URL)' });

/** Command flags with `jaegerUrl` taken from `$MCP_MESH_JAEGER_URL` when the flag is absent (validated with the flags). */
export function withJaegerUrlFromEnv(input: unknown, env: NodeJS.ProcessEnv): unknown {
  const flags = (input ?? {}) as Record<string, unknown>;
  return flags.jaegerUrl === undefined && env.MCP_MESH_JAEGER_URL ? { ...flags, jaegerUrl: env.MCP_MESH_JAEGER_URL } : input;
}

/** The outbox of one ingress: its own directory, stable across restarts so nothing recorded is lost. */
export function auditOutboxDir(audit: AuditConfig, port: number, env: NodeJS.ProcessEnv): string {
  // Port 0 (any free port) has no stable name: such an ingress gets an outbox of its own process.
  const name = port === 0 ? `ingress-ephemeral-${process.pid}` : `ingress-${port}`;
  return audit.dir ?? join(env.MCP_MESH_HOME ?? join(homedir(), '.mcp-mesh'), 'outbox', name);
}

/** Builds the gateway policy of a config file's `policy` section (none configured: hostile-input limits only). */
export async function policyFrom(
  section: Readonly<Record<string, unknown>> | undefined,
  source: string,
  separator: string,
): Promise<Policy> {
  return createPolicy(parsePolicyConfig(section ?? {}, `${source}: policy`), { separator });
}

/** Whether the policy authenticates every caller (then a non-loopback listen address is safe). */
export function requiresAuthentication(policy: Policy): boolean {
  return policy.authenticator !== undefined && !policy.authenticator.anonymousAllowed;
}

/** Starts the audit publisher (when enabled), the console (unless off) and the ingress; `close()` stops them in order. */
export async function serveIngress(
  options: ServeIngressOptions,
): Promise<{ ingress: Ingress; audit: AuditPublisher | undefined; close(): Promise<void> }> {
  const { audit: auditConfig, logger } = options;
  const audit = auditConfig.enabled
    ? await AuditPublisher.open({
        nc: options.nc,
        logger: logger.child({ component: 'audit' }),
        dir: auditOutboxDir(auditConfig, options.config.port, options.env),
        maxDiskBytes: auditConfig.maxOutboxBytes,
        stream: {
          prefix: options.prefix,
          maxAgeMs: auditConfig.maxAgeDays * 24 * 3_600_000,
          maxBytes: auditConfig.maxBytes,
          replicas: auditConfig.replicas,
          duplicateWindowMs: auditConfig.duplicateWindowMs,
        },
      })
    : undefined;
  // The console serves routes of the ingress and reads it back while serving them.
  let ingress: Ingress | undefined;
  const meshConsole =
    options.console === false
      ? undefined
      : new MeshConsole({
          ingress: () => ingress!,
          nc: options.nc,
          logger: logger.child({ component: 'console' }),
          prefix: options.prefix,
          requestTimeoutMs: options.config.requestTimeoutMs,
          listTimeoutMs: options.config.listTimeoutMs,
          ...(options.console?.jaegerUrl ? { jaegerUrl: options.console.jaegerUrl } : {}),
        });
  ingress = new Ingress({
    nc: options.nc,
    config: options.config,
    logger,
    prefix: options.prefix,
    policy: options.policy,
    ...(options.views ? { views: options.views } : {}),
    ...(options.cache ? { cache: options.cache } : {}),
    ...(audit ? { audit, auditArguments: auditConfig.includeArguments } : {}),
    ...(options.telemetry.metricsHandler ? { metricsHandler: options.telemetry.metricsHandler } : {}),
    ...(options.discoverSettleMs === undefined ? {} : { discoverSettleMs: options.discoverSettleMs }),
    ...(meshConsole ? { routes: meshConsole.routes, onRequestFinished: meshConsole.onRequestFinished } : {}),
  });
  await ingress.start();
  const started = ingress;
  return {
    ingress: started,
    audit,
    close: async () => {
      await meshConsole?.close();
      await started.close();
      await audit?.close();
    },
  };
}
