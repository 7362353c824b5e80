import http from 'node:http';
import net from 'node:net';

/**
 * HTTP helpers for hostile-input tests: what `fetch` refuses to send (a foreign Host, header
 * bytes outside ASCII, any method token, a body larger than declared, broken framing) goes out
 * through node:http or a bare socket. Every helper is bounded by a timeout, so a hang is a failure
 * and never a stuck test.
 */

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface HttpRequestOptions {
  method?: string;
  /** Values are sent as latin1: pass UTF-8 bytes through {@link headerBytes}. */
  headers?: Record<string, string>;
  body?: string | Buffer;
  /**
   * Sends this many bytes in `chunkBytes` pieces with chunked transfer encoding (or, with
   * `declare`, a Content-Length of `bytes` and only the first piece), stopping as soon as the
   * server answers.
   */
  stream?: { bytes: number; chunkBytes?: number; declare?: boolean; fill?: number };
  timeoutMs?: number;
}

/** A string whose latin1 code units are the UTF-8 bytes of `value` (how node:http sends raw header bytes). */
export function headerBytes(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

/** One request on its own connection (no keep-alive reuse after a refusal). */
export function httpRequest(url: string, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<HttpAnswer>((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string> = { ...options.headers };
    if (options.stream?.declare) headers['content-length'] = String(options.stream.bytes);
    // A Buffer body with its length declared: node:http then writes the header block as latin1 on
    // its own (with a string body it would encode headers and body together as UTF-8), and no
    // method gets a chunked body that the HTTP parser refuses for reasons of its own.
    const body = options.body === undefined ? undefined : Buffer.isBuffer(options.body) ? options.body : Buffer.from(options.body, 'utf8');
    if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    const req = http.request(url, { method: options.method ?? 'POST', headers, agent: false }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        req.destroy();
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms: ${options.method ?? 'POST'} ${url}`));
    }, timeoutMs);
    // Once the server has answered, writes into the closing connection may fail: that is expected.
    req.on('error', (error) => {
      if (!answered) {
        clearTimeout(timer);
        reject(error);
      }
    });
    const stream = options.stream;
    if (!stream) {
      req.end(body);
      return;
    }
    const chunk = Buffer.alloc(stream.chunkBytes ?? 64 * 1024, stream.fill ?? 0x20);
    if (stream.declare) {
      // The first piece only: a server that believes the declared length answers without reading more.
      req.write(chunk);
      return;
    }
    let sent = 0;
    const pump = (): void => {
      while (!answered && !req.destroyed && sent < stream.bytes) {
        const piece = chunk.subarray(0, Math.min(chunk.length, stream.bytes - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered && !req.destroyed) req.end();
    };
    pump();
  });
}

export interface RawAnswer {
  status: number;
  /** Everything the server sent, as latin1. */
  raw: string;
  /** The body after the blank line (chunked framing is not undone). */
  body: string;
}

/** Writes bytes on a bare TCP connection and reads until the server closes it. */
export function rawHttp(port: number, request: string | Buffer, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise<RawAnswer>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(`the connection stayed open past ${timeoutMs} ms; got so far: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`),
      );
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      const raw = Buffer.concat(chunks).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
      const at = raw.indexOf('\r\n\r\n');
      resolve({ status, raw, body: at < 0 ? '' : raw.slice(at + 4) });
    };
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    // A reset after the answer arrived still leaves the answer to read.
    socket.on('error', () => undefined);
    socket.write(request);
  });
}

export interface JsonRpcError {
  code: number;
  message: string;
  data?: Record<string, unknown> & { meshCode?: string };
}

export interface JsonRpcMessage {
  jsonrpc?: string;
  id?: string | number | null;
  result?: Record<string, unknown>;
  error?: JsonRpcError;
}

/**
 * The JSON-RPC message of a response body, whether it came as plain JSON or as SSE `data:` lines
 * (then the one answering `id`, or the last one).
 */
export function jsonRpcOf(text: string, id?: string | number): JsonRpcMessage {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as JsonRpcMessage;
  const messages = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trim())
    .filter((data) => data.startsWith('{'))
    .map((data) => JSON.parse(data) as JsonRpcMessage);
  const answer = id === undefined ? messages.at(-1) : messages.find((message) => message.id === id);
  if (!answer) throw new Error(`no JSON-RPC message${id === undefined ? '' : ` with id ${id}`} in: ${text.slice(0, 300)}`);
  return answer;
}

const STACK_FRAME = /\bat (?:[\w$.<>[\]]+ )?\(?(?:file:\/\/|node:|\/)[^\s)]*:\d+:\d+\)?/;
const INTERNAL_PATH =
  /\/work\/|\/home\/|\/usr\/lib\/node|node_modules|node:internal|\/(?:src|dist)\/[\w./-]+\.(?:ts|js|mjs)\b|\.(?:ts|js|mjs):\d+/;
const EXCEPTION_NAME = /\b(?:TypeError|RangeError|URIError|ReferenceError|SyntaxError|AssertionError)\b/;

/** Why a response body leaks internals (a stack frame, a source path, an exception class), if it does. */
export function leakIn(text: string): string | undefined {
  for (const [what, pattern] of [
    ['a stack frame', STACK_FRAME],
    ['a source path', INTERNAL_PATH],
    ['an exception name', EXCEPTION_NAME],
  ] as const) {
    const match = pattern.exec(text);
    if (match) return `${what}: ${JSON.stringify(match[0])} in ${JSON.stringify(text.slice(0, 300))}`;
  }
  return undefined;
}
