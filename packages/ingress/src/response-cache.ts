import { createHash } from 'node:crypto';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { argsDigest, perPrefixName } from '@mcp-mesh/protocol';
import { globMatch } from '@mcp-mesh/policy';
import type { CacheRule, Logger } from '@mcp-mesh/runtime';

export const CACHE_BUCKET = 'mcp_cache';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);
const serverKey = (server: string) => `s_${Buffer.from(server, 'utf8').toString('hex')}`;

export interface CacheLookup {
  key: string;
  ttlMs: number;
}

/**
 * The opt-in response cache: tools/call, prompts/get and resources/read answers of the tools,
 * prompts and URIs a server's rule lists, keyed by the arguments and (by default) the principal,
 * kept in a NATS KV bucket every ingress replica shares. A server's list change drops its
 * entries; `resources/updated` drops the reads of that URI.
 */
export class ResponseCache {
  private kv: KV | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly rules: Readonly<Record<string, CacheRule>>,
    private readonly options: { logger: Logger; prefix?: string },
  ) {}

  get enabled(): boolean {
    return Object.keys(this.rules).length > 0;
  }

  async open(): Promise<void> {
    if (!this.enabled) return;
    const longest = Math.max(...Object.values(this.rules).map((rule) => rule.ttlMs));
    const bucket = perPrefixName(CACHE_BUCKET, this.options.prefix);
    try {
      this.kv = await new Kvm(this.nc).create(bucket, { ttl: longest, history: 1 });
    } catch (error) {
      this.options.logger.warn({ err: error }, 'response cache unavailable (JetStream KV): every call goes to its server');
    }
  }

  /** The cache entry a request would use, when its server's rule covers it. */
  lookup(server: string, method: string, params: Record<string, unknown> | undefined, principal: string): CacheLookup | undefined {
    const rule = this.rules[server];
    if (!rule || !this.kv) return undefined;
    const scope = rule.scope === 'shared' ? '*' : principal;
    const name = typeof params?.name === 'string' ? params.name : undefined;
    const uri = typeof params?.uri === 'string' ? params.uri : undefined;
    const named =
      method === 'tools/call' ? { tag: 't', globs: rule.tools } : method === 'prompts/get' ? { tag: 'p', globs: rule.prompts } : undefined;
    if (named && name && named.globs.some((glob) => globMatch(glob, name))) {
      return { key: `${serverKey(server)}.${named.tag}.${hash(`${name}\n${argsDigest(params?.arguments)}\n${scope}`)}`, ttlMs: rule.ttlMs };
    }
    if (method === 'resources/read' && uri && rule.resources.some((glob) => globMatch(glob, uri))) {
      return { key: `${serverKey(server)}.r.${hash(uri)}.${hash(scope)}`, ttlMs: rule.ttlMs };
    }
    return undefined;
  }

  async get(entry: CacheLookup): Promise<Record<string, unknown> | undefined> {
    try {
      const stored = await this.kv?.get(entry.key);
      if (!stored || stored.operation !== 'PUT') return undefined;
      const value = stored.json<{ storedAt: number; result: Record<string, unknown> }>();
      return Date.now() - value.storedAt <= entry.ttlMs ? value.result : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Stores a successful answer: never an error, an `isError` tool result, nor a 2026-07-28 result that
   * is not final (`input_required` asks this client for input; `task` names a task of one replica).
   */
  put(entry: CacheLookup, result: Record<string, unknown>): void {
    if (result.isError === true || !this.kv) return;
    if (result.resultType !== undefined && result.resultType !== 'complete') return;
    void this.kv.put(entry.key, JSON.stringify({ storedAt: Date.now(), result })).catch(() => undefined);
  }

  /** Drops every entry of a server (its lists changed), or the reads of one URI. */
  async invalidate(server: string, uri?: string): Promise<void> {
    if (!this.kv || !this.rules[server]) return;
    const filter = uri === undefined ? `${serverKey(server)}.>` : `${serverKey(server)}.r.${hash(uri)}.>`;
    try {
      const keys = await this.kv.keys(filter);
      for await (const key of keys) await this.kv.delete(key).catch(() => undefined);
    } catch (error) {
      this.options.logger.warn({ err: error, server }, 'could not invalidate cached responses');
    }
  }
}
