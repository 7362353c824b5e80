import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

/** Directories searched after PATH: Debian installs the server in /usr/sbin, which a non-root PATH often lacks. */
const FALLBACK_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];
const EXE_NAME = process.platform === 'win32' ? 'nats-server.exe' : 'nats-server';

export const NATS_INSTALL_HINT =
  'Install nats-server: on Debian/Ubuntu run `apt-get install -y nats-server`; ' +
  'elsewhere download a release binary from https://github.com/nats-io/nats-server/releases and put it on PATH, ' +
  'or point NATS_SERVER_BIN at it. Alternatively set NATS_URL to use an already running server.';

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Locates the `nats-server` binary: `NATS_SERVER_BIN` when set (it must then
 * point at an executable file, otherwise this throws), else the first match
 * on PATH, else the usual system directories. Returns `undefined` when there
 * is none.
 */
export function findNatsServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['NATS_SERVER_BIN'];
  if (explicit !== undefined && explicit !== '') {
    const path = isAbsolute(explicit) ? explicit : resolve(explicit);
    if (!isExecutableFile(path)) {
      throw new Error(`NATS_SERVER_BIN=${explicit} is not an executable file. ${NATS_INSTALL_HINT}`);
    }
    return path;
  }
  const pathDirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of [...pathDirs, ...FALLBACK_DIRS]) {
    const candidate = join(dir, EXE_NAME);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
