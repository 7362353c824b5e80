import { createServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse, RawHttpConnection } from '../../packages/bench/src/raw-http.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe("the load generator's raw HTTP/1.1 framing", () => {
  it('frames content-length and chunked bodies, and waits for missing bytes', () => {
    const plain = 'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}';
    expect(parseResponse(bytes(plain))).toEqual({
      reply: { status: 200, contentType: 'application/json', body: '{"a":1}' },
      end: Buffer.byteLength(plain),
      close: false,
    });
    expect(parseResponse(bytes(plain.slice(0, -1)))).toBeUndefined();
    expect(parseResponse(bytes('HTTP/1.1 200 OK\r\ncontent-le'))).toBeUndefined();

    const sse =
      'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nevent\r\na\r\n: données\r\n0\r\n\r\n';
    expect(parseResponse(bytes(sse))?.reply).toEqual({ status: 200, contentType: 'text/event-stream', body: 'event: données' });
    expect(parseResponse(bytes(sse.slice(0, -2)))).toBeUndefined();
    expect(parseResponse(bytes('HTTP/1.1 202 Accepted\r\nconnection: close\r\ncontent-length: 0\r\n\r\n'))?.close).toBe(true);
  });

  it('refuses what it cannot frame', () => {
    expect(() => parseResponse(bytes('SPDY/3 200 OK\r\n\r\n'))).toThrow('not an HTTP/1.1 status line');
    expect(() => parseResponse(bytes('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nbody'))).toThrow(
      'without content-length or chunked',
    );
    expect(() => parseResponse(bytes('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'))).toThrow('malformed chunk size');
  });

  it('rejects the call (never hangs) when the server sends more than one response', async () => {
    const server = createTcpServer((socket) =>
      socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n')),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const connection = await RawHttpConnection.open(new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`));
      await expect(connection.send('POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n')).rejects.toThrow('bytes after the response');
      expect(connection.usable).toBe(false);
    } finally {
      server.close();
    }
  });

  describe('against node:http', () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (req.url === '/stream') {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          res.write(`data: ${body}\n\n`);
          setTimeout(() => res.end('data: end\n\n'), 5);
        } else if (req.url === '/close') {
          res.writeHead(200, { connection: 'close', 'content-type': 'application/json' }).end(body);
        } else {
          res.writeHead(200, { 'content-type': 'application/json' }).end(body);
        }
      });
    });
    let url: URL;
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    const request = (path: string, body: string) =>
      `POST ${path} HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

    it('keeps the connection for the next request, and reads a streamed (chunked) answer to its end', async () => {
      const connection = await RawHttpConnection.open(url);
      for (let i = 0; i < 20; i++) {
        const reply = await connection.send(request('/', `{"n":${i},"text":"ünïcode ${'x'.repeat(i * 1000)}"}`));
        expect(JSON.parse(reply.body)).toEqual({ n: i, text: `ünïcode ${'x'.repeat(i * 1000)}` });
        expect(connection.usable).toBe(true);
      }
      const streamed = await connection.send(request('/stream', 'first'));
      expect(streamed).toEqual({ status: 200, contentType: 'text/event-stream', body: 'data: first\n\ndata: end\n\n' });
      await expect(Promise.all([connection.send(request('/', '1')), connection.send(request('/', '2'))])).rejects.toThrow(
        'a request is already in flight',
      );
      connection.close();
    });

    it('is not reused after the server closes it, and a send on it fails clearly', async () => {
      const connection = await RawHttpConnection.open(url);
      expect((await connection.send(request('/close', '{}'))).body).toBe('{}');
      expect(connection.usable).toBe(false);
      await expect(connection.send(request('/', '{}'))).rejects.toThrow('closed the connection');
    });
  });
});
