import { createServer } from 'node:net';

/**
 * Asks the kernel for a currently unused TCP port on `host` (default
 * 127.0.0.1) by listening on port 0, reading the assigned port and closing
 * the listener again. The port is free at the moment of return; another
 * process could still take it before the caller binds it.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listener address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
