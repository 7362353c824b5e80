import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { serializeMessage, type JSONRPCMessage, type Transport } from '@modelcontextprotocol/client';
import { startWatchdog, stopWatchdog } from './watchdog.js';

export interface ChildTransportOptions {
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd?: string | undefined;
  /** Lines the child writes to stderr. */
  onStderr?: (line: string) => void;
  /** How long `close()` waits after SIGTERM before SIGKILL, milliseconds. */
  killGraceMs?: number;
}

/**
 * The MCP stdio transport for an upstream server, owned by the bridge: the child runs in its own
 * process group (so `npx` wrappers and grandchildren are stopped with it), is watched by a
 * watchdog, and reports how it exited. Writes use the SDK's serializeMessage; reads use
 * `LineReader`, which checks the JSON-RPC envelope only (the bridge relays results untouched, so
 * it does not validate their content as the SDK's client-side reader does).
 */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private readonly buffer = new LineReader();
  private closed = false;
  private corked = false;
  /** Why the child ended, once it has. */
  exitReason: string | undefined;

  constructor(private readonly options: ChildTransportOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<void> {
    if (this.child) throw new Error('ChildProcessTransport already started');
    const child = spawn(this.options.command, [...this.options.args], {
      env: this.options.env,
      cwd: this.options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      shell: false,
      windowsHide: true,
    });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.buffer.append(chunk);
      this.drainBuffer();
    });
    let stderrRest = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (stderrRest + chunk.toString('utf8')).split('\n');
      stderrRest = lines.pop() ?? '';
      for (const line of lines) if (line.length > 0) this.options.onStderr?.(line);
    });
    child.stdin?.on('error', (error) => this.onerror?.(error));
    child.on('exit', (code, signal) => {
      this.exitReason = signal ? `killed by ${signal}` : `exited with code ${code}`;
      // What the leader left behind (an npx wrapper's server, say) goes with it.
      this.signalGroup(child, 'SIGKILL');
      this.finish();
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (error) => {
        this.exitReason = `could not start '${this.options.command}': ${error.message}`;
        reject(new Error(this.exitReason, { cause: error }));
        this.finish();
      });
    });
    if (child.pid !== undefined) this.watchdog = startWatchdog(child.pid);
  }

  private drainBuffer(): void {
    for (const line of this.buffer.lines()) {
      let message: JSONRPCMessage;
      try {
        message = parseJsonRpcLine(line);
      } catch (error) {
        this.onerror?.(error as Error);
        continue;
      }
      this.onmessage?.(message);
    }
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.child?.stdin;
    if (!stdin || this.closed) throw new Error('upstream process is not running');
    // The requests of one event-loop turn (a NATS read often holds several) go to the child in one
    // write: cork now, uncork at the end of the turn.
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      setImmediate(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    if (!stdin.write(serializeMessage(message))) await once(stdin, 'drain');
  }

  /** Stops the child's whole process group: SIGTERM, then SIGKILL after the grace period. */
  async close(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.finish();
      return;
    }
    child.stdin?.end();
    const exited = once(child, 'exit');
    this.signalGroup(child, 'SIGTERM');
    const timer = setTimeout(() => this.signalGroup(child, 'SIGKILL'), this.options.killGraceMs ?? 2_000);
    await exited;
    clearTimeout(timer);
    // Grandchildren that ignored SIGTERM must not outlive the group leader.
    this.signalGroup(child, 'SIGKILL');
    this.finish();
  }

  private signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) stopWatchdog(this.watchdog);
    this.buffer.clear();
    this.onclose?.();
  }
}

const NEWLINE = 0x0a;

/** Splits a byte stream into newline-delimited lines; a line may span many chunks. */
export class LineReader {
  private chunks: Buffer[] = [];

  append(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** The complete lines received so far (without their newline), in order. */
  *lines(): Generator<string> {
    const last = this.chunks.at(-1);
    // A line ends only in the newest chunk (older ones were scanned when they arrived).
    if (last === undefined || last.indexOf(NEWLINE) < 0) return;
    const joined = this.chunks.length === 1 ? last : Buffer.concat(this.chunks);
    this.chunks = [];
    let start = 0;
    for (let end = joined.indexOf(NEWLINE, start); end >= 0; end = joined.indexOf(NEWLINE, start)) {
      const stop = end > start && joined[end - 1] === 0x0d ? end - 1 : end;
      if (stop > start) yield joined.toString('utf8', start, stop);
      start = end + 1;
    }
    if (start < joined.length) this.chunks.push(joined.subarray(start));
  }

  clear(): void {
    this.chunks = [];
  }
}

/** One line from the upstream as a JSON-RPC message: JSON, an object, `jsonrpc: "2.0"`; nothing else is checked. */
export function parseJsonRpcLine(line: string): JSONRPCMessage {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new Error(`the upstream wrote a line that is not JSON (${(error as Error).message}): ${line.slice(0, 200)}`, { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || (value as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    throw new Error(`the upstream wrote a line that is not a JSON-RPC 2.0 message: ${line.slice(0, 200)}`);
  }
  return value as JSONRPCMessage;
}
