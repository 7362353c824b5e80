/** Where a NATS server used by a test came from. */
export type NatsEndpointKind = 'local' | 'external' | 'container';

/**
 * The subset of `@nats-io/transport-node` `ConnectionOptions` needed to reach
 * the server; pass it straight to `connect()`.
 */
export interface NatsConnectTarget {
  servers: string | string[];
  user?: string;
  pass?: string;
}

/** What `startNats()` hands back, whichever way the server was obtained. */
export interface NatsEndpoint extends AsyncDisposable {
  readonly kind: NatsEndpointKind;
  /** Client URL, e.g. `nats://127.0.0.1:41234` (never carries credentials). */
  readonly url: string;
  readonly port: number;
  /** Options for `connect()`, including credentials when the server needs them. */
  readonly connectOptions: NatsConnectTarget;
  /** JetStream store directory, when the harness owns one on this machine. */
  readonly storeDir: string | undefined;
  /** Whether `kill()` and `restart()` are supported (only for a locally started server). */
  readonly canRestart: boolean;
  /** The last log lines the server printed (empty when not captured). */
  logs(): string[];
  /** Stops the server if the harness owns it; idempotent. */
  stop(cleanup?: boolean): Promise<void>;
  /** SIGKILLs the server to simulate a crash. */
  kill(): Promise<void>;
  /** Starts the server again on the same port with the same JetStream store. */
  restart(): Promise<void>;
}
