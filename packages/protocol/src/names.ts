import { createHash } from 'node:crypto';

/** Tool names some LLM APIs accept; the aggregated endpoint keeps every tool name within it. */
export const TOOL_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const DEFAULT_SEPARATOR = '__';
export const MAX_TOOL_NAME = 64;

function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/**
 * `<server>__<name>`, kept within `^[a-zA-Z0-9_-]{1,64}$`. Names that are too long or carry other
 * characters are shortened deterministically: sanitised, truncated, and suffixed with a hash of
 * the full original, so two different originals never collide. The caller keeps the reverse map.
 */
export function namespacedName(server: string, name: string, separator: string = DEFAULT_SEPARATOR): string {
  const plain = `${server}${separator}${name}`;
  if (TOOL_NAME_PATTERN.test(plain)) return plain;
  const hash = shortHash(plain);
  const sanitised = plain.replace(/[^a-zA-Z0-9_-]/g, '_');
  return `${sanitised.slice(0, MAX_TOOL_NAME - hash.length - 1)}_${hash}`;
}

/** Splits `<server>__<name>` at the first separator (server names never contain it). */
export function splitNamespacedName(exposed: string, separator: string = DEFAULT_SEPARATOR): { server: string; name: string } | undefined {
  const at = exposed.indexOf(separator);
  if (at <= 0) return undefined;
  return { server: exposed.slice(0, at), name: exposed.slice(at + separator.length) };
}

/**
 * Resource URIs on the aggregated endpoint stay as the server gave them; where two servers offer
 * the same URI the later one is rewritten reversibly to `mesh://<server>/<encoded uri>`.
 */
export function meshResourceUri(server: string, uri: string): string {
  return `mesh://${server}/${encodeURIComponent(uri)}`;
}

export function parseMeshResourceUri(uri: string): { server: string; uri: string } | undefined {
  const match = /^mesh:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) return undefined;
  try {
    return { server: match[1], uri: decodeURIComponent(match[2]) };
  } catch {
    return undefined;
  }
}

/** Stable digest of a JSON value, for list digests in heartbeats. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 22);
}
