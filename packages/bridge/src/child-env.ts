import { DEFAULT_INHERITED_ENV_VARS } from '@modelcontextprotocol/client/stdio';

/**
 * The environment a spawned upstream server gets: a small allow-list of the bridge's own
 * variables (those the SDK's stdio transport also inherits), the names in `passthrough`, then the
 * server's configured `env`. Nothing else of the mesh's environment (tokens, cloud credentials)
 * reaches a server.
 */
export function childEnvironment(
  parent: NodeJS.ProcessEnv,
  configured: Readonly<Record<string, string>>,
  passthrough: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...DEFAULT_INHERITED_ENV_VARS, ...passthrough]) {
    const value = parent[name];
    // Exported shell functions start with "()": never pass them on.
    if (value !== undefined && !value.startsWith('()')) env[name] = value;
  }
  return { ...env, ...configured };
}
