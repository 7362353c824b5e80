import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { z } from 'zod';
import { readAudit, type AuditFilter } from '@mcp-mesh/audit';
import { MeshError, type AuditEvent } from '@mcp-mesh/protocol';
import { connectNats } from '@mcp-mesh/runtime';
import { natsUrlFrom, parseOptions } from '../options.js';
import { colour, say, warn } from '../output.js';

const DURATION = /^(\d+)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `2026-11-25T10:00:00Z`, or a duration back from now: `90s`, `15m`, `2h`, `7d`. */
export function parseTime(value: string, now = Date.now()): Date {
  const relative = DURATION.exec(value);
  if (relative) return new Date(now - Number(relative[1]) * UNIT_MS[relative[2] as keyof typeof UNIT_MS]);
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new MeshError('MESH_INVALID_PARAMS', `'${value}' is neither an ISO time nor a duration like 15m, 2h, 7d`);
  return new Date(time);
}

const TimeSchema = z.string().transform((value, ctx) => {
  try {
    return parseTime(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

export const AuditOptionsSchema = z.object({
  natsUrl: z.string().optional(),
  prefix: z.string().optional(),
  server: z.string().optional(),
  tool: z.string().optional(),
  principal: z.string().optional(),
  outcome: z.enum(['ok', 'tool_error', 'error', 'denied']).optional(),
  kind: z.enum(['request', 'session.start', 'session.end', 'auth.failure', 'policy.denial']).optional(),
  since: TimeSchema.optional(),
  until: TimeSchema.optional(),
  limit: z.coerce.number().int().positive().optional(),
  json: z.boolean().default(false),
  output: z.string().optional(),
});
type AuditOptions = z.infer<typeof AuditOptionsSchema>;

function filterOf(options: AuditOptions): AuditFilter {
  return {
    ...(options.server ? { server: options.server } : {}),
    ...(options.tool ? { tool: options.tool } : {}),
    ...(options.principal ? { principal: options.principal } : {}),
    ...(options.outcome ? { outcome: options.outcome } : {}),
    ...(options.kind ? { kind: options.kind } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.until ? { until: options.until } : {}),
  };
}

function line(event: AuditEvent): string {
  const outcome = event.outcome === 'ok' ? colour.green('ok') : colour.red(event.outcome);
  const what = [event.server, event.method, event.target].filter(Boolean).join(' ');
  const latency = event.latencyMs === undefined ? '' : colour.dim(` ${event.latencyMs.toFixed(1)}ms`);
  const code = event.errorCode ? colour.red(` ${event.errorCode}`) : '';
  const trace = event.traceId ? colour.dim(` trace=${event.traceId}`) : '';
  return `${event.time} ${event.kind.padEnd(13)} ${outcome}${code} ${what}${latency} ${colour.dim(event.principal ?? '')}${trace}`;
}

/** `mcp-mesh audit tail|query|export`. */
export async function runAudit(mode: 'tail' | 'query' | 'export', input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = parseOptions(AuditOptionsSchema, input, `audit ${mode}`);
  const nc = await connectNats({ url: natsUrlFrom(options.natsUrl, env), name: `mcp-mesh-audit-${mode}` });
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  const out = mode === 'export' && options.output ? createWriteStream(options.output) : undefined;
  let count = 0;
  try {
    const events = readAudit({
      nc,
      filter: { ...filterOf(options), ...(mode === 'tail' && !options.since ? { since: new Date() } : {}) },
      follow: mode === 'tail',
      signal: abort.signal,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
      ...(mode === 'export' ? { onProgress: (read: number, total: number) => warn(colour.dim(`read ${read} of ${total} events…`)) } : {}),
    });
    for await (const event of events) {
      count++;
      if (out) {
        if (!out.write(`${JSON.stringify(event)}\n`)) await once(out, 'drain');
      } else if (mode === 'export' || options.json) {
        say(JSON.stringify(event));
      } else {
        say(line(event));
      }
    }
    if (mode !== 'tail') warn(colour.dim(`${count} event(s)${out ? ` written to ${options.output}` : ''}`));
    return 0;
  } catch (error) {
    if (/stream not found/i.test((error as Error).message)) {
      throw new MeshError(
        'MESH_INVALID_CONFIG',
        'there is no MCP_AUDIT stream on this NATS server yet: an ingress creates it when it starts',
      );
    }
    throw error;
  } finally {
    process.off('SIGINT', stop);
    if (out) {
      out.end();
      await once(out, 'finish');
    }
    await nc.drain();
  }
}
