#!/usr/bin/env node
/**
 * A CPU-bound MCP server over stdio for the fan-out measurement: tool `hash {iterations}` burns
 * a fixed amount of CPU on one core and answers with the digest and its pid (so replicas can be told apart).
 * Usage: node cpu-server.js [--name <name>]
 */
import { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import * as z from 'zod/v4';

import { hashWork } from './cpu-work.js';

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
  return server;
});

process.stdin.once('end', () => {
  void handle.close().finally(() => process.exit(0));
});
