import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Backoff } from '@mcp-mesh/bridge';
import { MeshError } from '@mcp-mesh/protocol';
import { AuditConfigSchema, connectNats, createLogger, loadMeshConfig, Shutdown, tuneHeap } from '@mcp-mesh/runtime';
import { traceFields } from '@mcp-mesh/telemetry';
import { JaegerUrlSchema, policyFrom, requiresAuthentication, serveIngress, withJaegerUrlFromEnv } from '../serve-ingress.js';
import { startTelemetry } from '../telemetry-sdk.js';
import type { NatsConnection } from '@nats-io/transport-node';
import { startLocalNats, type LocalNats } from '../local-nats.js';
import { LogLevelSchema, MillisSchema, natsUrlFrom, parseOptions, PortSchema } from '../options.js';
import { colour, say, warn } from '../output.js';
import { ingressConfigFrom } from './ingress.js';

export const UpOptionsSchema = z.object({
  config: z.string().default('mesh.config.json'),
  natsUrl: z.string().optional(),
  port: PortSchema.optional(),
  host: z.string().optional(),
  timeout: MillisSchema.optional(),
  logLevel: LogLevelSchema.default('warn'),
  embeddedNats: z.boolean().default(true),
  allowAnonymous: z.boolean().default(false),
  noAudit: z.boolean().default(false),
  noConsole: z.boolean().default(false),
  jaegerUrl: JaegerUrlSchema.optional(),
});

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

async function connectOrEmbed(
  url: string,
  embed: boolean,
  env: NodeJS.ProcessEnv,
): Promise<{ nc: NatsConnection; local?: LocalNats; url: string }> {
  try {
    return { nc: await connectNats({ url, name: 'mcp-mesh-up' }), url };
  } catch (error) {
    const host = new URL(url).hostname;
    if (!embed || !(error instanceof MeshError) || !LOOPBACK_HOSTS.has(host)) throw error;
    say(colour.dim(`no NATS at ${url}: starting an embedded nats-server with JetStream…`));
    const local = await startLocalNats(url, env);
    say(`${colour.green('✓')} nats-server (JetStream) at ${local.url}, store ${local.storeDir}`);
    return { nc: await connectNats({ url: local.url, name: 'mcp-mesh-up' }), local, url: local.url };
  }
}

/**
 * `mcp-mesh up`: the whole mesh from one config file: NATS (embedded when none answers on
 * loopback), the ingress in this process, and one bridge process per configured server replica.
 */
export async function runUp(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const options = parseOptions(UpOptionsSchema, withJaegerUrlFromEnv(input, env), 'up');
  tuneHeap();
  const configPath = resolve(options.config);
  const config = await loadMeshConfig(configPath);
  const policy = await policyFrom(config.policy, configPath, config.ingress.separator);
  const ingressConfig = ingressConfigFrom(config.ingress, options, requiresAuthentication(policy));
  const logger = createLogger({ name: 'mcp-mesh', level: options.logLevel, mixin: () => traceFields() });
  const telemetry = await startTelemetry({ serviceName: 'mcp-mesh-ingress', env, metrics: { kind: 'handler' } });
  const shutdown = new Shutdown(logger).listen();
  shutdown.add('telemetry', () => telemetry.shutdown());
  const names = Object.keys(config.servers);
  if (names.length === 0) warn(colour.yellow(`${configPath} configures no servers: the ingress will serve bridges started elsewhere.`));

  const { nc, local, url } = await connectOrEmbed(natsUrlFrom(options.natsUrl, env, config.nats.url), options.embeddedNats, env);
  if (local) shutdown.add('nats-server', () => local.stop());
  shutdown.add('nats', () => nc.drain());

  const audit = AuditConfigSchema.parse({ ...config.audit, ...(options.noAudit ? { enabled: false } : {}) });
  const served = await serveIngress({
    nc,
    config: ingressConfig,
    audit,
    prefix: config.nats.prefix,
    logger,
    telemetry,
    policy,
    cache: config.cache,
    views: config.views,
    env,
    discoverSettleMs: 100,
    console: options.noConsole ? false : { jaegerUrl: options.jaegerUrl },
  });
  shutdown.add('ingress', () => served.close());
  const ingress = served.ingress;
  const pending = new Set(names);
  ingress.registry.on('change', (change) => {
    if (change.kind === 'added') {
      const tools = ingress.registry.descriptor(change.server)?.counts.tools ?? 0;
      say(`${colour.green('✓')} ${change.server} ready (${tools} tools)`);
      pending.delete(change.server);
      if (pending.size === 0 && names.length > 0) say(colour.bold(`all ${names.length} servers ready`));
    } else if (change.kind === 'removed') {
      warn(colour.yellow(`! ${change.server} has no live bridge`));
    }
  });
  for (const name of pending) if (ingress.registry.isLive(name)) pending.delete(name);

  const children = new Set<ChildProcess>();
  let stopping = false;
  shutdown.add('bridges', async () => {
    stopping = true;
    await Promise.all([...children].map((child) => stopChild(child)));
  });
  const startBridge = (name: string, replica: number, backoff: Backoff) => {
    const child = spawn(
      process.execPath,
      [MAIN, 'bridge', '--name', name, '-c', configPath, '--nats-url', url, '--log-level', options.logLevel],
      { stdio: ['ignore', 'inherit', 'inherit'], env },
    );
    children.add(child);
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      const delay = backoff.next();
      warn(colour.red(`✗ bridge ${name}#${replica} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`));
      setTimeout(() => {
        if (!stopping) startBridge(name, replica, backoff);
      }, delay);
    });
  };
  for (const name of names) {
    const replicas = config.servers[name]!.replicas ?? 1;
    say(colour.dim(`starting ${name}${replicas > 1 ? ` (${replicas} replicas)` : ''}…`));
    for (let replica = 1; replica <= replicas; replica++) startBridge(name, replica, new Backoff(500, 30_000));
  }
  say(`${colour.bold('mcp-mesh is up')}: ${ingress.url}/mcp  ${colour.dim('(Ctrl-C stops everything)')}`);
  if (!options.noConsole) say(colour.dim(`  console: ${ingress.url}/`));
  for (const name of names) say(colour.dim(`  ${name} alone: ${ingress.url}/servers/${name}/mcp`));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
