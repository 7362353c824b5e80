import type { NatsConnectTarget, NatsEndpoint } from './nats-endpoint.js';

const DEFAULT_PORT = 4222;

function normalize(server: string): string {
  return /^[a-z]+:\/\//i.test(server) ? server : `nats://${server}`;
}

/**
 * A NATS server the harness does not own (typically `NATS_URL`). Tests can
 * connect to it, but it can be neither killed nor restarted; `stop()` only
 * releases the handle and leaves the server running.
 */
export class ExternalNats implements NatsEndpoint {
  readonly kind = 'external' as const;
  readonly canRestart = false;
  readonly storeDir = undefined;
  readonly url: string;
  readonly port: number;
  readonly connectOptions: NatsConnectTarget;

  /** `url` may be a comma-separated list; the first entry names `url` and `port`. */
  constructor(url: string) {
    const servers = url
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '')
      .map(normalize);
    const first = servers[0];
    if (first === undefined) throw new Error('ExternalNats: empty NATS URL');
    const parsed = new URL(first);
    const user = parsed.username !== '' ? decodeURIComponent(parsed.username) : undefined;
    const pass = parsed.password !== '' ? decodeURIComponent(parsed.password) : undefined;
    parsed.username = '';
    parsed.password = '';
    this.port = parsed.port !== '' ? Number(parsed.port) : DEFAULT_PORT;
    this.url = `${parsed.protocol}//${parsed.hostname}:${this.port}`;
    const plain = servers.map((server) => {
      const each = new URL(server);
      each.username = '';
      each.password = '';
      return each.toString().replace(/\/$/, '');
    });
    this.connectOptions = {
      servers: plain.length === 1 ? this.url : plain,
      ...(user !== undefined ? { user } : {}),
      ...(pass !== undefined ? { pass } : {}),
    };
  }

  logs(): string[] {
    return [];
  }

  /** Releases the handle; the external server keeps running. */
  async stop(): Promise<void> {}

  async kill(): Promise<void> {
    throw this.#notOwned('kill');
  }

  async restart(): Promise<void> {
    throw this.#notOwned('restart');
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #notOwned(action: string): Error {
    return new Error(
      `external server cannot be restarted: ${action}() is not possible on ${this.url}, which the harness did not start ` +
        '(unset NATS_URL to let the tests start their own nats-server)',
    );
  }
}
