import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { DEFAULT_SUBJECT_PREFIX, MeshError, ServerNameKeySchema, deepFreeze, formatIssues, invalidConfig } from '@mcp-mesh/protocol';

const EnvNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'environment variable names are [A-Za-z_][A-Za-z0-9_]*');

const CommonServerFields = {
  /** Accepted for compatibility with desktop client configs. */
  type: z.enum(['stdio', 'http', 'streamable-http', 'streamableHttp', 'sse']).optional(),
  disabled: z.boolean().optional(),
  replicas: z.number().int().min(1).max(32).optional(),
  /** Deadline of one call to this server, milliseconds. */
  timeoutMs: z.number().int().min(10).max(3_600_000).optional(),
  /**
   * `shared`: one upstream session per bridge replica, multiplexed (default). `per-client`: one
   * upstream session per client session, for servers that keep state or call back into the client.
   */
  sessionMode: z.enum(['shared', 'per-client']).optional(),
  /**
   * Protects the upstream: calls per second each bridge replica lets through (token bucket with
   * burst), whatever ingress replica they come from. Past it: MESH_RATE_LIMITED with retryAfterMs.
   */
  rateLimit: z
    .object({ ratePerSec: z.number().positive().max(1_000_000), burst: z.number().int().min(1).max(1_000_000) })
    .strict()
    .optional(),
  description: z.string().optional(),
};

export const StdioServerConfigSchema = z
  .object({
    command: z.string().min(1, 'command must not be empty'),
    args: z.array(z.string()).default([]),
    env: z.record(EnvNameSchema, z.string()).default({}),
    /** Names of variables of the mesh's own environment passed through to the server. */
    envPassthrough: z.array(EnvNameSchema).default([]),
    cwd: z.string().optional(),
    ...CommonServerFields,
  })
  .strict();

export const HttpServerConfigSchema = z
  .object({
    url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
    headers: z.record(z.string(), z.string()).default({}),
    ...CommonServerFields,
  })
  .strict();

export type StdioServerConfig = z.infer<typeof StdioServerConfigSchema>;
export type HttpServerConfig = z.infer<typeof HttpServerConfigSchema>;
export type ServerConfig = StdioServerConfig | HttpServerConfig;

/**
 * A server is stdio (`command`) or remote (`url`); the kind is chosen by which key is present so
 * that every problem is reported against the right fields (a union would only say "no match").
 */
export const ServerConfigSchema = z.unknown().transform((value, ctx): ServerConfig => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'a server is an object with "command" (stdio) or "url" (Streamable HTTP)' });
    return z.NEVER;
  }
  const hasCommand = 'command' in value;
  const hasUrl = 'url' in value;
  if (hasCommand === hasUrl) {
    const keys = Object.keys(value);
    ctx.addIssue({
      code: 'custom',
      message: hasCommand
        ? 'give "command" (stdio) or "url" (Streamable HTTP), not both'
        : `a server needs "command" (stdio) or "url" (Streamable HTTP); found only: ${keys.join(', ') || 'nothing'}`,
    });
    return z.NEVER;
  }
  const result = (hasCommand ? StdioServerConfigSchema : HttpServerConfigSchema).safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return result.data;
});

export function isStdioServer(config: ServerConfig): config is StdioServerConfig {
  return 'command' in config;
}

export const NatsConfigSchema = z
  .object({
    url: z.string().min(1).default('nats://127.0.0.1:4222'),
    prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'prefix is dot-separated tokens of A-Z a-z 0-9 _ -')
      .default(DEFAULT_SUBJECT_PREFIX),
  })
  .strict();

export const IngressConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    /** Default deadline of one forwarded call, milliseconds. */
    requestTimeoutMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /** Per-server deadline when fanning a list out to every server. */
    listTimeoutMs: z.number().int().min(10).max(60_000).default(5_000),
    separator: z
      .string()
      .regex(/^[_-]{1,3}$/, 'separator is 1-3 characters of _ or -')
      .default('__'),
    allowedOrigins: z.array(z.string()).default([]),
    /**
     * SSE polling for long calls: close a call's response stream after this long (the client
     * reconnects with Last-Event-ID and gets the result from the session's event store). Off by default.
     */
    closeSseAfterMs: z.number().int().min(50).max(3_600_000).optional(),
    allowedHosts: z.array(z.string()).default([]),
    /**
     * Count the tokens of every tool result with a real tokenizer (gpt-tokenizer's o200k_base
     * ranks, held compactly) for the `mcp_mesh_tool_result_tokens` metric, after each answer is
     * sent. The ranks cost the ingress ~7 MB of RSS; false turns the metric off (token budgets,
     * when configured, load the tokenizer anyway).
     */
    countTokens: z.boolean().default(true),
    /**
     * Where a call goes when its server has several ready bridge replicas: `least-in-flight` sends
     * it to the replica with the fewest of this ingress's calls in flight (on its own subject);
     * `queue-group` leaves the choice to NATS, which picks at random.
     */
    balance: z.enum(['least-in-flight', 'queue-group']).default('least-in-flight'),
  })
  .strict();
export type IngressConfig = z.infer<typeof IngressConfigSchema>;

