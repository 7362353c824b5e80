import { z } from 'zod';

/**
 * The body of one mesh request on `mcp.v1.srv.<server>.<method>`: the MCP method and its params,
 * forwarded as they are (loose: payloads we forward are not ours to reshape). A 2026-07-28 request's
 * params keep the client's envelope (`_meta` keys of {@link ModernMetaKey}) and its multi-round-trip
 * fields (`inputResponses`, `requestState`): the bridge sends them to a modern upstream untouched.
 */
export const CallRequestSchema = z
  .object({
    method: z.string().min(1),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CallRequest = z.infer<typeof CallRequestSchema>;

export const WireErrorSchema = z.object({
  code: z.number().int(),
  message: z.string(),
  data: z.unknown().optional(),
});

/** Final frame of a call: exactly one of result or error. */
export const ResultFrameSchema = z.object({ result: z.record(z.string(), z.unknown()) }).strict();
export const ErrorFrameSchema = z.object({ error: WireErrorSchema }).strict();

/** Intermediate frame: a notification that belongs to the call (progress, logging). */
export const NotificationFrameSchema = z
  .object({
    notification: z.object({ method: z.string(), params: z.record(z.string(), z.unknown()).optional() }),
  })
  .strict();
export type NotificationFrame = z.infer<typeof NotificationFrameSchema>;

/**
 * The reserved `_meta` keys of the 2026-07-28 per-request envelope. A modern client's request carries
 * them in `params._meta` from the ingress to the bridge exactly as the client sent them, next to the
 * multi-round-trip retry fields (`inputResponses`, `requestState`), so a modern upstream sees the
 * request as the client made it.
 */
export const ModernMetaKey = {
  ProtocolVersion: 'io.modelcontextprotocol/protocolVersion',
  ClientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  ClientInfo: 'io.modelcontextprotocol/clientInfo',
  LogLevel: 'io.modelcontextprotocol/logLevel',
} as const;
const MODERN_META_KEYS: readonly string[] = Object.values(ModernMetaKey);
/** Top-level params of a multi-round-trip retry (SEP-2322), reserved on client requests. */
export const RETRY_PARAM_KEYS = ['inputResponses', 'requestState'] as const;

/** The first protocol revision of the modern (stateless) era; revisions are dates, so they order as strings. */
export const MODERN_ERA_FIRST_REVISION = '2026-07-28';

/** The envelope as the mesh reads it (loose: the upstream validates the rest). */
export const ModernEnvelopeSchema = z
  .object({
    [ModernMetaKey.ProtocolVersion]: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    [ModernMetaKey.ClientCapabilities]: z.record(z.string(), z.unknown()).optional(),
    [ModernMetaKey.ClientInfo]: z.record(z.string(), z.unknown()).optional(),
    [ModernMetaKey.LogLevel]: z.string().optional(),
  })
  .passthrough();

/**
 * The modern revision a request's params claim, or undefined for a legacy-era request (no claim, a
 * malformed one, or a 2025 revision).
 */
export function modernRevisionOf(params: Record<string, unknown> | undefined): string | undefined {
  const meta = params?._meta;
  if (typeof meta !== 'object' || meta === null || !(ModernMetaKey.ProtocolVersion in meta)) return undefined;
  const parsed = ModernEnvelopeSchema.safeParse(meta);
  if (!parsed.success) return undefined;
  const revision = parsed.data[ModernMetaKey.ProtocolVersion];
  return revision >= MODERN_ERA_FIRST_REVISION ? revision : undefined;
}

/** The params without the modern envelope and retry fields: what a legacy-era upstream is sent. */
export function withoutModernMaterial(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (params === undefined) return undefined;
  const next: Record<string, unknown> = { ...params };
  for (const key of RETRY_PARAM_KEYS) delete next[key];
  const meta = params._meta;
  if (typeof meta === 'object' && meta !== null) {
    const rest = Object.fromEntries(Object.entries(meta).filter(([key]) => !MODERN_META_KEYS.includes(key)));
    if (Object.keys(rest).length > 0) next._meta = rest;
    else delete next._meta;
  }
  return next;
}
