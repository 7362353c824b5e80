import { jetstreamManager, RetentionPolicy, StorageType, DiscardPolicy, type StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_SUBJECT_PREFIX, Subjects, perPrefixName } from '@mcp-mesh/protocol';

export const AUDIT_STREAM = 'MCP_AUDIT';

export interface AuditStreamOptions {
  name?: string;
  prefix?: string;
  /** Events older than this are removed, milliseconds (default 30 days). */
  maxAgeMs?: number;
  /** The stream never grows past this, bytes (default 1 GiB); the oldest events go first. */
  maxBytes?: number;
  replicas?: number;
  /** Re-published events with an id seen within this window are stored once (default 2 minutes, as nats-server's own default: nats-server keeps every id of the window in memory). */
  duplicateWindowMs?: number;
}

const ms = (value: number) => value * 1_000_000;

/** `MCP_AUDIT` for the default prefix; meshes with another prefix on the same account get their own stream. */
export function auditStreamName(prefix: string = DEFAULT_SUBJECT_PREFIX): string {
  return perPrefixName(AUDIT_STREAM, prefix).toUpperCase();
}

export function auditStreamConfig(options: AuditStreamOptions = {}): Partial<StreamConfig> & { name: string; subjects: string[] } {
  const subjects = new Subjects(options.prefix);
  return {
    name: options.name ?? auditStreamName(options.prefix),
    subjects: [subjects.auditAll()],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: ms(options.maxAgeMs ?? 30 * 24 * 3_600_000),
    max_bytes: options.maxBytes ?? 1024 ** 3,
    num_replicas: options.replicas ?? 1,
    duplicate_window: ms(options.duplicateWindowMs ?? 2 * 60_000),
    description: 'mcp-mesh audit events: one per client request, session and denial',
  };
}

/**
 * Creates the audit stream when it is missing. An existing stream is left as its operator set it
 * (another ingress, started with other flags, must not shrink its replicas or limits): only its
 * subjects are fixed if they no longer capture this mesh's events. Returns what differs.
 */
export async function ensureAuditStream(
  nc: NatsConnection,
  options: AuditStreamOptions = {},
): Promise<{ outcome: 'created' | 'updated' | 'unchanged'; differences: string[] }> {
  const jsm = await jetstreamManager(nc);
  const wanted = auditStreamConfig(options);
  try {
    const info = await jsm.streams.info(wanted.name);
    const current = info.config;
    const differences: string[] = [];
    if (current.max_age !== wanted.max_age) differences.push(`max_age ${current.max_age} (configured ${wanted.max_age})`);
    if (current.max_bytes !== wanted.max_bytes) differences.push(`max_bytes ${current.max_bytes} (configured ${wanted.max_bytes})`);
    if (current.num_replicas !== wanted.num_replicas)
      differences.push(`replicas ${current.num_replicas} (configured ${wanted.num_replicas})`);
    if (current.duplicate_window !== wanted.duplicate_window)
      differences.push(`duplicate_window ${current.duplicate_window} (configured ${wanted.duplicate_window})`);
    if (!wanted.subjects.every((subject) => current.subjects.includes(subject))) {
      await jsm.streams.update(wanted.name, { ...current, subjects: [...new Set([...current.subjects, ...wanted.subjects])] } as never);
      return { outcome: 'updated', differences };
    }
    return { outcome: 'unchanged', differences };
  } catch (error) {
    if (!/not found/i.test((error as Error).message)) throw error;
    try {
      await jsm.streams.add(wanted);
      return { outcome: 'created', differences: [] };
    } catch (addError) {
      // Another process created it between our info and add.
      if (/already in use|exists/i.test((addError as Error).message)) return { outcome: 'unchanged', differences: [] };
      throw addError;
    }
  }
}
