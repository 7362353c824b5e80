import type { IncomingMessage, ServerResponse } from 'node:http';
import { MeshError } from '@mcp-mesh/protocol';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Reads a request body up to `limit` bytes; a larger body is refused with MESH_PAYLOAD_TOO_LARGE. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    throw new MeshError('MESH_PAYLOAD_TOO_LARGE', `request body of ${declared} bytes exceeds the limit of ${limit}`);
  }
  // Events rather than the stream's async iterator: the iterator costs more than a small body.
  return new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.resume();
        reject(new MeshError('MESH_PAYLOAD_TOO_LARGE', `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onAborted = () => onError(new Error('the client closed the connection before the body was read'));
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('aborted', onAborted);
  });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  // The client is gone: nothing to answer.
  if (res.destroyed) return;
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A JSON-RPC error response with no id (the request could not be read or routed). */
export function sendJsonRpcError(res: ServerResponse, status: number, code: number, message: string, data?: unknown): void {
  sendJson(res, status, { jsonrpc: '2.0', id: null, error: { code, message, ...(data === undefined ? {} : { data }) } });
}

export function sendMeshError(res: ServerResponse, error: MeshError, status = error.httpStatus): void {
  const wire = error.toWire();
  sendJsonRpcError(res, status, wire.code, wire.message, wire.data);
}
