import { z } from 'zod';

/** Server names: one subject token, and never the namespacing separator `__`. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;

export const ServerNameSchema = z
  .string()
  .regex(SERVER_NAME_PATTERN, 'server names are 1-48 characters of A-Z a-z 0-9 _ -, starting with a letter or digit')
  .refine((name) => !name.includes('__'), 'server names must not contain "__" (it separates server and tool names)');

export const BridgeStateSchema = z.enum(['starting', 'ready', 'upstream-down', 'draining']);
export type BridgeState = z.infer<typeof BridgeStateSchema>;

/** Digests of the upstream's lists; a change tells every ingress to refetch and notify clients. */
export const ListDigestsSchema = z.object({
  tools: z.string().optional(),
  prompts: z.string().optional(),
  resources: z.string().optional(),
  resourceTemplates: z.string().optional(),
});
export type ListDigests = z.infer<typeof ListDigestsSchema>;

/** Longest NATS cluster name a descriptor carries (a bridge leaves out a longer one). */
export const MAX_NATS_CLUSTER_LENGTH = 256;

/**
 * What a bridge announces on `mcp.v1.registry.announce` and repeats on `...heartbeat`.
 * `ttlMs`: a replica not heard from for this long is considered gone.
 */
export const BridgeDescriptorSchema = z.object({
  v: z.literal(1),
  server: ServerNameSchema,
  instance: z.string().min(1).max(128),
  state: BridgeStateSchema,
  upstream: z.object({ kind: z.enum(['stdio', 'http']), target: z.string() }),
  serverInfo: z.object({ name: z.string(), version: z.string() }).passthrough().optional(),
  protocolVersion: z.string().optional(),
  capabilities: z.record(z.string(), z.unknown()).optional(),
  instructions: z.string().optional(),
  digests: ListDigestsSchema,
  counts: z.object({ tools: z.number(), prompts: z.number(), resources: z.number(), resourceTemplates: z.number() }).partial(),
  startedAt: z.string(),
  restarts: z.number().int().nonnegative(),
  ttlMs: z.number().int().positive(),
  inFlight: z.number().int().nonnegative(),
  /** How client sessions map to upstream sessions on this replica. */
  sessionMode: z.enum(['shared', 'per-client']).optional(),
  /** The NATS cluster the bridge is connected to (from the server's INFO): ingresses prefer replicas in their own. */
  natsCluster: z.string().max(MAX_NATS_CLUSTER_LENGTH).optional(),
  /** When this copy was published (the sender's clock), for clock-skew checks. */
  sentAt: z.string().optional(),
});
export type BridgeDescriptor = z.infer<typeof BridgeDescriptorSchema>;

export const ByeSchema = z.object({ v: z.literal(1), server: z.string(), instance: z.string() });
export type Bye = z.infer<typeof ByeSchema>;
