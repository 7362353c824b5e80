import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { fixtureServerCommand, freePort, NatsServer } from '@mcp-mesh/testing';
import { CLI } from '../support/paths.js';
import { isAlive, TestProcess, waitFor } from '../support/processes.js';

const dir = mkdtempSync(join(tmpdir(), 'mcp-mesh-cli-'));

function writeConfig(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value, null, 2));
  return path;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): TestProcess {
  return new TestProcess(process.execPath, [CLI, ...args], {
    env: { ...process.env, NO_COLOR: '1', MCP_MESH_HOME: join(dir, 'home'), ...env },
  });
}

describe('mcp-mesh up, ls and call', () => {
  let nats: NatsServer;
  let up: TestProcess;
  let port: number;

  beforeAll(async () => {
    nats = await NatsServer.start();
    port = await freePort();
    const one = fixtureServerCommand({ name: 'one' });
    const two = fixtureServerCommand({ name: 'two' });
    const config = writeConfig('mesh.config.json', {
      ingress: { port },
      // The desktop-client format is accepted as it is.
      mcpServers: {
        one: { command: one.command, args: one.args },
        two: { command: two.command, args: two.args, replicas: 2 },
      },
    });
    up = cli(['up', '-c', config], { NATS_URL: nats.url });
    await up.waitForOutput('all 2 servers ready', 30_000);
  });

  afterAll(async () => {
    await up?.stop('SIGKILL');
    await nats?.stop();
  });

  it('prints where the mesh listens', () => {
    expect(up.stdout).toContain(`http://127.0.0.1:${port}/mcp`);
    expect(up.stdout).toMatch(/✓ one ready \(\d+ tools\)/);
  });

  it('serves MCP clients at /mcp', async () => {
    const client = new Client({ name: 'cli-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['one__echo', 'two__echo']));
    const result = await client.callTool({ name: 'two__echo', arguments: { text: 'via up' } });
    expect(result.content).toEqual([{ type: 'text', text: 'via up' }]);
    await client.close();
  });

  it('ls --json lists servers, replicas and tools', async () => {
    const ls = cli(['ls', '--json', '--nats-url', nats.url]);
    expect((await ls.exited).code).toBe(0);
    const listing = JSON.parse(ls.stdout) as { servers: { server: string; replicas: unknown[]; tools: { name: string }[] }[] };
    const two = listing.servers.find((s) => s.server === 'two')!;
    expect(two.replicas).toHaveLength(2);
    expect(two.tools.map((t) => t.name)).toContain('echo');
    expect(listing.servers.map((s) => s.server)).toEqual(['one', 'two']);
  });

  it('call prints the tool result and exits 0', async () => {
    const call = cli(['call', 'one', 'echo', '{"text":"from the cli"}', '--nats-url', nats.url]);
    expect((await call.exited).code).toBe(0);
    expect(JSON.parse(call.stdout)).toEqual({ content: [{ type: 'text', text: 'from the cli' }] });
  });

  it('call exits 1 with a clear message for bad JSON arguments, an unknown server or an error result', async () => {
    const badJson = cli(['call', 'one', 'echo', '{text:', '--nats-url', nats.url]);
    expect((await badJson.exited).code).toBe(1);
    expect(badJson.stderr).toContain('not valid JSON');
    const unknown = cli(['call', 'nowhere', 'echo', '{}', '--nats-url', nats.url]);
    expect((await unknown.exited).code).toBe(1);
    expect(unknown.stderr).toContain("server 'nowhere' has no live bridge");
    const failing = cli(['call', 'one', 'fail', '{"message":"bad"}', '--nats-url', nats.url]);
    expect((await failing.exited).code).toBe(1);
  });

  it('doctor checks NATS, JetStream, the audit stream and every bridge', async () => {
    const doctor = cli(['doctor', '--json', '--nats-url', nats.url]);
    const exit = await doctor.exited;
    const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] };
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['nats', 'jetstream', 'audit stream', 'server one', 'server two', 'clock skew']),
    );
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.checks.find((c) => c.name === 'server two')!.detail).toContain('2 replica(s)');
    expect(exit.code).toBe(0);
  });

  it('doctor says what to fix when nothing answers', async () => {
    const doctor = cli(['doctor', '--nats-url', `nats://127.0.0.1:${await freePort()}`]);
    expect((await doctor.exited).code).toBe(1);
    expect(doctor.stdout).toContain('✗ nats');
    expect(doctor.stdout).toContain('fix:');
  });

  it('Ctrl-C stops the ingress and every bridge and upstream', async () => {
    const client = new Client({ name: 'cli-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    const pids: number[] = [];
    for (let i = 0; i < 10; i++) {
      const who = await client.callTool({ name: 'two__whoami', arguments: {} });
      pids.push((who.structuredContent as { pid: number }).pid);
    }
    const one = await client.callTool({ name: 'one__whoami', arguments: {} });
    pids.push((one.structuredContent as { pid: number }).pid);
    await client.close();
    up.child.kill('SIGINT');
    const exit = await up.exited;
    expect(exit.code).toBe(130);
    for (const pid of new Set(pids)) await waitFor(() => !isAlive(pid), `upstream ${pid} to stop`, 5_000);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('mcp-mesh up with nothing on NATS_URL', () => {
  it('starts an embedded nats-server with JetStream, and stops it on exit', async () => {
    const natsPort = await freePort();
    const port = await freePort();
    const config = writeConfig('empty.json', { ingress: { port }, servers: {} });
    const up = cli(['up', '-c', config, '--nats-url', `nats://127.0.0.1:${natsPort}`], { MCP_MESH_HOME: join(dir, 'home') });
    try {
      await up.waitForOutput('mcp-mesh is up', 20_000);
      expect(up.stdout).toContain(`nats-server (JetStream) at nats://127.0.0.1:${natsPort}`);
      const ready = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { status: string; nats: string };
      expect(ready).toMatchObject({ status: 'ready', nats: 'connected' });
    } finally {
      up.child.kill('SIGINT');
      await up.exited;
    }
    // The embedded server went with it.
    const probe = cli(['ls', '--nats-url', `nats://127.0.0.1:${natsPort}`]);
    expect((await probe.exited).code).toBe(1);
    expect(probe.stderr).toContain('MESH_NATS_UNREACHABLE');
  });
});

describe('invalid config', () => {
  it('lists every problem with its path and exits non-zero', async () => {
    const config = writeConfig('bad.json', {
      ingress: { port: 'eighty' },
      servers: {
        'bad name!': { command: 'x' },
        both: { command: 'x', url: 'http://example.com/mcp' },
        neither: { args: ['a'] },
        typo: { comand: 'x' },
      },
      extra: true,
    });
    const up = cli(['up', '-c', config]);
    const exit = await up.exited;
    expect(exit.code).toBe(1);
    expect(up.stderr).toContain('MESH_INVALID_CONFIG');
    expect(up.stderr).toContain('ingress.port');
    expect(up.stderr).toContain('servers.bad name!');
    expect(up.stderr).toContain('servers.both');
    expect(up.stderr).toContain('servers.neither');
    expect(up.stderr).toContain('servers.typo');
    expect(up.stderr).toMatch(/extra/);
  });

  it('says so when the file is missing or not JSON', async () => {
    const missing = cli(['up', '-c', join(dir, 'nope.json')]);
    expect((await missing.exited).code).toBe(1);
    expect(missing.stderr).toContain('no such file');
    writeFileSync(join(dir, 'broken.json'), '{ "servers": ');
    const notJson = cli(['up', '-c', join(dir, 'broken.json')]);
    expect((await notJson.exited).code).toBe(1);
    expect(notJson.stderr).toContain('not valid JSON');
  });
});
