import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ManagedProcess>();

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How many output lines to keep for error reports (default 200). */
  keepLines?: number;
}

/**
 * A child process this runner owns: its own process group (so a hard stop reaches its children
 * too), output kept for error reports, and a registry so that everything still running is
 * stopped when the runner exits.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private partial = '';
  private readonly listeners = new Set<(line: string) => void>();

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    private readonly options: SpawnOptions = {},
  ) {
    this.child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        resolve({ code, signal });
      });
      this.child.once('error', (error) => {
        this.push(`spawn error: ${error.message}\n`);
        live.delete(this);
        resolve({ code: -1, signal: null });
      });
    });
    this.child.stdout?.on('data', (chunk: Buffer) => this.push(chunk.toString('utf8')));
    this.child.stderr?.on('data', (chunk: Buffer) => this.push(chunk.toString('utf8')));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process printed (stdout and stderr interleaved). */
  output(): string {
    return [...this.lines, this.partial].filter((line) => line !== '').join('\n');
  }

  /** Resolves with the first line matching `pattern`; rejects on exit or timeout with the output so far. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    for (const line of this.lines) {
      const match = pattern.exec(line);
      if (match) return Promise.resolve(match);
    }
    return new Promise((resolve, reject) => {
      const done = (error?: Error, match?: RegExpExecArray) => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
        if (error) reject(error);
        else resolve(match!);
      };
      const onLine = (line: string) => {
        const match = pattern.exec(line);
        if (match) done(undefined, match);
      };
      const timer = setTimeout(
        () => done(new Error(`${this.name}: no line matching ${pattern} within ${timeoutMs} ms\n${this.output()}`)),
        timeoutMs,
      );
      this.listeners.add(onLine);
      void this.exited.then(({ code, signal }) =>
        done(new Error(`${this.name} exited (code ${code}, signal ${signal}) before printing ${pattern}\n${this.output()}`)),
      );
    });
  }

  /** SIGTERM, then SIGKILL to the whole group after `graceMs`. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM', false);
    const timer = setTimeout(() => this.signal('SIGKILL', true), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL to the whole group at once (while the process runs). */
  kill(): void {
    if (this.running) this.signal('SIGKILL', true);
  }

  private signal(signal: NodeJS.Signals, group: boolean): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(group ? -pid : pid, signal);
    } catch {
      // Already gone.
    }
  }

  private push(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      for (const listener of this.listeners) listener(line);
    }
    const keep = this.options.keepLines ?? 200;
    if (this.lines.length > keep) this.lines.splice(0, this.lines.length - keep);
  }
}

/** Stops every process still running (used on exit and on Ctrl-C). */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...live].map((proc) => proc.stop(5_000)));
}

/** Kills every process still running, synchronously (last resort in an exit handler). */
export function killAll(): void {
  for (const proc of live) proc.kill();
}
