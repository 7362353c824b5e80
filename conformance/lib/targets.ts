import { conformanceServerPath, freePort, NatsServer } from '@mcp-mesh/testing';

import { CLI } from './paths.js';
import { ManagedProcess } from './processes.js';

/** Where the suites point: the fixture itself, or the fixture behind the mesh. */
export interface Target {
  id: 'direct' | 'mesh';
  url: string;
  /** Output of the processes behind the target, for error reports. */
  describe(): string;
  close(): Promise<void>;
}

const MESH_SERVER_NAME = 'conformance';

/** The conformance fixture over Streamable HTTP on a free port. */
export async function startDirect(): Promise<Target> {
  const port = await freePort();
  const fixture = new ManagedProcess('conformance-server (http)', process.execPath, [
    conformanceServerPath,
    '--transport',
    'http',
    '--port',
    String(port),
    '--name',
    MESH_SERVER_NAME,
  ]);
  try {
    const match = await fixture.waitForLine(/listening on (http:\/\/\S+)/, 20_000);
    return {
      id: 'direct',
      url: match[1]!,
      describe: () => `conformance-server:\n${fixture.output()}`,
      close: () => fixture.stop(),
    };
  } catch (error) {
    await fixture.stop();
    throw error;
  }
}

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readiness(base: string): Promise<{ status: string; servers: string[] } | undefined> {
  const response = await fetch(`${base}/readyz`);
  return response.ok ? ((await response.json()) as { status: string; servers: string[] }) : undefined;
}

export interface MeshOptions {
  /** Deadline of one forwarded call (`mcp-mesh ingress --timeout`), milliseconds. */
  callTimeoutMs: number;
}

/**
 * The fixture behind the mesh, wired as a user would: a nats-server, `mcp-mesh ingress`, and
 * `mcp-mesh bridge --name conformance -- node conformance-server.js --transport stdio`. The
 * suites talk to `/servers/conformance/mcp`.
 */
export async function startMesh(options: MeshOptions): Promise<Target> {
  const nats = await NatsServer.start();
  const processes: ManagedProcess[] = [];
  const close = async () => {
    for (const proc of processes.reverse()) await proc.stop();
    await nats.stop();
  };
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const ingress = new ManagedProcess('mcp-mesh ingress', process.execPath, [
      CLI,
      'ingress',
      '--port',
      String(port),
      '--nats-url',
      nats.url,
      '--timeout',
      String(options.callTimeoutMs),
      // SSE polling: a call still running after 50 ms has its stream closed and resumed with
      // Last-Event-ID (server-sse-polling's tool answers after 100 ms, so this always happens there).
      '--close-sse-after',
      '50',
      '--log-level',
      'warn',
    ]);
    processes.push(ingress);
    await poll('the ingress to be ready', 20_000, async () => {
      if (!ingress.running) throw new Error(`ingress exited:\n${ingress.output()}`);
      return (await readiness(base))?.status === 'ready' ? true : undefined;
    });
    const bridge = new ManagedProcess('mcp-mesh bridge', process.execPath, [
      CLI,
      'bridge',
      '--name',
      MESH_SERVER_NAME,
      '--nats-url',
      nats.url,
      // The fixture calls back into clients (sampling, elicitation) while several scenarios run at
      // once: one upstream session per client session routes every callback to the right client.
      '--session-mode',
      'per-client',
      '--log-level',
      'warn',
      '--',
      process.execPath,
      conformanceServerPath,
      '--transport',
      'stdio',
      '--name',
      MESH_SERVER_NAME,
    ]);
    processes.push(bridge);
    await poll(`bridge '${MESH_SERVER_NAME}' to be live on the ingress`, 30_000, async () => {
      if (!bridge.running) throw new Error(`bridge exited:\n${bridge.output()}`);
      return (await readiness(base))?.servers.includes(MESH_SERVER_NAME) ? true : undefined;
    });
    return {
      id: 'mesh',
      url: `${base}/servers/${MESH_SERVER_NAME}/mcp`,
      describe: () => `ingress:\n${ingress.output()}\nbridge:\n${bridge.output()}`,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
