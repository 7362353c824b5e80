import type { Logger } from 'pino';

type Closer = () => Promise<unknown> | unknown;

/**
 * Runs registered closers once, in reverse order of registration, on SIGINT/SIGTERM or when
 * `shutdown()` is called. A second signal while shutting down exits at once.
 */
export class Shutdown {
  private readonly closers: { name: string; close: Closer }[] = [];
  private running: Promise<void> | undefined;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    if (this.running) {
      this.logger.warn({ signal }, 'second signal while shutting down: exiting now');
      process.exit(130);
    }
    this.logger.info({ signal }, 'shutting down');
    void this.shutdown().then(() => process.exit(signal === 'SIGINT' ? 130 : 0));
  };

  constructor(private readonly logger: Logger) {}

  /** Listens for SIGINT and SIGTERM. */
  listen(): this {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    return this;
  }

  add(name: string, close: Closer): void {
    this.closers.push({ name, close });
  }

  shutdown(): Promise<void> {
    this.running ??= (async () => {
      for (const { name, close } of [...this.closers].reverse()) {
        try {
          await close();
        } catch (error) {
          this.logger.error({ err: error, closer: name }, 'error while closing');
        }
      }
    })();
    return this.running;
  }
}
