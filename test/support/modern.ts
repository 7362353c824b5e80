/** Raw 2026-07-28 (modern, stateless) requests for the e2e tests, sent as the conformance suite sends them. */
export const MODERN = '2026-07-28';

export interface Answer {
  status: number;
  message: { id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: Record<string, unknown> } };
}

let nextId = 1;

/** A JSON-RPC id not used by any other request of this test file. */
export function nextRequestId(): number {
  return nextId++;
}

export function envelope(capabilities: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'modern-e2e', version: '1.0.0' },
  };
}

export function modernHeaders(method: string, params: Record<string, unknown>, extra: Record<string, string> = {}): Record<string, string> {
  const name = params.name ?? params.uri ?? params.taskId;
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
    ...extra,
  };
}

/** One modern request (raw HTTP, as the conformance suite sends it); the final JSON-RPC message of a JSON or SSE answer. */
export async function modern(
  url: string,
  method: string,
  params: Record<string, unknown> = {},
  options: { capabilities?: Record<string, unknown>; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const id = nextRequestId();
  const sent = { ...params, _meta: { ...(params._meta as Record<string, unknown> | undefined), ...envelope(options.capabilities) } };
  const res = await fetch(url, {
    method: 'POST',
    headers: modernHeaders(method, params, options.headers),
    body: JSON.stringify({ jsonrpc: '2.0', id, method, params: sent }),
  });
  const text = await res.text();
  if (!(res.headers.get('content-type') ?? '').includes('text/event-stream')) return { status: res.status, message: JSON.parse(text) };
  const frames = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as Answer['message']);
  return { status: res.status, message: frames.find((frame) => frame.id === id) ?? {} };
}
