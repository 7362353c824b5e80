import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled conformance fixture server (`dist/fixtures/conformance-server.js`). */
export const conformanceServerPath: string = fileURLToPath(new URL('./fixtures/conformance-server.js', import.meta.url));

export interface ConformanceServerCommandOptions {
  /** `stdio` (default; what a bridge runs) or `http` (Streamable HTTP at `/mcp`). */
  transport?: 'stdio' | 'http';
  /** HTTP port; 0 (default) picks a free one, printed as "listening on <url>". */
  port?: number;
  /** serverInfo name (`--name`). */
  name?: string;
  /** stdio only: behave as a 2025-era server that refuses `server/discover` (`--legacy-only`). */
  legacyOnly?: boolean;
}

/** `command` + `args` that start the conformance fixture server with the current Node binary. */
export function conformanceServerCommand(options: ConformanceServerCommandOptions = {}): { command: string; args: string[] } {
  const args = [conformanceServerPath, '--transport', options.transport ?? 'stdio'];
  if (options.port !== undefined) args.push('--port', String(options.port));
  if (options.name !== undefined) args.push('--name', options.name);
  if (options.legacyOnly) args.push('--legacy-only');
  return { command: process.execPath, args };
}
