export { AUDIT_STREAM, auditStreamConfig, auditStreamName, ensureAuditStream } from './stream.js';
export type { AuditStreamOptions } from './stream.js';
export { AuditPublisher } from './publisher.js';
export type { AuditPublisherOptions, AuditStats } from './publisher.js';
export { Outbox } from './outbox.js';
export type { OutboxEntry, OutboxOptions, Segment } from './outbox.js';
export { readAudit, matches } from './reader.js';
export type { AuditFilter, ReadAuditOptions } from './reader.js';
