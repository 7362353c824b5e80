/**
 * Which servers one endpoint shows: all of them (`/mcp`), one alone (`/servers/<name>/mcp`), or a
 * named view (`/views/<name>/mcp`) of chosen items from several servers.
 */
export type Scope = { kind: 'aggregate' } | { kind: 'server'; server: string } | { kind: 'view'; view: string; servers: readonly string[] };

export function scopeLabel(scope: Scope): string {
  if (scope.kind === 'aggregate') return '/mcp';
  if (scope.kind === 'view') return `/views/${scope.view}/mcp`;
  return `/servers/${scope.server}/mcp`;
}

export function scopeIncludes(scope: Scope, server: string): boolean {
  if (scope.kind === 'aggregate') return true;
  if (scope.kind === 'view') return scope.servers.includes(server);
  return scope.server === server;
}
