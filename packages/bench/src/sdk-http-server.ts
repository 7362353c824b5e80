#!/usr/bin/env node
/**
 * The ceiling of the ingress's HTTP layer: the same SDK pieces the ingress uses per session
 * (`Server` + `NodeStreamableHTTPServerTransport`, body read and parsed first), answering
 * tools/call `echo` and `big` in-process with no NATS and no upstream. Run with `--json` to
 * answer `application/json` (`enableJsonResponse`) instead of the default SSE stream.
 * Usage: node sdk-http-server.js --port <port> [--json]
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';

import { NodeStreamableHTTPServerTransport } from '@modelcontextprotocol/node';
import { Server } from '@modelcontextprotocol/server';

const port = Number(process.argv[process.argv.indexOf('--port') + 1]);
const json = process.argv.includes('--json');
const transports = new Map<string, NodeStreamableHTTPServerTransport>();

function text(value: string) {
  return { content: [{ type: 'text' as const, text: value }] };
}

function sessionServer(): Server {
  const server = new Server({ name: 'sdk-http-ceiling', version: '0.1.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/call', async (request) => {
    const args = (request.params.arguments ?? {}) as { text?: string; bytes?: number };
    if (request.params.name === 'big') return text('x'.repeat(args.bytes ?? 0));
    return text(String(args.text ?? ''));
  });
  return server;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

const http = createServer((req, res) => {
  void (async () => {
    if (req.url === '/healthz') {
      res.writeHead(200).end('ok');
      return;
    }
    const body = req.method === 'POST' ? (JSON.parse(await readBody(req)) as unknown) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const transport = transports.get(sessionId);
      if (!transport) {
        res.writeHead(404).end();
        return;
      }
      await transport.handleRequest(req, res, body);
      return;
    }
    const transport: NodeStreamableHTTPServerTransport = new NodeStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: json,
      onsessioninitialized: (id) => void transports.set(id, transport),
      onsessionclosed: (id) => void transports.delete(id),
    });
    await sessionServer().connect(transport);
    await transport.handleRequest(req, res, body);
  })().catch((error: unknown) => {
    process.stderr.write(`sdk-http-server: ${(error as Error).stack ?? String(error)}\n`);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});

http.listen(port, '127.0.0.1');
const stop = () => {
  http.close();
  http.closeAllConnections();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
