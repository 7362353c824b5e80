import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startWatchdog, stopWatchdog } from '@mcp-mesh/bridge';
import { MeshError } from '@mcp-mesh/protocol';

export const NATS_INSTALL_HINT = [
  'Install nats-server, then run this again:',
  '  Debian/Ubuntu:  sudo apt-get install -y nats-server',
  '  macOS:          brew install nats-server',
  '  any platform:   https://github.com/nats-io/nats-server/releases (put nats-server on PATH)',
  'or point the mesh at a running server with NATS_URL=nats://host:4222.',
].join('\n');

/** Finds `nats-server` on PATH (or `NATS_SERVER_BIN`). */
export function findNatsServer(env: NodeJS.ProcessEnv): string | undefined {
  if (env.NATS_SERVER_BIN) return env.NATS_SERVER_BIN;
  const probe = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  if (probe.status === 0) return 'nats-server';
  for (const candidate of ['/usr/sbin/nats-server', '/usr/local/bin/nats-server', '/usr/bin/nats-server']) {
    if (spawnSync(candidate, ['--version']).status === 0) return candidate;
  }
  return undefined;
}

export interface LocalNats {
  url: string;
  process: ChildProcess;
  storeDir: string;
  stop(): Promise<void>;
}

/** Starts an embedded `nats-server -js` on the host and port of `url`, storing JetStream under ~/.mcp-mesh. */
export async function startLocalNats(url: string, env: NodeJS.ProcessEnv): Promise<LocalNats> {
  const binary = findNatsServer(env);
  if (!binary)
    throw new MeshError(
      'MESH_NATS_UNREACHABLE',
      `no NATS server answered at ${url}, and nats-server is not installed.\n${NATS_INSTALL_HINT}`,
    );
  const parsed = new URL(url);
  const host = parsed.hostname || '127.0.0.1';
  const port = parsed.port || '4222';
  const storeDir = join(env.MCP_MESH_HOME ?? join(homedir(), '.mcp-mesh'), `jetstream-${port}`);
  mkdirSync(storeDir, { recursive: true });
  // Its own process group: Ctrl-C reaches the mesh, which drains over NATS before stopping it.
  const child = spawn(binary, ['-a', host, '-p', port, '-js', '-sd', storeDir], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString('utf8')).slice(-8_192);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new MeshError('MESH_NATS_UNREACHABLE', `nats-server did not become ready within 10 s:\n${log}`)),
      10_000,
    );
    const check = () => {
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.stderr?.off('data', check);
        resolve();
      }
    };
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new MeshError('MESH_NATS_UNREACHABLE', `nats-server exited with code ${code} while starting:\n${log}`));
    });
  });
  return {
    url: `nats://${host}:${port}`,
    process: child,
    storeDir,
    stop: async () => {
      if (watchdog) stopWatchdog(watchdog);
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
