/** The JSON-RPC error fields an MCP SDK client call rejects with (its `ProtocolError`). */
export interface WireError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

/** Resolves with the error `promise` rejects with; throws when it resolves instead. */
export async function rejection(promise: Promise<unknown>): Promise<WireError> {
  try {
    await promise;
  } catch (error) {
    return error as WireError;
  }
  throw new Error('expected the call to fail');
}
