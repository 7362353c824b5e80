export { createLogger, REDACT_PATHS } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export {
  MeshConfigSchema,
  ServerConfigSchema,
  StdioServerConfigSchema,
  HttpServerConfigSchema,
  NatsConfigSchema,
  IngressConfigSchema,
  AuditConfigSchema,
  ViewConfigSchema,
  parseMeshConfig,
  loadMeshConfig,
  isStdioServer,
} from './config.js';
export type {
  MeshConfig,
  MeshConfigInput,
  ServerConfig,
  StdioServerConfig,
  HttpServerConfig,
  IngressConfig,
  AuditConfig,
  ViewConfig,
  ViewEntry,
  CacheRule,
} from './config.js';
export { batchWrites, connectNats } from './nats.js';
export type { ConnectNatsOptions } from './nats.js';
export { Shutdown } from './shutdown.js';
export { tuneHeap } from './heap.js';
// Kept here too: the CLI and others format option errors with it.
