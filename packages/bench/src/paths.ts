import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs from packages/bench/dist). */
export const REPO_ROOT: string = fileURLToPath(new URL('../../../', import.meta.url));

/** The compiled `mcp-mesh` CLI, run as users run it. */
export const CLI: string = join(REPO_ROOT, 'packages/cli/dist/main.js');

/** This package's CPU-bound MCP server (`hash` tool) for the fan-out measurement. */
export const CPU_SERVER: string = fileURLToPath(new URL('./cpu-server.js', import.meta.url));

/** Preloaded (`node --import`) into the ingress and bridge by the soak: memory breakdown once a second. */
export const MEMORY_PROBE_URL: string = new URL('./memory-probe.js', import.meta.url).href;

/** supergateway's entry point, from the root devDependency (no npx, no download at run time). */
export function supergatewayEntry(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('supergateway/package.json')), 'dist/index.js');
}
