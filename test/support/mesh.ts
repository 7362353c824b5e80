import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Ingress } from '@mcp-mesh/ingress';
import type { Policy } from '@mcp-mesh/policy';
import { createLogger, IngressConfigSchema, type CacheRule, type IngressConfig, type ViewConfig } from '@mcp-mesh/runtime';
import { fixtureServerCommand, NatsServer } from '@mcp-mesh/testing';
import { CLI } from './paths.js';
import { TestProcess, waitFor } from './processes.js';

export interface BridgeSpec {
  /** Upstream command; defaults to the fixture server named after the bridge. */
  upstream?: { command: string; args: string[] };
  timeoutMs?: number;
  env?: Record<string, string>;
  /** Extra environment of the bridge process itself. */
  processEnv?: Record<string, string>;
  sessionMode?: 'shared' | 'per-client';
  /** A remote upstream (`--url`) instead of a command. */
  url?: string;
  /** `--rate-limit <rate>/<burst>` */
  rateLimit?: string;
  /** The bridge's log level (default warn); info shows the upstream's stderr lines. */
  logLevel?: string;
  /** Heartbeat interval (default {@link TEST_HEARTBEAT_MS}); a replica is expired after 3 missed beats. */
  heartbeatMs?: number;
}

/** Heartbeats are fast in tests so that a stopped bridge expires in under a second. */
export const TEST_HEARTBEAT_MS = 300;

/**
 * A mesh wired as `mcp-mesh up` wires it: a real nats-server, the ingress, and each bridge as its
 * own `mcp-mesh bridge` process (so tests can kill them for real).
 */
export class TestMesh {
  readonly bridges: TestProcess[] = [];
  private readonly clients: Client[] = [];

  private constructor(
    readonly nats: NatsServer,
    readonly nc: NatsConnection,
    readonly ingress: Ingress,
  ) {}

  static async start(
    ingress: Partial<IngressConfig> = {},
    options: { policy?: Policy; views?: Record<string, ViewConfig>; cache?: Record<string, CacheRule> } = {},
  ): Promise<TestMesh> {
    const nats = await NatsServer.start();
    const nc = await connect({ servers: nats.url });
    const config = IngressConfigSchema.parse({ port: 0, requestTimeoutMs: 10_000, listTimeoutMs: 3_000, ...ingress });
    const instance = new Ingress({
      nc,
      config,
      logger: createLogger({ name: 'test-ingress', level: 'silent' }),
      discoverSettleMs: 50,
      ...(options.policy ? { policy: options.policy } : {}),
      ...(options.views ? { views: options.views } : {}),
      ...(options.cache ? { cache: options.cache } : {}),
    });
    await instance.start();
    return new TestMesh(nats, nc, instance);
  }

  get url(): string {
    return `${this.ingress.url}/mcp`;
  }

  /** Starts `mcp-mesh bridge --name <name> -- <upstream>` and waits until the ingress sees it live. */
  async addBridge(name: string, spec: BridgeSpec = {}): Promise<TestProcess> {
    const upstream = spec.upstream ?? fixtureServerCommand({ name });
    const args = [
      CLI,
      'bridge',
      '--name',
      name,
      '--nats-url',
      this.nats.url,
      '--heartbeat',
      String(spec.heartbeatMs ?? TEST_HEARTBEAT_MS),
      '--log-level',
      spec.logLevel ?? 'warn',
    ];
    if (spec.timeoutMs !== undefined) args.push('--timeout', String(spec.timeoutMs));
    if (spec.sessionMode !== undefined) args.push('--session-mode', spec.sessionMode);
    if (spec.rateLimit !== undefined) args.push('--rate-limit', spec.rateLimit);
    for (const [key, value] of Object.entries(spec.env ?? {})) args.push('--env', `${key}=${value}`);
    if (spec.url) args.push('--url', spec.url);
    else args.push('--', upstream.command, ...upstream.args);
    const bridge = new TestProcess(process.execPath, args, { env: { ...process.env, ...spec.processEnv } });
    this.bridges.push(bridge);
    const ready = () =>
      (this.ingress.registry.snapshot().find((s) => s.server === name)?.replicas ?? []).filter((r) => r.state === 'ready');
    const before = ready().length;
    await waitFor(
      () => {
        if (!bridge.running) throw new Error(`bridge ${name} exited:\n${bridge.stderr}`);
        return ready().length > before;
      },
      `bridge ${name} to become live`,
      20_000,
    );
    return bridge;
  }

  /** An MCP SDK client over Streamable HTTP, closed with the mesh; `headers` go with every request. */
  async client(
    path = '/mcp',
    headers: Record<string, string> = {},
    prepare?: (client: Client) => void,
    fetchImpl?: typeof fetch,
  ): Promise<Client> {
    const client = new Client({ name: 'e2e', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {}, roots: {} } });
    prepare?.(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${this.ingress.url}${path}`), {
        requestInit: { headers },
        ...(fetchImpl ? { fetch: fetchImpl } : {}),
      }),
    );
    this.clients.push(client);
    return client;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.clients.map((client) => client.close()));
    await Promise.allSettled(this.bridges.map((bridge) => bridge.stop()));
    await this.ingress.close();
    await this.nc.close();
    await this.nats.stop();
  }
}
