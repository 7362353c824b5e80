import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

type DockerAddress = { socketPath: string } | { host: string; port: number; tls: boolean };

function candidates(env: NodeJS.ProcessEnv): DockerAddress[] {
  const dockerHost = env['DOCKER_HOST'];
  if (dockerHost !== undefined && dockerHost !== '') {
    if (dockerHost.startsWith('unix://')) return [{ socketPath: dockerHost.slice('unix://'.length) }];
    const tls = env['DOCKER_TLS_VERIFY'] === '1';
    try {
      const url = new URL(dockerHost.replace(/^tcp:\/\//, 'http://'));
      return [{ host: url.hostname, port: Number(url.port || (tls ? 2376 : 2375)), tls }];
    } catch {
      return [];
    }
  }
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')];
  const runtimeDir = env['XDG_RUNTIME_DIR'];
  if (runtimeDir) sockets.push(join(runtimeDir, 'docker.sock'));
  return sockets.filter((path) => existsSync(path)).map((socketPath) => ({ socketPath }));
}

/** `GET /_ping` over plain HTTP; for a TLS endpoint only a TCP connect is tried. */
function ping(address: DockerAddress, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if ('tls' in address && address.tls) {
      const socket = connect({ host: address.host, port: address.port, timeout: timeoutMs });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(false));
      return;
    }
    const target = 'socketPath' in address ? { socketPath: address.socketPath } : { host: address.host, port: address.port };
    const req = request({ ...target, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * Whether a Docker-compatible engine answers: `DOCKER_HOST` when set,
 * otherwise the usual socket paths. Never throws.
 */
export async function isDockerReachable(env: NodeJS.ProcessEnv = process.env, timeoutMs = 2_000): Promise<boolean> {
  for (const address of candidates(env)) {
    if (await ping(address, timeoutMs)) return true;
  }
  return false;
}
