import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

import type { McpCaller } from './caller.js';
import { CallFailed, checkReply, initializeRequest, INITIALIZED_NOTIFICATION, toolCallTemplate, type JsonRpcReply } from './jsonrpc.js';

interface Pending {
  resolve: (reply: JsonRpcReply) => void;
  reject: (error: Error) => void;
}

/**
 * The floor: an MCP server as a child process, spoken to with newline-delimited JSON-RPC on its
 * stdin/stdout, requests pipelined (any number in flight) and matched to replies by id. No
 * schema validation and no re-encoding on the client side.
 */
export class StdioMcpSession implements McpCaller {
  private nextId = 1;
  private buffer = '';
  private readonly pending = new Map<number, Pending>();
  private readonly exited: Promise<void>;
  private closed = false;

  private constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.receive(chunk));
    child.stderr.resume();
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', (code, signal) => {
      const error = new CallFailed(`the server exited (${signal ?? `code ${code}`})`);
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
    });
  }

  static async open(command: string, args: string[]): Promise<StdioMcpSession> {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const session = new StdioMcpSession(child);
    try {
      checkReply(await session.send(0, initializeRequest(0)));
      child.stdin.write(`${INITIALIZED_NOTIFICATION}\n`);
    } catch (error) {
      await session.close();
      throw error;
    }
    return session;
  }

  get pid(): number {
    return this.child.pid!;
  }

  prepare(tool: string, args: Record<string, unknown>): () => Promise<void> {
    const body = toolCallTemplate(tool, args);
    return async () => {
      const id = this.nextId++;
      checkReply(await this.send(id, body(id)));
    };
  }

  private send(id: number, line: string): Promise<JsonRpcReply> {
    if (this.closed) return Promise.reject(new CallFailed('session closed'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin.write(`${line}\n`);
    });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let newline = this.buffer.indexOf('\n');
    while (newline !== -1) {
      const line = this.buffer.slice(0, newline);
      this.buffer = this.buffer.slice(newline + 1);
      newline = this.buffer.indexOf('\n');
      if (line.trim() === '') continue;
      const message = JSON.parse(line) as JsonRpcReply & { method?: string };
      if (typeof message.id !== 'number' || message.method !== undefined) continue;
      const entry = this.pending.get(message.id);
      if (!entry) continue;
      this.pending.delete(message.id);
      entry.resolve(message);
    }
  }

  /** Closes stdin (the MCP stdio shutdown), then SIGTERM/SIGKILL if the server lingers. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.end();
    const term = setTimeout(() => this.child.kill('SIGTERM'), 1_000);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(term);
    clearTimeout(kill);
  }
}
