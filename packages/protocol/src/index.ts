export {
  DEFAULT_SUBJECT_PREFIX,
  Subjects,
  RegistryKind,
  encodeToken,
  decodeToken,
  methodTokens,
  assertPrefix,
  perPrefixName,
  MESH_AUDIT_SERVER,
} from './subjects.js';
export { MeshHeader, FrameKind, MeshMethod } from './headers.js';
export { ErrorCodes, JsonRpcCode, MeshError, isErrorCode, meshCodeOf } from './errors.js';
export type { ErrorCode, WireError } from './errors.js';
export {
  CallRequestSchema,
  WireErrorSchema,
  ResultFrameSchema,
  ErrorFrameSchema,
  NotificationFrameSchema,
  ModernMetaKey,
  MODERN_ERA_FIRST_REVISION,
  modernRevisionOf,
  withoutModernMaterial,
} from './envelope.js';
export type { CallRequest, NotificationFrame } from './envelope.js';
export {
  SERVER_NAME_PATTERN,
  ServerNameSchema,
  BridgeStateSchema,
  ListDigestsSchema,
  BridgeDescriptorSchema,
  ByeSchema,
  MAX_NATS_CLUSTER_LENGTH,
} from './descriptor.js';
export type { BridgeState, ListDigests, BridgeDescriptor, Bye } from './descriptor.js';
export {
  TOOL_NAME_PATTERN,
  DEFAULT_SEPARATOR,
  MAX_TOOL_NAME,
  namespacedName,
  splitNamespacedName,
  meshResourceUri,
  parseMeshResourceUri,
  digestOf,
} from './names.js';
export { replicaBoundId, parseReplicaBoundId } from './replica-ids.js';
export { HELD_INPUT_KEY, HeldInputStateSchema, encodeHeldInputState, isHeldInputState, parseHeldInputState } from './held-input.js';
export type { HeldInputState } from './held-input.js';
export { ForwardedMethods, ReadOnlyMethods, isForwardedMethod, ListMethods, ListKinds } from './methods.js';
export type { ForwardedMethod, ListKind } from './methods.js';
export { AuditEventSchema, AuditEventKind, AuditOutcome, newAuditEventId, argsDigest } from './audit-event.js';
export type { AuditEvent, AuditSink } from './audit-event.js';
export { ServerNameKeySchema, deepFreeze, formatIssues, invalidConfig } from './config-schema.js';
