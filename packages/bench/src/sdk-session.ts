import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import type { McpCaller } from './caller.js';
import { CallFailed, CLIENT_INFO } from './jsonrpc.js';

/**
 * The MCP SDK's own client over stdio (`Client` + `StdioClientTransport`), as an application
 * would use it. Shown next to the raw floor to make the client-side cost of the SDK visible.
 */
export class SdkStdioSession implements McpCaller {
  private constructor(
    private readonly client: Client,
    private readonly transport: StdioClientTransport,
  ) {}

  static async open(command: string, args: string[]): Promise<SdkStdioSession> {
    const transport = new StdioClientTransport({ command, args, stderr: 'ignore' });
    const client = new Client({ ...CLIENT_INFO });
    await client.connect(transport);
    return new SdkStdioSession(client, transport);
  }

  get pid(): number | undefined {
    return this.transport.pid ?? undefined;
  }

  prepare(tool: string, args: Record<string, unknown>): () => Promise<void> {
    return async () => {
      const result = await this.client.callTool({ name: tool, arguments: args });
      if (result.isError === true) throw new CallFailed(`tool error: ${JSON.stringify(result.content).slice(0, 200)}`);
    };
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}
