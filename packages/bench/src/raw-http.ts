import { connect, type Socket } from 'node:net';

export interface RawReply {
  status: number;
  contentType: string | undefined;
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/**
 * One keep-alive HTTP/1.1 connection of the load generator, one request in flight at a time:
 * the request is written as one pre-built string and the response framed by `content-length` or
 * chunked encoding (SSE answers arrive chunked and end when the server ends the stream). This is
 * the load generator's own hot path: `node:http`'s client machinery (request and response
 * objects, streams, header validation) cost ~50 µs of CPU per call on the 2-core machine, CPU
 * that the measured targets then do not get. Not a general HTTP client: no redirects, no
 * trailers, no pipelining, no `100 Continue`.
 */
export class RawHttpConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private pending: { resolve: (reply: RawReply) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('the server closed the connection')));
  }

  static open(url: URL): Promise<RawHttpConnection> {
    return new Promise((resolve, reject) => {
      // URL keeps the brackets of an IPv6 literal; connect() wants the address alone.
      const socket = connect({ host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawHttpConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Whether another request may be sent (the server kept the connection open). */
  get usable(): boolean {
    return this.failure === undefined && this.pending === undefined;
  }

  /** Sends one complete request (head and body) and resolves with its response. */
  send(request: string): Promise<RawReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('a request is already in flight on this connection'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.socket.write(request);
    });
  }

  close(): void {
    this.failure ??= new Error('connection closed by the load generator');
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(error);
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let parsed: { reply: RawReply; end: number; close: boolean } | undefined;
    try {
      parsed = parseResponse(this.buffered);
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
      return;
    }
    if (!parsed) return;
    const pending = this.pending;
    this.pending = undefined;
    if (parsed.end !== this.buffered.length) {
      const error = new Error(`${this.buffered.length - parsed.end} bytes after the response that nobody asked for`);
      this.fail(error);
      pending?.reject(error);
      this.socket.destroy();
      return;
    }
    this.buffered = Buffer.alloc(0);
    if (parsed.close) {
      this.failure = new Error('the server closed the connection after its response');
      this.socket.destroy();
    }
    if (pending) pending.resolve(parsed.reply);
    else this.fail(new Error('a response arrived with no request in flight'));
  }
}

/** A complete response at the start of `data`, or undefined while bytes are missing. */
export function parseResponse(data: Buffer): { reply: RawReply; end: number; close: boolean } | undefined {
  const headEnd = data.indexOf(HEAD_END);
  if (headEnd === -1) return undefined;
  const head = data.toString('latin1', 0, headEnd);
  const lines = head.split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify(lines[0])}`);
  let contentLength: number | undefined;
  let chunked = false;
  let contentType: string | undefined;
  let close = false;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') contentLength = Number(value);
    else if (name === 'transfer-encoding') chunked = value.toLowerCase().includes('chunked');
    else if (name === 'content-type') contentType = value;
    else if (name === 'connection') close = value.toLowerCase() === 'close';
  }
  const bodyStart = headEnd + HEAD_END.length;
  const status = Number(statusLine[1]);
  if (chunked) {
    const chunks: Buffer[] = [];
    let at = bodyStart;
    for (;;) {
      const lineEnd = data.indexOf(CRLF, at);
      if (lineEnd === -1) return undefined;
      const size = parseInt(data.toString('latin1', at, lineEnd), 16);
      if (!Number.isFinite(size) || size < 0) throw new Error('malformed chunk size');
      const chunkStart = lineEnd + 2;
      if (size === 0) {
        // No trailers are sent to this client: the last chunk is followed by one CRLF.
        if (data.length < chunkStart + 2) return undefined;
        const body = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
        return { reply: { status, contentType, body }, end: chunkStart + 2, close };
      }
      if (data.length < chunkStart + size + 2) return undefined;
      chunks.push(data.subarray(chunkStart, chunkStart + size));
      at = chunkStart + size + 2;
    }
  }
  if (contentLength === undefined && status !== 204 && status !== 304) {
    throw new Error(`HTTP ${status} without content-length or chunked encoding (a body framed by closing is not supported)`);
  }
  const length = contentLength ?? 0;
  if (data.length < bodyStart + length) return undefined;
  return { reply: { status, contentType, body: data.toString('utf8', bodyStart, bodyStart + length) }, end: bodyStart + length, close };
}
