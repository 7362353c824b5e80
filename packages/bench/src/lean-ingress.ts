#!/usr/bin/env node
/**
 * A PROTOTYPE, for measurement only: how fast the HTTP → NATS hop can be on this machine when the
 * hot path does the least work. Not the product's ingress, and not a fix for it: it serves
 * `/servers/<name>/mcp` for already-initialised sessions with none of the ingress's guards.
 * Per call: read the body, JSON.parse once, publish the params to the bridge, splice the bridge's
 * `{"result":…}` frame into the JSON-RPC response without re-serialising it, and answer with one
 * `application/json` write (no SDK transport, no Web-stream adapter, no SSE, no schema checks).
 * Usage: node lean-ingress.js --port <port> --nats-url <url>
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

import { connect, createInbox, headers as natsHeaders, type Msg } from '@nats-io/transport-node';
import { FrameKind, MeshHeader, Subjects } from '@mcp-mesh/protocol';

const arg = (name: string) => process.argv[process.argv.indexOf(name) + 1];
const port = Number(arg('--port'));
const nc = await connect({ servers: arg('--nats-url'), name: 'mcp-mesh-bench-lean-ingress' });
const subjects = new Subjects();
const inbox = createInbox();
const sessions = new Set<string>();
const pending = new Map<string, (msg: Msg) => void>();
let seq = 0;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const PATH = /^\/servers\/([^/]+)\/mcp$/;

nc.subscribe(`${inbox}.*`, {
  callback: (error, msg) => {
    if (error) return;
    if (msg.headers?.get(MeshHeader.Frame) === FrameKind.Notification) return;
    const token = msg.subject.slice(inbox.length + 1);
    const done = pending.get(token);
    if (!done) return;
    pending.delete(token);
    done(msg);
  },
});

function send(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...extra });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
}

async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.url === '/healthz') return send(res, 200, '{"status":"ok"}');
  const server = PATH.exec(req.url ?? '')?.[1];
  if (server === undefined) return send(res, 404, '{}');
  if (req.method === 'DELETE') {
    sessions.delete(String(req.headers['mcp-session-id']));
    return send(res, 200, '{}');
  }
  const message = JSON.parse(await readBody(req)) as { id?: string | number; method: string; params?: Record<string, unknown> };
  if (message.method === 'initialize') {
    const id = randomUUID();
    sessions.add(id);
    const result = { protocolVersion: '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: server, version: '0' } };
    return send(res, 200, JSON.stringify({ jsonrpc: '2.0', id: message.id, result }), { 'mcp-session-id': id });
  }
  if (!sessions.has(String(req.headers['mcp-session-id'])))
    return send(res, 404, '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}');
  if (message.id === undefined) return send(res, 202, '');
  const token = (++seq).toString(36);
  const h = natsHeaders();
  h.set(MeshHeader.Deadline, String(Date.now() + 60_000));
  const frame = await new Promise<Msg>((resolve) => {
    pending.set(token, resolve);
    const payload = JSON.stringify(
      message.params === undefined ? { method: message.method } : { method: message.method, params: message.params },
    );
    nc.publish(subjects.server(server, message.method), encoder.encode(payload), { reply: `${inbox}.${token}`, headers: h });
  });
  if (frame.headers?.hasError) {
    return send(res, 200, JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: 'no bridge' } }));
  }
  // The frame is `{"result":…}` or `{"error":…}`: splice in jsonrpc and id, never re-serialise the result.
  const text = decoder.decode(frame.data);
  send(res, 200, `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},${text.slice(1)}`);
}

const http = createServer((req, res) => {
  serve(req, res).catch((error: unknown) => {
    process.stderr.write(`lean-ingress: ${(error as Error).message}\n`);
    if (!res.headersSent) send(res, 500, '{}');
  });
});
http.listen(port, '127.0.0.1');

const stop = () => {
  http.close();
  http.closeAllConnections();
  void nc.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
