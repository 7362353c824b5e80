import { postInitialize, postToolsList } from '../support/requests.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/client';
import { createPolicy, generateApiKey, hashApiKey, parsePolicyConfig } from '@mcp-mesh/policy';
import { TestMesh } from '../support/mesh.js';
import { waitFor } from '../support/processes.js';
import { rejection } from '../support/rejection.js';

const keys = { alice: generateApiKey(), bob: generateApiKey(), ops: generateApiKey(), carol: generateApiKey() };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('gateway policy at the ingress', () => {
  let mesh: TestMesh;
  let alice: Client;
  let ops: Client;

  beforeAll(async () => {
    const policy = await createPolicy(
      parsePolicyConfig({
        auth: {
          resource: 'http://127.0.0.1/mcp',
          apiKeys: [
            { id: 'alice', principal: 'alice', hash: hashApiKey(keys.alice), roles: ['dev'] },
            { id: 'bob', principal: 'bob', hash: hashApiKey(keys.bob), roles: ['ops'] },
            { id: 'ops', principal: 'ops', hash: hashApiKey(keys.ops), roles: ['ops'] },
            { id: 'carol', principal: 'carol', hash: hashApiKey(keys.carol), roles: ['ops'] },
          ],
        },
        rbac: {
          roles: {
            dev: { allow: [{ servers: ['alpha'], tools: ['echo', 'add', 'big'] }], deny: [{ servers: ['alpha'], tools: ['add'] }] },
            ops: { allow: [{ servers: ['*'] }] },
          },
        },
        rateLimits: { perPrincipal: { ratePerSec: 0.5, burst: 8 } },
        concurrency: { perServer: { slow: { maxConcurrent: 1, maxQueue: 0 } } },
        breaker: { consecutiveFailures: 2, halfOpenAfterMs: 700, perServer: {} },
        tokenBudgets: { perPrincipal: { tokens: 40, windowMs: 3_600_000, mode: 'deny' } },
      }),
    );
    mesh = await TestMesh.start({ requestTimeoutMs: 10_000 }, { policy });
    await mesh.addBridge('alpha');
    await mesh.addBridge('beta');
    await mesh.addBridge('slow');
    await mesh.addBridge('flaky');
    await mesh.addBridge('guarded', { rateLimit: '1/3' });
    alice = await mesh.client('/mcp', bearer(keys.alice));
    ops = await mesh.client('/mcp', bearer(keys.ops));
  });
  afterAll(async () => mesh?.close());

  it('refuses a request without credentials with 401 and a WWW-Authenticate challenge naming the metadata', async () => {
    const response = await postInitialize(mesh.url);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*resource_metadata="[^"]*oauth-protected-resource/);
    const body = (await response.json()) as { error: { data: { meshCode: string } } };
    expect(body.error.data.meshCode).toBe('MESH_UNAUTHENTICATED');
  });

  it('refuses an unknown key, and never echoes it', async () => {
    const wrong = generateApiKey();
    const response = await fetch(mesh.url, {
      method: 'POST',
      headers: { ...bearer(wrong), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(await response.text()).not.toContain(wrong);
  });

  it('publishes OAuth protected-resource metadata', async () => {
    const metadata = (await (await fetch(`${mesh.ingress.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { resource: string };
    expect(metadata.resource).toBe('http://127.0.0.1/mcp');
  });

  it('lists only what the principal may call', async () => {
    const { tools } = await alice.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toContain('alpha__echo');
    expect(names).not.toContain('alpha__add');
    expect(names.some((name) => name.startsWith('beta__'))).toBe(false);
    const everything = (await ops.listTools()).tools.map((tool) => tool.name);
    expect(everything).toEqual(expect.arrayContaining(['alpha__add', 'beta__echo']));
  });

  it('allows what a role allows and denies the rest, naming the rule', async () => {
    const ok = await alice.callTool({ name: 'alpha__echo', arguments: { text: 'allowed' } });
    expect(ok.content).toEqual([{ type: 'text', text: 'allowed' }]);
    const denied = await rejection(alice.callTool({ name: 'alpha__add', arguments: { a: 1, b: 2 } }));
    expect(denied.code).toBe(-32018);
    expect(denied.data).toMatchObject({ meshCode: 'MESH_FORBIDDEN', rule: 'rbac.roles.dev.deny[0]' });
    const otherServer = await rejection(alice.callTool({ name: 'beta__echo', arguments: { text: 'x' } }));
    expect(otherServer.data?.meshCode).toBe('MESH_FORBIDDEN');
  });

  it('does not let another principal continue a session', async () => {
    const transport = (alice as unknown as { transport: { sessionId?: string } }).transport;
    const response = await postToolsList(mesh.url, transport.sessionId!, bearer(keys.bob));
    expect(response.status).toBe(404);
  });

  it('rate limits a principal with retry-after information', async () => {
    const bob = await mesh.client('/mcp', bearer(keys.bob));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 12 }, () => bob.callTool({ name: 'alpha__echo', arguments: { text: 'burst' } })),
    );
    const limited = outcomes
      .filter((o) => o.status === 'rejected')
      .map((o) => (o as PromiseRejectedResult).reason as { code: number; data: { meshCode: string; retryAfterMs: number } });
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.code).toBe(-32019);
    expect(limited[0]!.data.meshCode).toBe('MESH_RATE_LIMITED');
    expect(limited[0]!.data.retryAfterMs).toBeGreaterThan(0);
  });

  it('sheds load past a server concurrency limit (bulkhead)', async () => {
    const first = ops.callTool({ name: 'slow__sleep', arguments: { ms: 800 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await rejection(ops.callTool({ name: 'slow__sleep', arguments: { ms: 10 } }));
    expect(second.data?.meshCode).toBe('MESH_OVERLOADED');
    await expect(first).resolves.toBeDefined();
  });

  it('opens the breaker after repeated upstream failures, fails fast, then recovers', async () => {
    for (let i = 0; i < 2; i++) {
      const crashed = await rejection(ops.callTool({ name: 'flaky__crash', arguments: {} }));
      expect(crashed.data?.meshCode).toBe('MESH_UPSTREAM_CRASHED');
    }
    const open = await rejection(ops.callTool({ name: 'flaky__echo', arguments: { text: 'x' } }));
    expect(open.data?.meshCode).toBe('MESH_CIRCUIT_OPEN');
    const ready = (await (await fetch(`${mesh.ingress.url}/readyz`)).json()) as { breakers: Record<string, string> };
    expect(ready.breakers.flaky).toBe('open');
    await waitFor(
      async () => {
        try {
          await ops.callTool({ name: 'flaky__echo', arguments: { text: 'probe' } });
          return true;
        } catch {
          return false;
        }
      },
      'the breaker to half-open and the probe to close it',
      10_000,
    );
    const after = (await (await fetch(`${mesh.ingress.url}/readyz`)).json()) as { breakers: Record<string, string> };
    expect(after.breakers.flaky).toBe('closed');
  });

  it('denies past the token budget', async () => {
    const carol = await mesh.client('/mcp', bearer(keys.alice));
    await carol.callTool({ name: 'alpha__big', arguments: { bytes: 2_000 } });
    const denied = await rejection(carol.callTool({ name: 'alpha__echo', arguments: { text: 'more' } }));
    expect(denied.data?.meshCode).toBe('MESH_TOKEN_BUDGET_EXCEEDED');
  });
  it('rate limits a server at its bridge, whichever principal calls', async () => {
    // A principal of its own, so its own rate limit is not what refuses the calls.
    const carrier = await mesh.client('/servers/guarded/mcp', bearer(keys.carol));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, () => carrier.callTool({ name: 'echo', arguments: { text: 'x' } })),
    );
    const limited = outcomes
      .filter((o) => o.status === 'rejected')
      .map((o) => (o as PromiseRejectedResult).reason as { data: { meshCode: string; rule: string; retryAfterMs: number } });
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeLessThanOrEqual(3);
    expect(limited.length).toBeGreaterThanOrEqual(3);
    expect(limited[0]!.data).toMatchObject({ meshCode: 'MESH_RATE_LIMITED', rule: 'servers.guarded.rateLimit' });
    expect(limited[0]!.data.retryAfterMs).toBeGreaterThan(0);
  });
});
