import { isErrorCode, meshCodeOf, MeshError, type ErrorCode, type WireError } from '@mcp-mesh/protocol';

/**
 * How the breaker and the retry policy read a failed call. Errors come in three kinds:
 *
 * - a MeshError (the ingress's own), or an error relayed from a bridge that carries a mesh code:
 *   an object with a `meshCode` string, or with a `wire` JSON-RPC error whose `data.meshCode` is
 *   set (the ingress's UpstreamError has both);
 * - an answer of the upstream server: an object with a `wire` JSON-RPC error and no mesh code.
 *   The server is alive and answered; that is neither a fault nor worth a retry;
 * - anything else (a bug, a socket error).
 */

function isWireError(value: unknown): value is WireError {
  return value !== null && typeof value === 'object' && typeof (value as { code?: unknown }).code === 'number';
}

/** The mesh code an error carries, from any of the shapes above. */
export function meshCodeOfError(error: unknown): ErrorCode | undefined {
  if (error instanceof MeshError) return error.code;
  if (error === null || typeof error !== 'object') return undefined;
  const own = (error as { meshCode?: unknown }).meshCode;
  if (isErrorCode(own)) return own;
  const wire = (error as { wire?: unknown }).wire;
  return isWireError(wire) ? meshCodeOf(wire) : undefined;
}

/** An upstream server's own JSON-RPC error answer (no mesh code). */
export function isUpstreamAnswer(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  return isWireError((error as { wire?: unknown }).wire) && meshCodeOfError(error) === undefined;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/** Mesh codes that say the server is unwell (as opposed to the call or the caller being wrong). */
const SERVER_FAULTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MESH_SERVER_UNAVAILABLE',
  'MESH_UPSTREAM_TIMEOUT',
  'MESH_UPSTREAM_CRASHED',
  'MESH_UPSTREAM_UNAVAILABLE',
]);

/**
 * The breaker's failure test. A mesh code counts only when it says the server is unwell: client
 * faults, policy refusals and a draining bridge do not. Upstream answers (JSON-RPC errors,
 * `isError` results) and aborts (the caller gave up) do not count. Anything else counts.
 */
export function isServerFault(error: unknown): boolean {
  const code = meshCodeOfError(error);
  if (code !== undefined) return SERVER_FAULTS.has(code);
  return !isUpstreamAnswer(error) && !isAbort(error);
}

/**
 * Failures worth another attempt: nobody answered, the upstream was (re)starting, the bridge was
 * draining (another replica takes the retry) or the upstream died mid-call. Never a client fault,
 * a policy refusal, an open circuit, a timeout (the deadline is spent), an upstream answer, or an
 * error without a mesh code.
 */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'MESH_SERVER_UNAVAILABLE',
  'MESH_UPSTREAM_UNAVAILABLE',
  'MESH_BRIDGE_DRAINING',
  'MESH_UPSTREAM_CRASHED',
]);

export function isTransient(error: unknown): boolean {
  const code = meshCodeOfError(error);
  return code !== undefined && TRANSIENT.has(code);
}
