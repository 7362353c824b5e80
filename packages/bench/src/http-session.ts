import { Agent, request, type OutgoingHttpHeaders } from 'node:http';

import type { McpCaller } from './caller.js';
import {
  BENCH_PROTOCOL_VERSION,
  CallFailed,
  checkReply,
  initializeRequest,
  INITIALIZED_NOTIFICATION,
  replyFromBody,
  toolCallTemplate,
} from './jsonrpc.js';
import { RawHttpConnection } from './raw-http.js';

interface HttpReply {
  status: number;
  contentType: string | undefined;
  sessionId: string | undefined;
  body: string;
}

/** Keep-alive connections shared by every session of one target; grows to the concurrency used. */
export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, keepAliveMsecs: 10_000 });
}

/**
 * A lean MCP Streamable HTTP client session: initialize and notifications/initialized once over
 * `node:http`, then the measured tools/call POSTs, pre-serialised with the session and
 * protocol-version headers, over the session's own keep-alive connections (`RawHttpConnection`:
 * one request string written, the response framed by hand). Answers may be JSON or SSE; both are
 * parsed and checked.
 */
export class HttpMcpSession implements McpCaller {
  private nextId = 1;
  private readonly headers: OutgoingHttpHeaders;
  /** The measured calls' own keep-alive connections (see RawHttpConnection), idle ones here. */
  private readonly idle: RawHttpConnection[] = [];
  private readonly open = new Set<RawHttpConnection>();
  /** Request head of a measured call, up to the content-length value. */
  private readonly head: string;

  private constructor(
    private readonly url: URL,
    private readonly agent: Agent,
    /** Undefined when the server is stateless (it issued no Mcp-Session-Id). */
    readonly sessionId: string | undefined,
  ) {
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(sessionId === undefined ? {} : { 'mcp-session-id': sessionId }),
      'mcp-protocol-version': BENCH_PROTOCOL_VERSION,
    };
    const lines = [`POST ${url.pathname}${url.search} HTTP/1.1`, `host: ${url.host}`, 'connection: keep-alive'];
    for (const [name, value] of Object.entries(this.headers)) lines.push(`${name}: ${String(value)}`);
    this.head = `${lines.join('\r\n')}\r\ncontent-length: `;
  }

  static async open(url: string | URL, agent: Agent): Promise<HttpMcpSession> {
    const target = new URL(url);
    const init = await post(
      target,
      agent,
      { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      initializeRequest(0),
    );
    if (init.status !== 200) throw new CallFailed(`initialize at ${target.href} answered ${init.status}: ${init.body.slice(0, 300)}`);
    checkReply(replyFromBody(init.contentType, init.body, 0));
    const session = new HttpMcpSession(target, agent, init.sessionId);
    const initialized = await post(target, agent, session.headers, INITIALIZED_NOTIFICATION);
    if (initialized.status !== 202 && initialized.status !== 200) {
      throw new CallFailed(`notifications/initialized answered ${initialized.status}: ${initialized.body.slice(0, 300)}`);
    }
    return session;
  }

  prepare(tool: string, args: Record<string, unknown>): () => Promise<void> {
    const body = toolCallTemplate(tool, args);
    return async () => {
      const id = this.nextId++;
      const text = body(id);
      let connection = this.idle.pop();
      // The server may have closed an idle connection (keep-alive timeout) since its last call.
      while (connection && !connection.usable) {
        this.open.delete(connection);
        connection = this.idle.pop();
      }
      connection ??= await this.connect();
      let reply;
      try {
        reply = await connection.send(`${this.head}${Buffer.byteLength(text)}\r\n\r\n${text}`);
      } finally {
        if (connection.usable) this.idle.push(connection);
        else this.open.delete(connection);
      }
      if (reply.status !== 200) throw new CallFailed(`HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
      checkReply(replyFromBody(reply.contentType, reply.body, id));
    };
  }

  private async connect(): Promise<RawHttpConnection> {
    const connection = await RawHttpConnection.open(this.url);
    this.open.add(connection);
    return connection;
  }

  /** One tools/call, answering its result (for checks outside the measured loop). */
  async call(tool: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const reply = await post(this.url, this.agent, this.headers, toolCallTemplate(tool, args)(id));
    if (reply.status !== 200) throw new CallFailed(`HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
    return checkReply(replyFromBody(reply.contentType, reply.body, id));
  }

  /** Ends the session (DELETE); a server that does not support it is fine. */
  async close(): Promise<void> {
    for (const connection of this.open) connection.close();
    this.open.clear();
    this.idle.length = 0;
    if (this.sessionId === undefined) return;
    await new Promise<void>((resolve) => {
      const req = request(this.url, { method: 'DELETE', agent: this.agent, headers: this.headers }, (res) => {
        res.resume();
        res.once('end', resolve);
        res.once('error', () => resolve());
      });
      req.once('error', () => resolve());
      req.end();
    });
  }
}

function post(url: URL, agent: Agent, headers: OutgoingHttpHeaders, body: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.once('error', reject);
      res.once('end', () => {
        const sessionId = res.headers['mcp-session-id'];
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'],
          sessionId: typeof sessionId === 'string' ? sessionId : undefined,
          body: chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.once('error', reject);
    req.end(body);
  });
}
