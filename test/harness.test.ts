import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fixtureServerCommand, fixtureServerPath, freePort, NatsServer, startNats } from '@mcp-mesh/testing';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function roundTrip(nc: NatsConnection, subject: string, payload: string): Promise<string> {
  const sub = nc.subscribe(subject, { max: 1 });
  nc.publish(subject, payload);
  for await (const msg of sub) return msg.string();
  throw new Error('subscription ended without a message');
}

async function nextStatus(nc: NatsConnection, type: string): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === type) return;
  }
}

describe('freePort', () => {
  it('returns a port that can be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('NatsServer', () => {
  let nats: NatsServer;

  beforeAll(async () => {
    nats = await NatsServer.start();
  });

  afterAll(async () => {
    await nats?.stop();
  });

  it('starts on 127.0.0.1 with a random port and captures its log', () => {
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.port).not.toBe(4222);
    expect(nats.running).toBe(true);
    expect(nats.logs().some((line) => line.includes('Server is ready'))).toBe(true);
    expect(existsSync(nats.storeDir)).toBe(true);
  });

  it('round-trips a publish/subscribe', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      expect(await roundTrip(nc, 'harness.ping', 'pong')).toBe('pong');
    } finally {
      await nc.close();
    }
  });

  it('has JetStream enabled', async () => {
    const nc = await connect(nats.connectOptions);
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
    } finally {
      await nc.close();
    }
  });

  it('kill() then restart() keeps the port and the JetStream data, and clients reconnect', async () => {
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'HARNESS', subjects: ['harness.js.>'] });
      await jetstream(nc).publish('harness.js.one', 'kept');

      const port = nats.port;
      const oldPid = nats.pid;
      const disconnected = nextStatus(nc, 'disconnect');
      await nats.kill();
      expect(nats.running).toBe(false);
      expect(oldPid !== undefined && isAlive(oldPid)).toBe(false);
      await disconnected;

      const reconnected = nextStatus(nc, 'reconnect');
      await nats.restart();
      expect(nats.port).toBe(port);
      expect(nats.pid).not.toBe(oldPid);
      await reconnected;
      expect(await roundTrip(nc, 'harness.after', 'again')).toBe('again');

      const fresh = await connect({ servers: nats.url });
      try {
        const info = await (await jetstreamManager(fresh)).streams.info('HARNESS');
        expect(info.state.messages).toBe(1);
      } finally {
        await fresh.close();
      }
    } finally {
      await nc.close();
    }
  });

  it('honours an explicit port', async () => {
    const port = await freePort();
    const server = await NatsServer.start({ port, jetstream: false });
    try {
      expect(server.port).toBe(port);
      expect(server.url).toBe(`nats://127.0.0.1:${port}`);
    } finally {
      await server.stop();
    }
  });

  it('stop() removes the store dir, is idempotent, and forbids restart()', async () => {
    const server = await NatsServer.start();
    const pid = server.pid;
    expect(existsSync(server.storeDir)).toBe(true);
    await Promise.all([server.stop(), server.stop()]);
    await server[Symbol.asyncDispose]();
    expect(existsSync(server.storeDir)).toBe(false);
    expect(pid !== undefined && isAlive(pid)).toBe(false);
    await expect(server.restart()).rejects.toThrow(/stopped with cleanup/);
  });

  it('stop(false) keeps the store so restart() still works', async () => {
    const server = await NatsServer.start();
    try {
      await server.stop(false);
      expect(existsSync(server.storeDir)).toBe(true);
      await server.restart();
      expect(server.running).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('reports a failed start with the captured log', async () => {
    await expect(NatsServer.start({ args: ['--no_such_flag'] })).rejects.toThrow(
      /exited before it was ready[\s\S]*--- log ---[\s\S]*no_such_flag/,
    );
  });
});

describe('startNats', () => {
  it('uses the local binary when NATS_URL is unset', async () => {
    const env = { ...process.env };
    delete env['NATS_URL'];
    const nats = await startNats({ env });
    try {
      expect(nats.kind).toBe('local');
      expect(nats.canRestart).toBe(true);
      const nc = await connect(nats.connectOptions);
      await nc.close();
    } finally {
      await nats[Symbol.asyncDispose]();
    }
    expect(existsSync(nats.storeDir as string)).toBe(false);
  });

  it('wraps NATS_URL as an external server that cannot be restarted', async () => {
    const owner = await NatsServer.start({ jetstream: false });
    try {
      const external = await startNats({ env: { NATS_URL: owner.url } });
      expect(external.kind).toBe('external');
      expect(external.url).toBe(owner.url);
      expect(external.port).toBe(owner.port);
      await expect(external.restart()).rejects.toThrow(/external server cannot be restarted/);
      await expect(external.kill()).rejects.toThrow(/external server cannot be restarted/);
      await external.stop();
      expect(owner.running).toBe(true);
      const nc = await connect(external.connectOptions);
      await nc.close();
    } finally {
      await owner.stop();
    }
  });

  it('explains how to install nats-server when the configured binary is missing', async () => {
    await expect(startNats({ env: { NATS_SERVER_BIN: '/nonexistent/nats-server' } })).rejects.toThrow(/apt-get install -y nats-server/);
  });
});

describe('fixture MCP server', () => {
  let client: Client;
  let transport: StdioClientTransport;

  beforeAll(async () => {
    client = new Client({ name: 'harness-test', version: '1.0.0' });
    transport = new StdioClientTransport({ command: process.execPath, args: [fixtureServerPath, '--name', 'alpha'], stderr: 'pipe' });
    await client.connect(transport);
  });

  afterAll(async () => {
    const pid = transport?.pid;
    await client?.close();
    if (pid !== null && pid !== undefined) expect(isAlive(pid)).toBe(false);
  });

  it('identifies itself by --name', () => {
    expect(client.getServerVersion()?.name).toBe('alpha');
  });

  it('lists its tools', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    expect(names).toEqual(
      expect.arrayContaining(['echo', 'add', 'whoami', 'sleep', 'crash', 'fail', 'throw', 'add_tool', 'progress', 'big']),
    );
    expect(names).not.toContain('env');
    expect(tools.find((tool) => tool.name === 'echo')?.description).toContain('alpha');
    expect(tools.find((tool) => tool.name === 'add')?.outputSchema).toBeDefined();
  });

  it('echoes, adds and tells who it is', async () => {
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'hi there' } });
    expect(echo.content).toEqual([{ type: 'text', text: 'hi there' }]);

    const add = await client.callTool({ name: 'add', arguments: { a: 2, b: 3 } });
    expect(add.content).toEqual([{ type: 'text', text: '5' }]);
    expect(add.structuredContent).toEqual({ sum: 5 });

    const who = await client.callTool({ name: 'whoami', arguments: {} });
    expect(who.structuredContent).toEqual({ name: 'alpha', pid: transport.pid });
  });

  it('reports tool failures as isError results', async () => {
    const failed = await client.callTool({ name: 'fail', arguments: { message: 'nope' } });
    expect(failed.isError).toBe(true);
    expect(failed.content).toEqual([{ type: 'text', text: 'nope' }]);

    const thrown = await client.callTool({ name: 'throw', arguments: { message: 'boom' } });
    expect(thrown.isError).toBe(true);
    expect(JSON.stringify(thrown.content)).toContain('boom');
  });

  it('sleeps, streams progress and returns big payloads', async () => {
    const slept = await client.callTool({ name: 'sleep', arguments: { ms: 20 } });
    expect(slept.content).toEqual([{ type: 'text', text: 'slept 20' }]);

    // With a gap before the response, the SDK client's own onprogress sees every step.
    const paced: number[] = [];
    const pacedResult = await client.callTool(
      { name: 'progress', arguments: { steps: 3, intervalMs: 50 } },
      { onprogress: (update) => paced.push(update.progress) },
    );
    expect(pacedResult.content).toEqual([{ type: 'text', text: 'completed 3 steps' }]);
    expect(paced).toEqual([1, 2, 3]);

    // Without a gap, observe through a raw notification handler: the SDK client's `onprogress` can miss progress that
    // arrives in the same read as the response (it dispatches notifications a microtask late).
    const updates: number[] = [];
    let sawAll: () => void = () => undefined;
    const allSeen = new Promise<void>((resolve) => {
      sawAll = resolve;
    });
    client.setNotificationHandler('notifications/progress', (notification) => {
      updates.push(notification.params.progress);
      if (updates.length === 3) sawAll();
    });
    const progress = await client.callTool({ name: 'progress', arguments: { steps: 3 }, _meta: { progressToken: 'harness-progress' } });
    expect(progress.content).toEqual([{ type: 'text', text: 'completed 3 steps' }]);
    await allSeen;
    expect(updates).toEqual([1, 2, 3]);

    const big = await client.callTool({ name: 'big', arguments: { bytes: 200_000 } });
    const first = big.content[0];
    expect(first?.type === 'text' ? first.text.length : -1).toBe(200_000);
  });

  it('adds a tool at runtime and announces it', async () => {
    const changed = new Promise<void>((resolve) => client.setNotificationHandler('notifications/tools/list_changed', () => resolve()));
    const added = await client.callTool({ name: 'add_tool', arguments: { name: 'dyn' } });
    expect(added.content).toEqual([{ type: 'text', text: 'added dyn' }]);
    await changed;
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('dyn');
    const dyn = await client.callTool({ name: 'dyn', arguments: {} });
    expect(dyn.content).toEqual([{ type: 'text', text: 'dynamic dyn' }]);
  });

  it('serves resources and templates', async () => {
    const hello = await client.readResource({ uri: 'fixture://alpha/hello' });
    expect(hello.contents).toEqual([{ uri: 'fixture://alpha/hello', mimeType: 'text/plain', text: 'hello from alpha' }]);

    const item = await client.readResource({ uri: 'fixture://alpha/items/42' });
    expect(item.contents[0]).toMatchObject({ text: 'item 42' });

    await expect(client.readResource({ uri: 'fixture://alpha/items/missing' })).rejects.toMatchObject({ code: -32602 });

    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toContain('fixture://alpha/items/{id}');
  });

  it('serves the greet prompt with completion', async () => {
    const prompt = await client.getPrompt({ name: 'greet', arguments: { who: 'mesh' } });
    expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Hello, mesh!' } }]);

    const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'who', value: 'w' } });
    expect(completion.completion.values).toEqual(['world']);
  });
});