export const AuditConfigSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Local outbox directory (default ~/.mcp-mesh/outbox/ingress-<port>); one per ingress process. */
    dir: z.string().optional(),
    /** Store full tool and prompt arguments; by default only their sha256 digest. */
    includeArguments: z.boolean().default(false),
    maxAgeDays: z.number().positive().max(3650).default(30),
    maxBytes: z
      .number()
      .int()
      .positive()
      .default(1024 ** 3),
    replicas: z.number().int().min(1).max(5).default(1),
    duplicateWindowMs: z
      .number()
      .int()
      .min(1_000)
      .max(24 * 3_600_000)
      .default(2 * 60_000),
    /** Above this many bytes of unpublished events on disk new events are dropped (and counted). */
    maxOutboxBytes: z
      .number()
      .int()
      .positive()
      .default(512 * 1024 ** 2),
  })
  .strict();
export type AuditConfig = z.infer<typeof AuditConfigSchema>;

const ViewEntrySchema = z
  .object({
    server: z.string().min(1),
    /** Name glob (`*` any run of characters, `?` one); default every item of the server. */
    name: z.string().min(1).default('*'),
    /** Expose the item under this name (only for a name without wildcards). */
    as: z
      .string()
      .regex(/^[a-zA-Z0-9_-]{1,64}$/, 'names are 1-64 characters of a-z A-Z 0-9 _ -')
      .optional(),
    description: z.string().optional(),
  })
  .strict()
  .refine((entry) => entry.as === undefined || !/[*?]/.test(entry.name), {
    message: '"as" renames one item: give an exact name, not a glob',
    path: ['as'],
  });

export const ViewConfigSchema = z
  .object({
    description: z.string().optional(),
    tools: z.array(ViewEntrySchema).default([]),
    prompts: z.array(ViewEntrySchema).default([]),
    /** Resources by URI glob per server. */
    resources: z.array(z.object({ server: z.string().min(1), uri: z.string().min(1).default('*') }).strict()).default([]),
  })
  .strict();
export type ViewConfig = z.infer<typeof ViewConfigSchema>;
export type ViewEntry = z.infer<typeof ViewEntrySchema>;

const CacheRuleSchema = z
  .object({
    /** How long a cached answer is served, milliseconds. */
    ttlMs: z
      .number()
      .int()
      .min(100)
      .max(7 * 24 * 3_600_000),
    /** Tools whose results are cached (name globs); tools/call is never cached unless listed. */
    tools: z.array(z.string().min(1)).default([]),
    /** Prompts whose results are cached (name globs). */
    prompts: z.array(z.string().min(1)).default([]),
    /** Resource URIs whose reads are cached (globs). */
    resources: z.array(z.string().min(1)).default([]),
    /** `principal`: each principal has its own entries (default); `shared`: one entry for everyone. */
    scope: z.enum(['principal', 'shared']).default('principal'),
  })
  .strict();
export type CacheRule = z.infer<typeof CacheRuleSchema>;

export const MeshConfigSchema = z
  .object({
    $schema: z.string().optional(),
    nats: NatsConfigSchema.default({ url: 'nats://127.0.0.1:4222', prefix: DEFAULT_SUBJECT_PREFIX }),
    ingress: IngressConfigSchema.default(IngressConfigSchema.parse({})),
    audit: AuditConfigSchema.default(AuditConfigSchema.parse({})),
    /** Gateway policy (auth, RBAC, limits, …), validated by the policy package when the ingress starts. */
    policy: z.record(z.string(), z.unknown()).optional(),
    /** Opt-in response cache per server, shared by ingress replicas through NATS KV. */
    cache: z.record(z.string(), CacheRuleSchema).default({}),
    /** Named endpoints `/views/<name>/mcp` exposing a curated set of tools, prompts and resources. */
    views: z
      .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/, 'view names are 1-48 characters of A-Z a-z 0-9 _ -'), ViewConfigSchema)
      .default({}),
    servers: z.record(ServerNameKeySchema, ServerConfigSchema).optional(),
    /** Alias of `servers`, the format desktop MCP clients use. */
    mcpServers: z.record(ServerNameKeySchema, ServerConfigSchema).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.servers && config.mcpServers) {
      ctx.addIssue({ code: 'custom', path: ['mcpServers'], message: 'give "servers" or its alias "mcpServers", not both' });
    }
  });
export type MeshConfigInput = z.input<typeof MeshConfigSchema>;

export interface MeshConfig {
  readonly nats: { readonly url: string; readonly prefix: string };
  readonly ingress: Readonly<IngressConfig>;
  readonly audit: Readonly<AuditConfig>;
  readonly policy: Readonly<Record<string, unknown>> | undefined;
  readonly views: Readonly<Record<string, ViewConfig>>;
  readonly cache: Readonly<Record<string, CacheRule>>;
  readonly servers: Readonly<Record<string, ServerConfig>>;
}

/** Validates a parsed config value; throws MESH_INVALID_CONFIG listing every problem. */
export function parseMeshConfig(value: unknown, source = 'config'): MeshConfig {
  const result = MeshConfigSchema.safeParse(value);
  if (!result.success) {
    throw invalidConfig(`${source} is invalid`, formatIssues(result.error));
  }
  const servers = Object.fromEntries(
    Object.entries(result.data.servers ?? result.data.mcpServers ?? {}).filter(([, server]) => server.disabled !== true),
  );
  return deepFreeze({
    nats: result.data.nats,
    ingress: result.data.ingress,
    audit: result.data.audit,
    policy: result.data.policy,
    views: result.data.views,
    cache: result.data.cache,
    servers,
  });
}

/** Reads and validates a JSON config file. */
export async function loadMeshConfig(path: string): Promise<MeshConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(cause);
    throw new MeshError('MESH_INVALID_CONFIG', `cannot read config file ${path}: ${reason}`, { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MeshError('MESH_INVALID_CONFIG', `${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return parseMeshConfig(value, path);
}
