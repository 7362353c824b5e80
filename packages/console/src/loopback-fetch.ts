import { request } from 'node:http';
import { Readable } from 'node:stream';
import type { FetchLike } from '@modelcontextprotocol/client';

/** The address to reach a server listening on `url` from the same machine: a wildcard address becomes loopback. */
export function loopbackUrl(url: string): URL {
  const target = new URL(url);
  if (target.hostname === '0.0.0.0') target.hostname = '127.0.0.1';
  if (target.hostname === '[::]') target.hostname = '[::1]';
  return target;
}

/**
 * A fetch for the console's calls into its own ingress: connects to `base` (the ingress's listen
 * address) but sends the `Host` the browser used, which the ingress has already accepted (its
 * allowed hosts need not list the listen address). The global fetch cannot set `Host`.
 */
export function loopbackFetch(base: URL, host: string): FetchLike {
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(typeof input === 'string' ? input : input.toString());
      const headers: Record<string, string> = {};
      new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
      headers.host = host;
      const body = init?.body;
      if (body !== undefined && body !== null && typeof body !== 'string') {
        reject(new TypeError('the loopback fetch sends string bodies only'));
        return;
      }
      const req = request(
        {
          hostname: base.hostname.replace(/^\[|\]$/g, ''),
          port: base.port,
          path: `${url.pathname}${url.search}`,
          method: init?.method ?? 'GET',
          headers,
          ...(init?.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const responseHeaders = new Headers();
          for (const [key, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) for (const item of value) responseHeaders.append(key, item);
            else if (value !== undefined) responseHeaders.set(key, value);
          }
          const status = res.statusCode ?? 502;
          const empty = status === 204 || status === 304 || init?.method === 'HEAD';
          if (empty) res.resume();
          resolve(
            new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? '',
              headers: responseHeaders,
            }),
          );
        },
      );
      req.once('error', reject);
      req.end(body ?? undefined);
    });
}
