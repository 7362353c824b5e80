import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, NatsServer } from '@mcp-mesh/testing';

import { HttpMcpSession, keepAliveAgent } from '../http-session.js';
import { CLI, MEMORY_PROBE_URL } from '../paths.js';
import { nodeDescendants } from '../proc-stats.js';
import { ManagedProcess, ProcessSet } from '../processes.js';
import { ReplicaWatcher } from '../replica-watcher.js';
import { httpGet, waitUntil } from '../wait.js';
import type { Upstream } from './direct.js';
import type { BenchTarget } from './target.js';

export interface MeshOptions {
  /** Server name on the mesh; sessions use `/servers/<server>/mcp`. */
  server: string;
  upstream: Upstream;
  /** Client sessions to open. */
  sessions: number;
  /** Bridge replicas to start before opening sessions (default 1). */
  replicas?: number;
  /** When set, the ingress and bridge processes run with `node --cpu-prof` writing here. */
  cpuProfileDir?: string;
  /** Log level of ingress and bridges (default warn: nothing is logged per call). */
  logLevel?: string;
  /** Extra arguments of `mcp-mesh ingress` (e.g. `--no-audit`). */
  ingressArgs?: string[];
  /** The `mcp-mesh` CLI to run (default: this repository's build), e.g. a build of another revision. */
  cli?: string;
  /** When set, the ingress and bridges preload memory-probe.js, which writes `<name>.jsonl` here once a second. */
  memoryProbeDir?: string;
  /** Extra `node` flags of the ingress process (e.g. `--max-semi-space-size=4`). */
  ingressNodeArgs?: string[];
}

export interface MeshTarget extends BenchTarget {
  readonly natsUrl: string;
  readonly ingressUrl: string;
  readonly callers: readonly HttpMcpSession[];
  /** Starts one more bridge replica and waits until it announces itself ready. */
  addReplica(): Promise<void>;
  /** Stops the newest bridge replica (it drains and says goodbye) and waits until it is gone. */
  removeReplica(): Promise<void>;
}

/**
 * The fixture server through mcp-mesh, wired as users run it: a real nats-server, `mcp-mesh
 * ingress` and `mcp-mesh bridge` as separate processes (so their RSS and CPU are their own).
 */
export async function startMesh(options: MeshOptions): Promise<MeshTarget> {
  const cli = options.cli ?? CLI;
  const nats = await NatsServer.start();
  // Anything the mesh keeps on disk (e.g. an audit outbox) goes to a private directory, not ~/.mcp-mesh.
  const home = await mkdtemp(join(tmpdir(), 'mcp-mesh-bench-home-'));
  const env = { ...process.env, MCP_MESH_HOME: home };
  const processes: ManagedProcess[] = [];
  const bridges: ManagedProcess[] = [];
  const agent = keepAliveAgent();
  const sessions: HttpMcpSession[] = [];
  let watcher: ReplicaWatcher | undefined;
  let closing: Promise<void> | undefined;
  const logLevel = options.logLevel ?? 'warn';
  const nodeFlags = (name: string) => [
    ...(options.cpuProfileDir === undefined
      ? []
      : ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir, '--cpu-prof-name', `${name}.cpuprofile`]),
    ...(options.memoryProbeDir === undefined ? [] : ['--import', MEMORY_PROBE_URL]),
  ];
  const envOf = (name: string) =>
    options.memoryProbeDir === undefined ? env : { ...env, MCP_MESH_BENCH_MEMORY_PROBE: join(options.memoryProbeDir, `${name}.jsonl`) };

  let unregister: () => void = () => undefined;
  const close = () =>
    (closing ??= (async () => {
      unregister();
      await Promise.allSettled(sessions.map((session) => session.close()));
      agent.destroy();
      await watcher?.close().catch(() => undefined);
      // Bridges drain first, then the ingress, then NATS.
      await Promise.allSettled(bridges.map((bridge) => bridge.stop()));
      await Promise.allSettled(processes.map((child) => child.stop()));
      await nats.stop();
      await rm(home, { recursive: true, force: true });
    })());

  const addReplica = async () => {
    const index = bridges.length + 1;
    const before = watcher!.ready(options.server);
    const bridge = new ManagedProcess({
      name: `bridge ${options.server}#${index}`,
      command: process.execPath,
      args: [
        ...nodeFlags(`bridge-${index}`),
        cli,
        'bridge',
        '--name',
        options.server,
        '--nats-url',
        nats.url,
        '--log-level',
        logLevel,
        '--',
        options.upstream.command,
        ...options.upstream.args,
      ],
      env: envOf(`bridge-${index}`),
    });
    bridges.push(bridge);
    await waitUntil(() => watcher!.ready(options.server) > before, `bridge ${options.server}#${index} to be ready`, [bridge]);
  };

  unregister = ProcessSet.global.onStop(close);
  const removeReplica = async () => {
    const bridge = bridges.pop();
    if (!bridge) return;
    const before = watcher!.ready(options.server);
    await bridge.stop();
    await waitUntil(() => watcher!.ready(options.server) < before, `bridge ${options.server} to be gone`);
  };

  try {
    watcher = await ReplicaWatcher.start(nats.url);
    const port = await freePort();
    const ingress = new ManagedProcess({
      name: 'ingress',
      command: process.execPath,
      args: [
        ...(options.ingressNodeArgs ?? []),
        ...nodeFlags('ingress'),
        cli,
        'ingress',
        '--port',
        String(port),
        '--nats-url',
        nats.url,
        '--log-level',
        logLevel,
        ...(options.ingressArgs ?? []),
      ],
      env: envOf('ingress'),
    });
    processes.push(ingress);
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < (options.replicas ?? 1); i++) await addReplica();
    await waitUntil(
      async () => {
        const ready = await httpGet(`${base}/readyz`);
        if (ready?.status !== 200) return false;
        const servers = (JSON.parse(ready.body) as { servers?: unknown }).servers;
        return Array.isArray(servers) && servers.includes(options.server);
      },
      `the ingress to see ${options.server}`,
      [ingress],
    );
    const url = `${base}/servers/${encodeURIComponent(options.server)}/mcp`;
    for (let i = 0; i < options.sessions; i++) sessions.push(await HttpMcpSession.open(url, agent));
    return {
      id: 'mesh',
      description: `mcp-mesh: nats-server + ingress + bridge processes, sessions on /servers/${options.server}/mcp`,
      natsUrl: nats.url,
      ingressUrl: url,
      watched: [
        { role: 'ingress', pids: () => [ingress.pid] },
        { role: 'bridge', pids: () => bridges.filter((b) => b.running).map((b) => b.pid) },
        { role: 'nats-server', pids: () => (nats.pid === undefined ? [] : [nats.pid]) },
        { role: 'upstream', pids: () => bridges.filter((b) => b.running).flatMap((b) => nodeDescendants(b.pid)) },
      ],
      callers: sessions,
      addReplica,
      removeReplica,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
