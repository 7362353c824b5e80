import type { ApiError, CallRequest, CallResponse, CatalogResponse, ConsoleConfig } from '../src/api-types.js';

/** An answer of the console API that is not a success. */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: { accept: 'application/json', ...init.headers }, credentials: 'same-origin' });
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiFailure(response.status, 'NOT_JSON', `${path} answered ${response.status} with something that is not JSON`);
  }
  if (!response.ok) {
    const error = (body as Partial<ApiError> & { error?: { message?: string; code?: unknown } }).error;
    throw new ApiFailure(response.status, String(error?.code ?? response.status), error?.message ?? `${path} answered ${response.status}`);
  }
  return body as T;
}

export const api = {
  config: () => request<ConsoleConfig>('/api/config'),
  catalog: () => request<CatalogResponse>('/api/catalog'),
  call: (call: CallRequest) =>
    request<CallResponse>('/api/call', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call) }),
};
