import { ProtocolError } from '@modelcontextprotocol/server';
import { MeshError } from '@mcp-mesh/protocol';
import type { Logger } from '@mcp-mesh/runtime';
import { UpstreamError } from './mesh-client.js';

/**
 * Normalises anything a handler throws into the JSON-RPC error the client receives: mesh errors
 * with their stable code, upstream errors as the upstream sent them, and everything else as
 * -32603 with no internals (the details go to the log only).
 */
export function toProtocolError(error: unknown, logger: Logger, context: Record<string, unknown>): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (error instanceof MeshError) {
    const wire = error.toWire();
    return new ProtocolError(wire.code, wire.message, wire.data);
  }
  if (error instanceof UpstreamError) return new ProtocolError(error.wire.code, error.wire.message, error.wire.data);
  logger.error({ err: error, ...context }, 'unexpected ingress failure');
  return new ProtocolError(-32603, 'internal error in the mesh ingress', { meshCode: 'MESH_INTERNAL' });
}
