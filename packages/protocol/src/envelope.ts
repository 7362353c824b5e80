import { z } from 'zod';

/**
 * The body of one mesh request on `mcp.v1.srv.<server>.<method>`: the MCP method and its params,
 * forwarded as they are (loose: payloads we forward are not ours to reshape).
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
