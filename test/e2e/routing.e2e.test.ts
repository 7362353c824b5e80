import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { conformanceServerCommand } from '@mcp-mesh/testing';
import { TestMesh } from '../support/mesh.js';

/**
 * Notifications and server->client requests reach the session that caused them and no other:
 * 5 sessions x 10 concurrent calls, each with progress, one per session with sampling.
 */
describe('routing of progress and callbacks under concurrency', () => {
  let mesh: TestMesh;
  const sessions: { client: Client; progress: { token: string; progress: number }[]; sampled: number }[] = [];

  beforeAll(async () => {
    mesh = await TestMesh.start({ requestTimeoutMs: 20_000 });
    await mesh.addBridge('shared', { upstream: conformanceServerCommand({ name: 'shared' }) });
    await mesh.addBridge('own', { upstream: conformanceServerCommand({ name: 'own' }), sessionMode: 'per-client' });
    await mesh.addBridge('mine', { sessionMode: 'per-client' });
    for (let k = 0; k < 5; k++) {
      const entry = { client: undefined as unknown as Client, progress: [] as { token: string; progress: number }[], sampled: 0 };
      entry.client = await mesh.client('/mcp', {}, (client) => {
        client.setNotificationHandler('notifications/progress', (notification) => {
          entry.progress.push({ token: String(notification.params.progressToken), progress: notification.params.progress });
        });
        client.setRequestHandler('sampling/createMessage', async () => {
          entry.sampled++;
          return {
            role: 'assistant',
            content: { type: 'text', text: `answer from session ${k}` },
            model: `model-${k}`,
            stopReason: 'endTurn',
          };
        });
      });
      sessions.push(entry);
    }
  }, 60_000);
  afterAll(async () => mesh?.close());

  it('delivers every progress notification and sampling request to its own session', async () => {
    const calls = sessions.flatMap(({ client }, k) => [
      ...Array.from({ length: 8 }, (_, i) =>
        client.callTool({ name: 'shared__test_tool_with_progress', arguments: {}, _meta: { progressToken: `s${k}-${i}` } }),
      ),
      client.callTool({ name: 'own__test_tool_with_progress', arguments: {}, _meta: { progressToken: `s${k}-own` } }),
      client.callTool({ name: 'own__test_sampling', arguments: { prompt: `question from session ${k}` } }),
    ]);
    const results = await Promise.all(calls);
    expect(results).toHaveLength(50);
    for (const result of results) expect(result.isError).not.toBe(true);

    sessions.forEach(({ progress, sampled }, k) => {
      // Only this session's tokens, each with its three steps.
      expect(
        progress.every((p) => p.token.startsWith(`s${k}-`)),
        `session ${k} got ${JSON.stringify(progress.filter((p) => !p.token.startsWith(`s${k}-`)))}`,
      ).toBe(true);
      const byToken = new Map<string, number[]>();
      for (const p of progress) byToken.set(p.token, [...(byToken.get(p.token) ?? []), p.progress]);
      expect(byToken.size).toBe(9);
      for (const steps of byToken.values()) expect(steps).toEqual([0, 50, 100]);
      expect(sampled).toBe(1);
    });
    // Each sampling answer came from the session that made the call.
    results
      .filter((r) => JSON.stringify(r.content).includes('answer from session'))
      .forEach((r) => expect(JSON.stringify(r.content)).toMatch(/answer from session \d/));
    for (let k = 0; k < 5; k++) {
      const own = results[k * 10 + 9]!;
      expect(JSON.stringify(own.content)).toContain(`answer from session ${k}`);
    }
  }, 60_000);

  it('gives each client session its own upstream in per-client mode, and keeps it', async () => {
    const pidOf = async (client: Client) =>
      ((await client.callTool({ name: 'mine__whoami', arguments: {} })).structuredContent as { pid: number }).pid;
    const first = await Promise.all(sessions.map(({ client }) => pidOf(client)));
    expect(new Set(first).size).toBe(5);
    const again = await Promise.all(sessions.map(({ client }) => pidOf(client)));
    expect(again).toEqual(first);
    expect(mesh.ingress.registry.descriptor('mine')?.sessionMode).toBe('per-client');
  });
});
