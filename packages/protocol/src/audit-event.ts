import { createHash, randomFillSync } from 'node:crypto';
import { z } from 'zod';

/** Version 1 of the audit event, as stored in the MCP_AUDIT stream. docs/observability.md documents every field. */
export const AuditEventKind = {
  Request: 'request',
  SessionStart: 'session.start',
  SessionEnd: 'session.end',
  AuthFailure: 'auth.failure',
  PolicyDenial: 'policy.denial',
} as const;
export type AuditEventKind = (typeof AuditEventKind)[keyof typeof AuditEventKind];

export const AuditOutcome = {
  Ok: 'ok',
  ToolError: 'tool_error',
  Error: 'error',
  Denied: 'denied',
} as const;
export type AuditOutcome = (typeof AuditOutcome)[keyof typeof AuditOutcome];

export const AuditEventSchema = z
  .object({
    v: z.literal(1),
    /** Unique id; also the JetStream `Nats-Msg-Id`, so a re-published event is stored once. */
    id: z.string().min(8).max(64),
    time: z.iso.datetime(),
    kind: z.enum(AuditEventKind),
    traceId: z
      .string()
      .regex(/^[0-9a-f]{32}$/)
      .optional(),
    spanId: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
    session: z.string().max(128).optional(),
    principal: z.string().max(256).optional(),
    /** Which credential authenticated the principal (an API key's id), to follow key rotations. */
    keyId: z.string().max(128).optional(),
    /** `/mcp` or `/servers/<name>/mcp`. */
    endpoint: z.string().max(256).optional(),
    server: z.string().max(64).optional(),
    method: z.string().max(128).optional(),
    /** Tool or prompt name as the server knows it, or the resource URI. */
    target: z.string().max(2048).optional(),
    /** sha256 (hex) of the canonical JSON of the arguments: proves what was sent without storing it. */
    argsDigest: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    /** Full arguments, only when `audit.includeArguments` is enabled (and secrets redacted). */
    args: z.unknown().optional(),
    outcome: z.enum(AuditOutcome),
    /** The mesh's stable code, or `jsonrpc:<code>` for an upstream error. */
    errorCode: z.string().max(64).optional(),
    latencyMs: z.number().nonnegative().optional(),
    bytesIn: z.number().int().nonnegative().optional(),
    bytesOut: z.number().int().nonnegative().optional(),
  })
  .strict();
export type AuditEvent = z.infer<typeof AuditEventSchema>;

/** Where the ingress sends audit events; the audit package's publisher implements it. */
export interface AuditSink {
  /** Records one event; never throws and never blocks the call it describes. */
  record(event: AuditEvent): void;
}

/** Random bytes for event ids, drawn 4 KiB at a time: `randomBytes(8)` per event cost ~5 µs, a pooled slice ~0.2 µs. */
const idRandom = Buffer.alloc(4_096);
let idRandomOffset = idRandom.length;

/** Time-ordered unique id: 12 hex of milliseconds, then 16 random hex. */
export function newAuditEventId(now = Date.now()): string {
  if (idRandomOffset + 8 > idRandom.length) {
    randomFillSync(idRandom);
    idRandomOffset = 0;
  }
  const random = idRandom.toString('hex', idRandomOffset, idRandomOffset + 8);
  idRandomOffset += 8;
  return `${now.toString(16).padStart(12, '0')}${random}`;
}

/** JSON with object keys sorted at every level, so equal arguments always digest the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** sha256 (hex) of the canonical JSON of tool or prompt arguments: proves what was sent without storing it. */
export function argsDigest(args: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(args ?? {}))
    .digest('hex');
}
