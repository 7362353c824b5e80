import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';

import { childExit, describeExit, isRunning, type ChildExit } from './child-exit.js';
import { trackChild } from './child-registry.js';
import { ExternalNats } from './external-nats.js';
import { LineRing } from './line-ring.js';
import { findNatsServerBinary, NATS_INSTALL_HINT } from './nats-binary.js';
import type { NatsConnectTarget, NatsEndpoint } from './nats-endpoint.js';

export interface NatsServerOptions {
  /** Enable JetStream with a private store directory (default true). */
  jetstream?: boolean;
  /** Extra `nats-server` arguments, appended after the harness's own. */
  args?: string[];
  /** Client port; default: a random free port chosen by the server (`-p -1`). */
  port?: number;
  /** Path of the binary; default: `NATS_SERVER_BIN`, PATH, then system dirs. */
  binary?: string;
  /** How long to wait for "Server is ready" (default 15000 ms). */
  startTimeoutMs?: number;
  /** How long `stop()` waits after SIGTERM before SIGKILL (default 5000 ms). */
  stopTimeoutMs?: number;
  /** How many log lines `logs()` keeps (default 200). */
  logLines?: number;
}

const HOST = '127.0.0.1';
const READY_LINE = /Server is ready/;
const LISTEN_LINE = /Listening for client connections on \S+:(\d+)/;

/**
 * A real `nats-server` child process owned by one test file. JetStream data
 * lives in a private temp directory that survives `kill()` and `restart()`.
 */
export class NatsServer implements NatsEndpoint {
  readonly kind = 'local' as const;
  readonly canRestart = true;
  readonly binary: string;
  readonly storeDir: string;
  readonly #root: string;
  readonly #portsDir: string;
  readonly #options: NatsServerOptions;
  readonly #log: LineRing;
  #port = 0;
  #child: ChildProcess | undefined;
  #exit: Promise<ChildExit> | undefined;
  #terminating: Promise<void> | undefined;
  #removed = false;

  private constructor(binary: string, root: string, options: NatsServerOptions) {
    this.binary = binary;
    this.#root = root;
    this.storeDir = join(root, 'store');
    this.#portsDir = join(root, 'ports');
    this.#options = options;
    this.#log = new LineRing(options.logLines ?? 200);
  }

