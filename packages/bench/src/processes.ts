import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';

import { descendants } from './proc-stats.js';

const STDERR_KEEP = 8_192;

export interface SpawnSpec {
  /** Short name for progress lines and errors. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * A child the harness owns. It runs in its own process group so that a terminal's Ctrl-C reaches
 * only the harness, which then stops every child in order; `stop()` sends SIGTERM, waits, then
 * SIGKILLs the group and any descendant that escaped it (supergateway starts its servers in
 * groups of their own).
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  private stderrTail = '';
  private stopping: Promise<void> | undefined;

  constructor(readonly spec: SpawnSpec) {
    this.child = spawn(spec.command, spec.args, {
      env: spec.env ?? process.env,
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', (error) => {
        this.stderrTail += `\n[bench] could not start ${spec.name}: ${error.message}`;
        resolve();
      });
    });
    ProcessSet.global.add(this);
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.spec.name} has no pid (it failed to start):${this.stderr}`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.pid !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  /** SIGTERM, then SIGKILL (group and recorded descendants) after `graceMs`. Idempotent. */
  stop(graceMs = 5_000): Promise<void> {
    this.stopping ??= (async () => {
      if (!this.running) return;
      const pid = this.pid;
      const family = descendants(pid);
      this.child.kill('SIGTERM');
      const timer = new AbortController();
      await Promise.race([this.exited, delay(graceMs, undefined, { signal: timer.signal }).catch(() => undefined)]);
      timer.abort();
      killQuietly(-pid);
      if (this.running) this.child.kill('SIGKILL');
      await this.exited;
      // Let well-behaved children finish their own shutdown, then make sure nothing is left.
      await delay(100);
      for (const descendant of family) killQuietly(descendant);
      ProcessSet.global.delete(this);
    })();
    return this.stopping;
  }

  /** Synchronous last resort on process exit. */
  killNow(): void {
    if (this.child.pid === undefined) return;
    const family = descendants(this.child.pid);
    killQuietly(-this.child.pid);
    for (const pid of family) killQuietly(pid);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Every child the harness started. On Ctrl-C, SIGTERM or a crash of the harness they are stopped
 * (gracefully when there is time, SIGKILL on `exit`), so a benchmark never leaves processes behind.
 */
export class ProcessSet {
  static readonly global = new ProcessSet();
  private readonly live = new Set<ManagedProcess>();
  private readonly closers = new Set<() => Promise<void>>();
  private hooked = false;

  /**
   * Registers the graceful close of something that owns processes or files (a target: it drains
   * bridges, stops nats-server, removes temp directories); `stopAll()` runs it first. Returns the
   * function that unregisters it.
   */
  onStop(close: () => Promise<void>): () => void {
    this.closers.add(close);
    return () => this.closers.delete(close);
  }

  add(process: ManagedProcess): void {
    this.hook();
    this.live.add(process);
  }

  delete(process: ManagedProcess): void {
    this.live.delete(process);
  }

  /** Closes what registered a closer, then stops every remaining child, newest first. */
  async stopAll(): Promise<void> {
    const closers = [...this.closers].reverse();
    this.closers.clear();
    for (const close of closers) {
      await Promise.race([close().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    }
    const all = [...this.live].reverse();
    for (const child of all) await child.stop(3_000);
  }

  private hook(): void {
    if (this.hooked) return;
    this.hooked = true;
    process.once('exit', () => {
      for (const child of this.live) child.killNow();
    });
  }
}
