import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';

/**
 * SEP-2243 (2026-07-28): a tool's `inputSchema` may mark an argument with `x-mcp-header: <Name>`;
 * a client then mirrors that argument's value into the `Mcp-Param-<Name>` HTTP header (plain, or
 * `=?base64?<b64>?=` for values a header cannot carry), and the server must refuse a request whose
 * header is missing, badly encoded or different from the body. The mesh checks it at the ingress,
 * where the HTTP request is, against the schema it has in its catalog.
 */
export interface ParamHeader {
  /** The header name without `Mcp-Param-`. */
  name: string;
  /** Where the argument is, from `arguments`. */
  path: string[];
  type: string | undefined;
}

/** A schema node as the mesh reads it (loose: everything else in a tool schema is not ours to judge). */
const SchemaNodeSchema = z
  .object({
    type: z.unknown().optional(),
    properties: z.record(z.string(), z.unknown()).optional(),
    'x-mcp-header': z.unknown().optional(),
  })
  .passthrough();

const MAX_DEPTH = 8;

/** The `x-mcp-header` declarations of a tool's input schema (nested object properties included). */
function paramHeaders(inputSchema: unknown, path: string[] = []): ParamHeader[] {
  const node = SchemaNodeSchema.safeParse(inputSchema);
  if (!node.success || !node.data.properties || path.length >= MAX_DEPTH) return [];
  const found: ParamHeader[] = [];
  for (const [key, child] of Object.entries(node.data.properties)) {
    const parsed = SchemaNodeSchema.safeParse(child);
    if (!parsed.success) continue;
    const header = parsed.data['x-mcp-header'];
    const type = typeof parsed.data.type === 'string' ? parsed.data.type : undefined;
    if (typeof header === 'string' && header.length > 0) found.push({ name: header, path: [...path, key], type });
    found.push(...paramHeaders(child, [...path, key]));
  }
  return found;
}

const declaredBySchema = new WeakMap<object, ParamHeader[]>();

/** {@link paramHeaders} of a catalog schema, read once per schema object (the catalog keeps them until the list changes). */
export function declaredParamHeaders(inputSchema: unknown): ParamHeader[] {
  if (typeof inputSchema !== 'object' || inputSchema === null) return [];
  let declared = declaredBySchema.get(inputSchema);
  if (!declared) {
    declared = paramHeaders(inputSchema);
    declaredBySchema.set(inputSchema, declared);
  }
  return declared;
}

const BASE64_PREFIX = '=?base64?';
const BASE64_SUFFIX = '?=';
const CANONICAL_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/** A header value as text: literal, or the UTF-8 of a well-formed base64 sentinel; undefined when malformed. */
function decodeParamHeader(value: string): string | undefined {
  if (!value.startsWith(BASE64_PREFIX) || !value.endsWith(BASE64_SUFFIX) || value.length < BASE64_PREFIX.length + BASE64_SUFFIX.length) {
    return value;
  }
  const encoded = value.slice(BASE64_PREFIX.length, value.length - BASE64_SUFFIX.length);
  if (!CANONICAL_BASE64.test(encoded)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64'));
  } catch {
    return undefined;
  }
}

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function at(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** Why the request's `Mcp-Param-*` headers disagree with its arguments, or undefined when they agree. */
export function paramHeaderMismatch(
  declared: ParamHeader[],
  args: unknown,
  headers: IncomingHttpHeaders,
): { header: string; message: string } | undefined {
  for (const param of declared) {
    const bodyValue = at(args, param.path);
    const bodyText = asText(bodyValue);
    if (bodyText === undefined) continue;
    const headerName = `Mcp-Param-${param.name}`;
    const raw = headers[headerName.toLowerCase()];
    const headerValue = Array.isArray(raw) ? raw.join(', ') : raw;
    const mismatch = (message: string) => ({ header: headerName, message });
    if (headerValue === undefined) return mismatch(`the body carries ${param.path.join('.')} but the ${headerName} header is absent`);
    const decoded = decodeParamHeader(headerValue);
    if (decoded === undefined) return mismatch(`the ${headerName} header is not valid base64 in its =?base64?…?= form`);
    const numeric = typeof bodyValue === 'number' && (param.type === 'number' || param.type === 'integer') && DECIMAL.test(decoded);
    if (numeric ? Number(decoded) !== bodyValue : decoded !== bodyText) {
      return mismatch(
        `the ${headerName} header says ${JSON.stringify(decoded)} but the body carries ${param.path.join('.')}=${JSON.stringify(bodyValue)}`,
      );
    }
  }
  return undefined;
}