  /** Starts a fresh server in a new temp directory and waits until it accepts clients. */
  static async start(options: NatsServerOptions = {}): Promise<NatsServer> {
    const binary = options.binary ?? findNatsServerBinary();
    if (binary === undefined) {
      throw new Error(`nats-server binary not found on PATH or in /usr/sbin. ${NATS_INSTALL_HINT}`);
    }
    const root = await mkdtemp(join(tmpdir(), 'mcp-mesh-nats-'));
    const server = new NatsServer(binary, root, options);
    try {
      await mkdir(server.storeDir, { recursive: true });
      await mkdir(server.#portsDir, { recursive: true });
      await server.#launch(options.port ?? -1);
    } catch (error) {
      await rm(root, { recursive: true, force: true });
      throw error;
    }
    return server;
  }

  /** Wraps an already running server (e.g. from `NATS_URL`); it cannot be stopped or restarted. */
  static external(url: string): ExternalNats {
    return new ExternalNats(url);
  }

  get url(): string {
    return `nats://${HOST}:${this.#port}`;
  }

  get port(): number {
    return this.#port;
  }

  get connectOptions(): NatsConnectTarget {
    return { servers: this.url };
  }

  /** PID of the current server process, while it runs. */
  get pid(): number | undefined {
    return isRunning(this.#child) ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return isRunning(this.#child);
  }

  logs(): string[] {
    return this.#log.lines();
  }

  /**
   * SIGTERM, wait for the exit (SIGKILL after `stopTimeoutMs`), then remove
   * the temp directory (store and ports file) unless `cleanup` is false.
   * Idempotent; after `stop(false)` the server can still be `restart()`ed.
   */
  async stop(cleanup = true): Promise<void> {
    await this.#terminate('SIGTERM');
    if (cleanup && !this.#removed) {
      this.#removed = true;
      await rm(this.#root, { recursive: true, force: true });
    }
  }

  /** SIGKILL, as a crash would; the store directory is kept for `restart()`. */
  async kill(): Promise<void> {
    await this.#terminate('SIGKILL');
  }

  /** Stops the server if it runs, then starts it on the same port with the same store directory. */
  async restart(): Promise<void> {
    if (this.#removed) {
      throw new Error('NatsServer.restart(): the server was stopped with cleanup and its store is gone; use stop(false) to keep it');
    }
    await this.#terminate('SIGTERM');
    this.#log.push(`[harness] restarting nats-server on port ${this.#port}`);
    await this.#launch(this.#port);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  async #launch(port: number): Promise<void> {
    const args = ['-a', HOST, '-p', String(port), '--ports_file_dir', this.#portsDir];
    if (this.#options.jetstream ?? true) args.push('-js', '-sd', this.storeDir);
    args.push(...(this.#options.args ?? []));

    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    const exit = childExit(child);
    this.#child = child;
    this.#exit = exit;
    this.#terminating = undefined;

    let listenPort: number | undefined;
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
      markReady = resolve;
    });
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
        this.#log.push(line);
        const listening = LISTEN_LINE.exec(line);
        if (listening?.[1] !== undefined) listenPort = Number(listening[1]);
        if (READY_LINE.test(line)) markReady();
      });
    }
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
      this.#log.push(`[harness] ${error.message}`);
    });
    void exit.then((result) => this.#log.push(`[harness] nats-server exited with ${describeExit(result)}`));

    const timeoutMs = this.#options.startTimeoutMs ?? 15_000;
    const timer = new AbortController();
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      exit.then(() => 'exited' as const),
      delay(timeoutMs, 'timeout' as const, { signal: timer.signal }).catch(() => 'timeout' as const),
    ]);
    timer.abort();

    if (outcome !== 'ready') {
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exit;
      }
      const reason =
        outcome === 'timeout'
          ? `did not print "Server is ready" within ${timeoutMs} ms`
          : `exited before it was ready${spawnError ? ` (${spawnError.message})` : ''}`;
      throw new Error(`nats-server ${reason}.\ncommand: ${this.binary} ${args.join(' ')}\n--- log ---\n${this.#log.text()}`);
    }

    const learned = (await this.#portFromPortsFile(child.pid)) ?? listenPort;
    if (learned === undefined) {
      await this.#terminate('SIGKILL');
      throw new Error(`nats-server is ready but its client port could not be determined.\n--- log ---\n${this.#log.text()}`);
    }
    this.#port = learned;
  }

  async #portFromPortsFile(pid: number | undefined): Promise<number | undefined> {
    if (pid === undefined) return undefined;
    try {
      const name = (await readdir(this.#portsDir)).find((file) => file.endsWith(`_${pid}.ports`));
      if (name === undefined) return undefined;
      const parsed = JSON.parse(await readFile(join(this.#portsDir, name), 'utf8')) as { nats?: unknown };
      const first = Array.isArray(parsed.nats) ? parsed.nats[0] : undefined;
      if (typeof first !== 'string') return undefined;
      const port = Number(new URL(first).port);
      return Number.isInteger(port) && port > 0 ? port : undefined;
    } catch {
      return undefined;
    }
  }

  #terminate(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    const exit = this.#exit;
    if (!isRunning(child) || exit === undefined) return exit?.then(() => undefined) ?? Promise.resolve();
    if (signal === 'SIGKILL') {
      child.kill('SIGKILL');
      return exit.then(() => undefined);
    }
    this.#terminating ??= (async () => {
      child.kill('SIGTERM');
      const deadline = new AbortController();
      const timedOut = await Promise.race([
        exit.then(() => false),
        delay(this.#options.stopTimeoutMs ?? 5_000, true, { signal: deadline.signal }).catch(() => false),
      ]);
      deadline.abort();
      if (timedOut) {
        this.#log.push('[harness] nats-server ignored SIGTERM, sending SIGKILL');
        child.kill('SIGKILL');
      }
      await exit;
    })();
    return this.#terminating;
  }
}
