/**
 * One MCP client session as the load generator sees it: `prepare` turns a tool call into a
 * function that sends it and resolves when the successful result is back (rejects otherwise).
 * Each call gets a fresh JSON-RPC id; nothing else is re-encoded per call.
 */
export interface McpCaller {
  prepare(tool: string, args: Record<string, unknown>): () => Promise<void>;
  close(): Promise<void>;
}
