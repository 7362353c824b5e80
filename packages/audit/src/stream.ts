import { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Subjects } from '@mcp-mesh/protocol';

export const AUDIT_STREAM = 'MCP_AUDIT';

export interface AuditStreamOptions {
  name?: string;
  prefix?: string;
  /** Events older than this are removed, milliseconds (default 30 days). */
  maxAgeMs?: number;
  /** The stream never grows past this, bytes (default 1 GiB); the oldest events go first. */
  maxBytes?: number;
  replicas?: number;
  /** Re-published events with an id seen within this window are stored once (default 20 minutes). */
  duplicateWindowMs?: number;
}

const ms = (value: number) => value * 1_000_000;

export function auditStreamConfig(options: AuditStreamOptions = {}): Partial<StreamConfig> & { name: string; subjects: string[] } {
  const subjects = new Subjects(options.prefix);
  return {
    name: options.name ?? AUDIT_STREAM,
    subjects: [subjects.auditAll()],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: ms(options.maxAgeMs ?? 30 * 24 * 3_600_000),
    max_bytes: options.maxBytes ?? 1024 ** 3,
    num_replicas: options.replicas ?? 1,
    duplicate_window: ms(options.duplicateWindowMs ?? 20 * 60_000),
    description: 'mcp-mesh audit events: one per client request, session and denial',
  };
}

/** Creates the audit stream, or updates it to the wanted limits. Idempotent; safe from many processes at once. */
export async function ensureAuditStream(
  nc: NatsConnection,
  options: AuditStreamOptions = {},
): Promise<'created' | 'updated' | 'unchanged'> {
  const jsm = await jetstreamManager(nc);
  const wanted = auditStreamConfig(options);
  try {
    const info = await jsm.streams.info(wanted.name);
    const current = info.config;
    const same =
      JSON.stringify(current.subjects) === JSON.stringify(wanted.subjects) &&
      current.max_age === wanted.max_age &&
      current.max_bytes === wanted.max_bytes &&
      current.num_replicas === wanted.num_replicas &&
      current.duplicate_window === wanted.duplicate_window;
    if (same) return 'unchanged';
    await jsm.streams.update(wanted.name, { ...wanted, storage: undefined, retention: undefined } as never);
    return 'updated';
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
    try {
      await jsm.streams.add(wanted);
      return 'created';
    } catch (addError) {
      // Another process created it between our info and add.
      if (/already in use|exists/i.test((addError as Error).message)) return 'unchanged';
      throw addError;
    }
  }
}
