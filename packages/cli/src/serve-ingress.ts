import { homedir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { AuditPublisher } from '@mcp-mesh/audit';
import { Ingress } from '@mcp-mesh/ingress';
import { createPolicy, parsePolicyConfig, type Policy } from '@mcp-mesh/policy';
import type { AuditConfig, IngressConfig, Logger } from '@mcp-mesh/runtime';
import type { TelemetryHandle } from './telemetry-sdk.js';

export interface ServeIngressOptions {
  nc: NatsConnection;
  config: IngressConfig;
  audit: AuditConfig;
  prefix: string;
  logger: Logger;
  telemetry: TelemetryHandle;
  policy: Policy;
  env: NodeJS.ProcessEnv;
  discoverSettleMs?: number;
}

/** The outbox of one ingress: its own directory, stable across restarts so nothing recorded is lost. */
export function auditOutboxDir(audit: AuditConfig, port: number, env: NodeJS.ProcessEnv): string {
  return audit.dir ?? join(env.MCP_MESH_HOME ?? join(homedir(), '.mcp-mesh'), 'outbox', `ingress-${port}`);
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

/** Starts the audit publisher (when enabled) and the ingress; `close()` stops both in order. */
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
  const ingress = new Ingress({
    nc: options.nc,
    config: options.config,
    logger,
    prefix: options.prefix,
    policy: options.policy,
    ...(audit ? { audit, auditArguments: auditConfig.includeArguments } : {}),
    ...(options.telemetry.metricsHandler ? { metricsHandler: options.telemetry.metricsHandler } : {}),
    ...(options.discoverSettleMs === undefined ? {} : { discoverSettleMs: options.discoverSettleMs }),
  });
  await ingress.start();
  return {
    ingress,
    audit,
    close: async () => {
      await ingress.close();
      await audit?.close();
    },
  };
}
