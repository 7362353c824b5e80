import { fileURLToPath } from 'node:url';

/** Absolute path of the compiled fixture MCP server (`dist/fixtures/fixture-server.js`). */
export const fixtureServerPath: string = fileURLToPath(new URL('./fixtures/fixture-server.js', import.meta.url));

export interface FixtureServerCommandOptions {
  /** serverInfo name (`--name`), default "fixture". */
  name?: string;
}

/** `command` + `args` that start the fixture server with the current Node binary. */
export function fixtureServerCommand(options: FixtureServerCommandOptions = {}): { command: string; args: string[] } {
  const args = [fixtureServerPath];
  if (options.name !== undefined) args.push('--name', options.name);
  return { command: process.execPath, args };
}
