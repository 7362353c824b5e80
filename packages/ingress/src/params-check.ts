import { z } from 'zod';

const Cursor = z.object({ cursor: z.string({ error: 'cursor must be a string' }).optional() }).passthrough();
const Named = z
  .object({
    name: z.string({ error: 'name must be a string' }),
    arguments: z.record(z.string(), z.unknown(), { error: 'arguments must be an object' }).optional(),
  })
  .passthrough();
const PromptArgs = Named.extend({
  arguments: z
    .record(z.string(), z.string({ error: 'prompt arguments must be strings' }), { error: 'arguments must be an object' })
    .optional(),
});
/** MCP log levels, least severe first. */
export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const;

const Uri = z.object({ uri: z.string({ error: 'uri must be a string' }) }).passthrough();

/**
 * The params of the methods the mesh routes, checked before the SDK sees them: the SDK answers a
 * malformed request of these methods with -32603 and a raw schema dump; the mesh answers -32602
 * naming the field.
 */
const PARAMS: Record<string, z.ZodType> = {
  initialize: z
    .object({
      protocolVersion: z.string({ error: 'protocolVersion must be a string' }),
      capabilities: z.record(z.string(), z.unknown(), { error: 'capabilities must be an object' }),
      clientInfo: z
        .object({
          name: z.string({ error: 'clientInfo.name must be a string' }),
          version: z.string({ error: 'clientInfo.version must be a string' }),
        })
        .passthrough(),
    })
    .passthrough(),
  'tools/list': Cursor,
  'prompts/list': Cursor,
  'resources/list': Cursor,
  'resources/templates/list': Cursor,
  'tools/call': Named,
  'prompts/get': PromptArgs,
  'resources/read': Uri,
  'resources/subscribe': Uri,
  'resources/unsubscribe': Uri,
  'logging/setLevel': z
    .object({
      level: z.enum(LOG_LEVELS, {
        error: 'level must be an MCP log level',
      }),
    })
    .passthrough(),
};

/** Problems with a request's params (empty when fine or when the method is not one the mesh checks). */
export function paramsProblems(method: string | undefined, params: unknown): string[] {
  const schema = method === undefined ? undefined : PARAMS[method];
  if (!schema) return [];
  const result = schema.safeParse(params ?? {});
  return result.success ? [] : result.error.issues.map((issue) => `${['params', ...issue.path.map(String)].join('.')}: ${issue.message}`);
}
