import { MeshError, type ErrorCode } from '@mcp-mesh/protocol';

/**
 * A policy refusal: a MeshError whose details name the rule that refused (`data.rule` on the
 * wire), plus what a client needs to act on it (retryAfterMs, wwwAuthenticate, …).
 */
export function denial(code: ErrorCode, message: string, rule: string, details: Record<string, unknown> = {}): MeshError {
  return new MeshError(code, message, { details: { rule, ...details } });
}

/** The rule a policy MeshError names, if any. */
export function ruleOf(error: unknown): string | undefined {
  if (!(error instanceof MeshError)) return undefined;
  const rule = error.details?.['rule'];
  return typeof rule === 'string' ? rule : undefined;
}

/** Milliseconds a refused caller should wait, if the refusal says. */
export function retryAfterMsOf(error: unknown): number | undefined {
  if (!(error instanceof MeshError)) return undefined;
  const value = error.details?.['retryAfterMs'];
  return typeof value === 'number' ? value : undefined;
}
