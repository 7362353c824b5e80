/**
 * Subject builders. Subjects are never concatenated by hand elsewhere: every user-controlled
 * string passes through {@link encodeToken} so that it cannot inject `.`, `*`, `>` or whitespace.
 */

export const DEFAULT_SUBJECT_PREFIX = 'mcp.v1';

/** The server token of mesh-level events (sessions, auth) in audit subjects; server names never start with `_`. */
export const MESH_AUDIT_SERVER = '_mesh';

const SAFE_TOKEN = /^[A-Za-z0-9_-]+$/;
const PREFIX_SHAPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/**
 * Encodes any string as one subject token. Characters outside `[A-Za-z0-9_-]` become `~XX`
 * (hex of each UTF-8 byte), so the encoding is reversible and never yields a separator or wildcard.
 */
export function encodeToken(value: string): string {
  if (value.length > 0 && SAFE_TOKEN.test(value)) return value;
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(ch) ? ch : `~${byte.toString(16).padStart(2, '0')}`;
  }
  return out.length > 0 ? out : '~';
}

export function decodeToken(token: string): string {
  // Tokens of plain names (nearly all) decode to themselves.
  if (!token.includes('~')) return token;
  if (token === '~') return '';
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '~') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(token.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** `tools/call` -> `tools.call`; each segment is encoded. */
export function methodTokens(method: string): string {
  return method.split('/').map(encodeToken).join('.');
}

/**
 * The name of a per-mesh JetStream resource (stream, KV bucket): `base` for the default prefix,
 * `base_<prefix with non-alphanumerics as _>` otherwise, so meshes sharing an account never clash.
 */
export function perPrefixName(base: string, prefix: string | undefined): string {
  return !prefix || prefix === DEFAULT_SUBJECT_PREFIX ? base : `${base}_${prefix.replace(/[^A-Za-z0-9]/g, '_')}`;
}

export function assertPrefix(prefix: string): string {
  if (!PREFIX_SHAPE.test(prefix)) {
    throw new Error(`invalid subject prefix '${prefix}': use dot-separated tokens of [A-Za-z0-9_-]`);
  }
  return prefix;
}

/** Builds every subject of one mesh (one prefix). */
export class Subjects {
  readonly prefix: string;
  /** Tokens in the prefix, to find where a subject's method tokens start. */
  private readonly prefixTokens: number;

  constructor(prefix: string = DEFAULT_SUBJECT_PREFIX) {
    this.prefix = assertPrefix(prefix);
    this.prefixTokens = this.prefix.split('.').length;
  }

  /** `mcp.v1.srv.<server>.<method tokens>`: request/reply, queue group per server. */
  server(server: string, method: string): string {
    return `${this.prefix}.srv.${encodeToken(server)}.${methodTokens(method)}`;
  }

  /**
   * Methods the mesh does not know by name (extensions such as `tasks/get`, `skills/list`) travel
   * under one wildcard: `mcp.v1.srv.<server>.ext.<method tokens>`.
   */
  extension(server: string, method: string): string {
    return `${this.prefix}.srv.${encodeToken(server)}.ext.${methodTokens(method)}`;
  }

  /** Every extension subject of one server. */
  extensionAll(server: string): string {
    return `${this.prefix}.srv.${encodeToken(server)}.ext.>`;
  }

  /** The method an {@link extension} subject carries. */
  extensionMethod(subject: string): string {
    return this.methodAfter(subject, this.prefixTokens + 3);
  }

  /** `mcp.v1.session.<sid>.<method tokens>`: messages for one client session that belong to no call. */
  session(sessionId: string, method: string): string {
    return `${this.prefix}.session.${encodeToken(sessionId)}.${methodTokens(method)}`;
  }

  sessionAll(): string {
    return `${this.prefix}.session.>`;
  }

  /** `mcp.v1.cancel.<server>`: every replica hears it and stops the call whose reply subject it names. */
  cancel(server: string): string {
    return `${this.prefix}.cancel.${encodeToken(server)}`;
  }

  /** `mcp.v1.inst.<instance>.<method tokens>`: the same, addressed to one bridge replica. */
  instance(instance: string, method: string): string {
    return `${this.prefix}.inst.${encodeToken(instance)}.${methodTokens(method)}`;
  }

  /** Every method subject of one bridge replica. */
  instanceAll(instance: string): string {
    return `${this.prefix}.inst.${encodeToken(instance)}.>`;
  }

  /** The method an {@link instance} subject carries. */
  instanceMethod(subject: string): string {
    return this.methodAfter(subject, this.prefixTokens + 2);
  }

  private methodAfter(subject: string, tokens: number): string {
    return subject.split('.').slice(tokens).map(decodeToken).join('/');
  }

  /** `mcp.v1.registry.<kind>` with kind announce | heartbeat | bye | discover. */
  registry(kind: RegistryKind): string {
    return `${this.prefix}.registry.${kind}`;
  }

  registryAll(): string {
    return `${this.prefix}.registry.*`;
  }

  /** `mcp.v1.notify.<server>.<method tokens>`: server notifications that belong to no call. */
  notify(server: string, method: string): string {
    return `${this.prefix}.notify.${encodeToken(server)}.${methodTokens(method)}`;
  }

  notifyAll(): string {
    return `${this.prefix}.notify.>`;
  }

  /** Whom a {@link notify} or {@link session} subject addresses: the server, or the session id. */
  addressee(subject: string): string {
    return decodeToken(subject.split('.')[this.prefixTokens + 1] ?? '');
  }

  /** `mcp.v1.audit.<server>.<method tokens>`: captured by the MCP_AUDIT stream. */
  audit(server: string, method: string): string {
    return `${this.auditServerPrefix(server)}.${methodTokens(method)}`;
  }

  /** Every audit subject of one server: `mcp.v1.audit.<server>.>`. */
  auditServer(server: string): string {
    return `${this.auditServerPrefix(server)}.>`;
  }

  auditAll(): string {
    return `${this.prefix}.audit.>`;
  }

  private auditServerPrefix(server: string): string {
    return `${this.prefix}.audit.${server === MESH_AUDIT_SERVER ? server : encodeToken(server)}`;
  }

  /** Queue group shared by every replica of one server (queue names cannot contain dots). */
  queueGroup(server: string): string {
    return `${this.prefix.replaceAll('.', '_')}_${encodeToken(server)}`;
  }
}

export const RegistryKind = {
  Announce: 'announce',
  Heartbeat: 'heartbeat',
  Bye: 'bye',
  Discover: 'discover',
} as const;
export type RegistryKind = (typeof RegistryKind)[keyof typeof RegistryKind];
