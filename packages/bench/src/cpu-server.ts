#!/usr/bin/env node
/**
 * A CPU-bound MCP server over stdio for the fan-out measurement: tool `hash {iterations}` burns
 * a fixed amount of CPU on one core and answers with the digest and its pid (so replicas can be told apart);
 * tool `block {ms}` holds the server for that long without CPU.
 * Usage: node cpu-server.js [--name <name>]
 */
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod/v4';

import { hashWork } from './cpu-work.js';

const BLOCKER = new Int32Array(new SharedArrayBuffer(4));
const nameFlag = process.argv.indexOf('--name');
const name = nameFlag === -1 ? 'cpu' : (process.argv[nameFlag + 1] ?? 'cpu');

const handle = serveStdio(() => {
  const server = new McpServer({ name, version: '0.1.0' });
  server.registerTool(
    'hash',
    {
      description: 'Chains FNV-1a over 1 KiB `iterations` times (fixed CPU work, no allocation); answers with the hash and the pid',
      inputSchema: z.object({ iterations: z.number().int().min(1).max(10_000_000) }),
    },
    async ({ iterations }) => ({ content: [{ type: 'text' as const, text: `${hashWork(iterations)} pid=${process.pid}` }] }),
  );
  server.registerTool(
    'block',
    {
      description:
        'Blocks the server for `ms` milliseconds without using CPU (Atomics.wait), then answers with its pid: a server that serves one call at a time, for measuring how calls are spread over replicas apart from CPU contention',
      inputSchema: z.object({ ms: z.number().int().min(0).max(60_000) }),
    },
    async ({ ms }) => {
      Atomics.wait(BLOCKER, 0, 0, ms);
      return { content: [{ type: 'text' as const, text: `blocked ${ms} pid=${process.pid}` }] };
    },
  );
  return server;
});

process.stdin.once('end', () => {
  void handle.close().finally(() => process.exit(0));
});
