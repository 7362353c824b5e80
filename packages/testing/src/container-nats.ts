import { LineRing } from './line-ring.js';
import type { NatsConnectTarget, NatsEndpoint } from './nats-endpoint.js';

export interface ContainerNatsOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Extra server arguments, e.g. `['--max_payload', '2MB']`. */
  args?: string[];
  /** Image to run (default `NATS_IMAGE` or `nats:2.9.10`, the version Debian ships). */
  image?: string;
  /** How many log lines `logs()` keeps (default 200). */
  logLines?: number;
}

/** The parts of testcontainers' StartedNatsContainer this wrapper uses. */
interface StartedContainer {
  getHost(): string;
  getMappedPort(port: number): number;
  getConnectionOptions(): { user?: string; pass?: string };
  logs(): Promise<NodeJS.ReadableStream>;
  stop(): Promise<unknown>;
}

const CLIENT_PORT = 4222;

/**
 * NATS in a Docker container via `@testcontainers/nats`, used only when no
 * local binary exists and a Docker engine answers. testcontainers is loaded
 * lazily so that it never loads otherwise. The module starts the server with
 * user/pass `test`/`test`; `connectOptions` carries them.
 */
export class ContainerNats implements NatsEndpoint {
  readonly kind = 'container' as const;
  readonly canRestart = false;
  readonly storeDir = undefined;
  readonly url: string;
  readonly port: number;
  readonly connectOptions: NatsConnectTarget;
  readonly #container: StartedContainer;
  readonly #log: LineRing;
  #stopping: Promise<void> | undefined;

  private constructor(container: StartedContainer, log: LineRing) {
    this.#container = container;
    this.#log = log;
    this.port = container.getMappedPort(CLIENT_PORT);
    this.url = `nats://${container.getHost()}:${this.port}`;
    const { user, pass } = container.getConnectionOptions();
    this.connectOptions = {
      servers: this.url,
      ...(user !== undefined ? { user } : {}),
      ...(pass !== undefined ? { pass } : {}),
    };
  }

  static async start(options: ContainerNatsOptions = {}): Promise<ContainerNats> {
    const { NatsContainer } = await import('@testcontainers/nats');
    let builder = new NatsContainer(options.image ?? process.env['NATS_IMAGE'] ?? 'nats:2.9.10');
    if (options.jetstream ?? true) builder = builder.withJetStream();
    const args = options.args ?? [];
    for (let i = 0; i < args.length; i++) {
      const name = args[i] as string;
      const value = args[i + 1];
      if (value !== undefined && !value.startsWith('-')) {
        builder = builder.withArg(name, value);
        i++;
      } else {
        builder = builder.withArg(name);
      }
    }
    const started = await builder.start();
    const log = new LineRing(options.logLines ?? 200);
    const stream = await started.logs();
    let partial = '';
    stream.on('data', (chunk: Buffer | string) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) log.push(line);
    });
    stream.on('error', () => undefined);
    return new ContainerNats(started, log);
  }

  logs(): string[] {
    return this.#log.lines();
  }

  /** Stops and removes the container; idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#container.stop().then(() => undefined);
    return this.#stopping;
  }

  async kill(): Promise<void> {
    throw new Error(`kill() is not supported for the Docker NATS fallback (${this.url}); install a local nats-server for crash tests`);
  }

  async restart(): Promise<void> {
    throw new Error(`restart() is not supported for the Docker NATS fallback (${this.url}); install a local nats-server for restart tests`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
