import { denial } from './denial.js';

/**
 * Guards for input no client should send. Both are iterative (no recursion, so no stack to blow)
 * and linear in the input.
 */

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in JSON text, read without parsing it (brackets inside
 * strings do not count). `[]` is 1, `{"a":[1]}` is 2, a scalar 0. With `stopAbove` the scan ends
 * as soon as the depth passes it and returns that depth. UTF-8 bytes work as well as a string:
 * no byte of a multi-byte character is an ASCII bracket or quote. Malformed JSON gives some
 * number; JSON.parse refuses it afterwards.
 */
export function jsonTextDepth(text: string | Uint8Array, stopAbove = Number.POSITIVE_INFINITY): number {
  const length = text.length;
  const at = typeof text === 'string' ? (i: number) => text.charCodeAt(i) : (i: number) => text[i] as number;
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < length; i++) {
    const code = at(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > stopAbove) return max;
      }
    } else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0) {
      depth--;
    }
  }
  return max;
}

/** Throws MESH_JSON_TOO_DEEP when JSON text nests deeper than `maxDepth`; call it before JSON.parse. */
export function checkJsonDepth(text: string | Uint8Array, maxDepth: number): void {
  const depth = jsonTextDepth(text, maxDepth);
  if (depth > maxDepth) {
    throw denial('MESH_JSON_TOO_DEEP', `the message nests deeper than ${maxDepth} levels`, 'limits.maxJsonDepth', { maxDepth });
  }
}

/**
 * The nesting depth of a parsed value, with the same counting as jsonTextDepth, stopping once it
 * passes `stopAbove` (so a cyclic object ends too).
 */
export function valueDepth(value: unknown, stopAbove: number): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== 'object') continue;
    const here = depth + 1;
    if (here > max) {
      max = here;
      if (max > stopAbove) return max;
    }
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) if (child !== null && typeof child === 'object') stack.push([child, here]);
  }
  return max;
}

export interface HeaderLimits {
  maxHeaderCount: number;
  /** Names and values of all headers together, in bytes. */
  maxHeaderBytes: number;
  maxHeaderValueBytes: number;
}

/** Node's `req.rawHeaders` (name, value, name, value, …) or a headers record. */
export type HeaderInput = readonly string[] | Readonly<Record<string, string | readonly string[] | undefined>>;

function* headerPairs(headers: HeaderInput): Generator<[string, string]> {
  if (Array.isArray(headers)) {
    const raw = headers as readonly string[];
    for (let i = 0; i + 1 < raw.length; i += 2) yield [raw[i] as string, raw[i + 1] as string];
    return;
  }
  for (const [name, value] of Object.entries(headers as Readonly<Record<string, string | readonly string[] | undefined>>)) {
    if (value === undefined) continue;
    if (typeof value === 'string') yield [name, value];
    else for (const item of value) yield [name, item];
  }
}

/** Throws MESH_HEADERS_TOO_LARGE (HTTP 431) naming the limit a request's headers break. */
export function checkHeaders(headers: HeaderInput, limits: HeaderLimits): void {
  let count = 0;
  let bytes = 0;
  for (const [name, value] of headerPairs(headers)) {
    count++;
    // Node decodes header bytes as latin1, one character per byte.
    bytes += name.length + value.length;
    if (count > limits.maxHeaderCount) {
      throw denial('MESH_HEADERS_TOO_LARGE', `more than ${limits.maxHeaderCount} headers`, 'limits.maxHeaderCount', {
        limit: limits.maxHeaderCount,
      });
    }
    if (value.length > limits.maxHeaderValueBytes) {
      throw denial(
        'MESH_HEADERS_TOO_LARGE',
        `header ${name.slice(0, 64)} is longer than ${limits.maxHeaderValueBytes} bytes`,
        'limits.maxHeaderValueBytes',
        {
          limit: limits.maxHeaderValueBytes,
        },
      );
    }
    if (bytes > limits.maxHeaderBytes) {
      throw denial('MESH_HEADERS_TOO_LARGE', `headers are larger than ${limits.maxHeaderBytes} bytes`, 'limits.maxHeaderBytes', {
        limit: limits.maxHeaderBytes,
      });
    }
  }
}
