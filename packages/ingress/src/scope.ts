/** Which servers one endpoint shows: all of them (`/mcp`) or one alone (`/servers/<name>/mcp`). */
export type Scope = { kind: 'aggregate' } | { kind: 'server'; server: string };

export function scopeLabel(scope: Scope): string {
  return scope.kind === 'aggregate' ? '/mcp' : `/servers/${scope.server}/mcp`;
}

export function scopeIncludes(scope: Scope, server: string): boolean {
  return scope.kind === 'aggregate' || scope.server === server;
}
