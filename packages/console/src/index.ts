export { MeshConsole } from './console.js';
export type { MeshConsoleOptions } from './console.js';
export { StatsWindow } from './stats-window.js';
export type { StatsWindowOptions, Outcome } from './stats-window.js';
export { CONTENT_SECURITY_POLICY } from './http.js';
export type { ConsoleIngress } from './mesh-view.js';
export { ServerHealth } from './api-types.js';
export type {
  ApiError,
  AuditStatus,
  CallRequest,
  CallResponse,
  CatalogResponse,
  CatalogServer,
  ConsoleConfig,
  LiveStats,
  ReplicaView,
  ServerSummary,
  ToolView,
  WindowStats,
} from './api-types.js';