describe('fixture MCP server lifecycle', () => {
  it('exits with code 1 mid-call on crash', async () => {
    const client = new Client({ name: 'harness-test', version: '1.0.0' });
    const transport = new StdioClientTransport({ ...fixtureServerCommand({ name: 'crashy' }), stderr: 'pipe' });
    await client.connect(transport);
    const pid = transport.pid as number;
    const closed = new Promise<void>((resolve) => {
      client.onclose = () => resolve();
    });
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow();
    await closed;
    expect(isAlive(pid)).toBe(false);
    await client.close();
  });

  it('exposes only allow-listed env vars through the env tool', async () => {
    const client = new Client({ name: 'harness-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [fixtureServerPath],
      env: { FIXTURE_ECHO_ENV: 'FOO,BAR', FOO: 'foo-value' },
      stderr: 'pipe',
    });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'env', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: JSON.stringify({ FOO: 'foo-value', BAR: null }) }]);
    } finally {
      await client.close();
    }
  });

  it('fails to connect when FIXTURE_CRASH_ON_START=1', async () => {
    const client = new Client({ name: 'harness-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [fixtureServerPath],
      env: { FIXTURE_CRASH_ON_START: '1' },
      stderr: 'pipe',
    });
    await expect(client.connect(transport)).rejects.toThrow();
    await client.close();
  });

  it('stops a hanging call when the client closes', async () => {
    const client = new Client({ name: 'harness-test', version: '1.0.0' });
    const transport = new StdioClientTransport({ ...fixtureServerCommand(), stderr: 'pipe' });
    await client.connect(transport);
    const pid = transport.pid as number;
    const hanging = client.callTool({ name: 'sleep', arguments: { ms: 10 ** 12 } });
    const settled = hanging.then(
      () => 'resolved',
      () => 'rejected',
    );
    await client.close();
    expect(await settled).toBe('rejected');
    expect(isAlive(pid)).toBe(false);
  });
});
