/** NATS header names used between mesh processes. */
export const MeshHeader = {
  /** Kind of frame on a reply inbox: see {@link FrameKind}. */
  Frame: 'Mcp-Mesh-Frame',
  /** Absolute deadline of the call, epoch milliseconds. */
  Deadline: 'Mcp-Mesh-Deadline',
  /** Client session id at the ingress (opaque). */
  Session: 'Mcp-Mesh-Session',
  /** Authenticated principal that caused the call. */
  Caller: 'Mcp-Mesh-Caller',
  /** Stable mesh error code on error frames. */
  ErrorCode: 'Mcp-Mesh-Error',
  /** Bridge instance that answered. */
  Instance: 'Mcp-Mesh-Instance',
} as const;

/** Mesh-internal methods on instance subjects (never forwarded upstream). */
export const MeshMethod = {
  /** The client session ended: a per-client bridge closes that session's upstream. */
  SessionClose: 'mesh/session/close',
} as const;

/**
 * Frames on a call's reply inbox: zero or more `notification` frames (progress, logging) and
 * `request` frames (sampling, elicitation, roots, each answered on its own subject), then exactly
 * one `result` or `error` frame.
 */
export const FrameKind = {
  Result: 'result',
  Error: 'error',
  Notification: 'notification',
  /** A server->client request made during the call; the body names the subject to answer on. */
  Request: 'request',
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];
