import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conformanceServerCommand, freePort } from '@mcp-mesh/testing';
import { TestMesh } from '../support/mesh.js';
import { MEMORY_SERVER } from '../support/paths.js';
import { TestProcess } from '../support/processes.js';
import { envelope, modern, modernHeaders, nextRequestId } from '../support/modern.js';

/**
 * A 2026-07-28 (stateless) client through the mesh: the bridges speak 2026-07-28 to upstreams that
 * support it, so the client's envelope, multi-round-trip answers and sealed requestState reach the
 * upstream untouched; tasks stay on the replica that created them; a legacy-only upstream still
 * serves modern clients over its 2025 session; the ingress checks Mcp-Param-* headers.
 */
const TASKS = 'io.modelcontextprotocol/tasks';

describe('the 2026-07-28 era through the mesh', () => {
  let mesh: TestMesh;
  let conf: string;
  let remote: TestProcess | undefined;

  beforeAll(async () => {
    mesh = await TestMesh.start(
      { requestTimeoutMs: 15_000 },
      // A cached multi-round-trip tool: only its final answer may be stored.
      {
        cache: { conf: { ttlMs: 60_000, tools: ['test_input_required_result_elicitation'], prompts: [], resources: [], scope: 'shared' } },
      },
    );
    // Two replicas: a task must be found again on the replica whose upstream holds it.
    await mesh.addBridge('conf', { upstream: conformanceServerCommand({ name: 'conf' }) });
    await mesh.addBridge('conf', { upstream: conformanceServerCommand({ name: 'conf' }) });
    await mesh.addBridge('memory', {
      upstream: MEMORY_SERVER,
      env: { MEMORY_FILE_PATH: `/tmp/mcp-mesh-modern-${process.pid}-${Date.now()}.jsonl` },
    });
    // A Streamable HTTP upstream: the bridge's modern channel is a stateless HTTP client.
    const port = await freePort();
    const http = conformanceServerCommand({ transport: 'http', port, name: 'remote' });
    remote = new TestProcess(http.command, http.args);
    await remote.waitForOutput('listening on');
    await mesh.addBridge('remote', { url: `http://127.0.0.1:${port}/mcp` });
    conf = `${mesh.ingress.url}/servers/conf/mcp`;
  }, 60_000);
  afterAll(async () => {
    await mesh?.close();
    await remote?.stop();
  });

  it('carries input_required results, inputResponses and the sealed requestState both ways', async () => {
    const capabilities = { elicitation: {} };
    const call = { name: 'test_input_required_result_request_state', arguments: {} };
    const first = await modern(conf, 'tools/call', call, { capabilities });
    expect(first.message.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { confirm: { method: 'elicitation/create' } },
    });
    const requestState = first.message.result!.requestState as string;
    expect(typeof requestState).toBe('string');

    const inputResponses = { confirm: { action: 'accept', content: { ok: true } } };
    const second = await modern(conf, 'tools/call', { ...call, inputResponses, requestState }, { capabilities });
    expect(second.message.result).toMatchObject({ resultType: 'complete' });
    expect(JSON.stringify(second.message.result!.content)).toContain('state-ok');

    // The upstream verifies its own seal: a state changed on the way is refused.
    const tampered = await modern(conf, 'tools/call', { ...call, inputResponses, requestState: `${requestState}x` }, { capabilities });
    expect(tampered.message.error?.code).toBe(-32602);
  });

  it('speaks 2026-07-28 to a Streamable HTTP upstream too', async () => {
    const remoteUrl = `${mesh.ingress.url}/servers/remote/mcp`;
    const call = { name: 'test_input_required_result_elicitation', arguments: {} };
    const first = await modern(remoteUrl, 'tools/call', call, { capabilities: { elicitation: {} } });
    expect(first.message.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { user_name: { method: 'elicitation/create' } },
    });
    const inputResponses = { user_name: { action: 'accept', content: { name: 'Ada' } } };
    const second = await modern(remoteUrl, 'tools/call', { ...call, inputResponses }, { capabilities: { elicitation: {} } });
    expect(JSON.stringify(second.message.result?.content)).toContain('Hello, Ada!');
  });

  it('never caches a result that is not final (input_required)', async () => {
    const call = { name: 'test_input_required_result_elicitation', arguments: {} };
    const capabilities = { elicitation: {} };
    const first = await modern(conf, 'tools/call', call, { capabilities });
    expect(first.message.result?.resultType).toBe('input_required');
    // The retry's cache key is the first call's (inputResponses are not arguments): a stored
    // input_required would be answered again and again.
    const inputResponses = { user_name: { action: 'accept', content: { name: 'Grace' } } };
    const second = await modern(conf, 'tools/call', { ...call, inputResponses }, { capabilities });
    expect(JSON.stringify(second.message.result?.content)).toContain('Hello, Grace!');
  });

  it('lets the upstream check the client capabilities of each request (-32021, HTTP 400)', async () => {
    const refused = await modern(conf, 'tools/call', { name: 'test_missing_capability', arguments: {} });
    expect(refused.status).toBe(400);
    expect(refused.message.error?.code).toBe(-32021);
    expect(refused.message.error?.data?.requiredCapabilities).toMatchObject({ sampling: {} });
  });

  it('sends every request for a task to the replica that created it', async () => {
    const capabilities = { extensions: { [TASKS]: {} } };
    const created = await modern(conf, 'tools/call', { name: 'slow_compute', arguments: { seconds: 0.3 } }, { capabilities });
    expect(created.message.result).toMatchObject({ resultType: 'task' });
    const taskId = created.message.result!.taskId as string;
    expect(taskId).toMatch(/^mesh~conf-[0-9a-f]{8}~/);
    // With two replicas in a queue group, unpinned requests would reach the other one half the time.
    for (let k = 0; k < 8; k++) {
      const got = await modern(conf, 'tasks/get', { taskId }, { capabilities });
      expect(got.message.error, JSON.stringify(got.message.error)).toBeUndefined();
      expect(got.message.result?.taskId).toBe(taskId);
    }
    await expect
      .poll(async () => (await modern(conf, 'tasks/get', { taskId }, { capabilities })).message.result?.status, { timeout: 5_000 })
      .toBe('completed');
    // An id the mesh never issued goes to any replica, whose upstream does not know it.
    const unknown = await modern(conf, 'tasks/get', { taskId: 'no-such-task' }, { capabilities });
    expect(unknown.message.error?.code).toBe(-32602);
  });

  it('serves modern clients from a legacy-only upstream over its 2025 session', async () => {
    const memory = `${mesh.ingress.url}/servers/memory/mcp`;
    const listed = await modern(memory, 'tools/list');
    expect(listed.status).toBe(200);
    expect((listed.message.result?.tools as { name: string }[]).map((tool) => tool.name)).toContain('read_graph');
    const read = await modern(memory, 'tools/call', { name: 'read_graph', arguments: {} });
    expect(read.message.result).toMatchObject({ resultType: 'complete' });
  });

  it('answers 404 with -32601 for methods neither the mesh nor the upstream implements', async () => {
    const unknown = await modern(conf, 'unknown/method');
    expect(unknown.status).toBe(404);
    expect(unknown.message).toMatchObject({ id: expect.any(Number), error: { code: -32601 } });
    // `initialize` is a removed method on 2026-07-28: no session is made for it.
    const initialize = await modern(conf, 'initialize');
    expect(initialize.status).toBe(404);
    expect(initialize.message.error?.code).toBe(-32601);
  });

  it('checks Mcp-Param-* headers against the tool schema (SEP-2243)', async () => {
    const call = (region: string, headers: Record<string, string>) =>
      modern(conf, 'tools/call', { name: 'test_x_mcp_header', arguments: { region } }, { headers });
    const plain = await call('eu-west', { 'mcp-param-region': 'eu-west' });
    expect(JSON.stringify(plain.message.result?.content)).toContain('region=eu-west');
    const encoded = await call('eu-west', { 'mcp-param-region': `=?base64?${Buffer.from('eu-west').toString('base64')}?=` });
    expect(encoded.message.result).toBeDefined();

    for (const headers of [{ 'mcp-param-region': 'us-east' }, { 'mcp-param-region': '=?base64?ZXU!!?=' }, {}]) {
      const refused = await call('eu-west', headers);
      expect(refused.status).toBe(400);
      expect(refused.message.id).toEqual(expect.any(Number));
      expect(refused.message.error).toMatchObject({
        code: -32020,
        data: { meshCode: 'MESH_PARAM_HEADER_MISMATCH', header: 'Mcp-Param-Region' },
      });
    }
  });

  it('tells subscriptions/listen streams of list changes made by modern-era calls', async () => {
    const abort = new AbortController();
    const params = { notifications: { toolsListChanged: true }, _meta: envelope() };
    const res = await fetch(conf, {
      method: 'POST',
      headers: modernHeaders('subscriptions/listen', params),
      body: JSON.stringify({ jsonrpc: '2.0', id: nextRequestId(), method: 'subscriptions/listen', params }),
      signal: abort.signal,
    });
    const frames: { method?: string }[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buffered = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('data:')) frames.push(JSON.parse(line.slice(5)) as { method?: string });
      }
    })().catch(() => undefined);
    try {
      await expect.poll(() => frames[0]?.method, { timeout: 5_000 }).toBe('notifications/subscriptions/acknowledged');
      // The trigger emits list_changed without changing the list: no new digest, the relay alone tells.
      await modern(conf, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} });
      await expect.poll(() => frames.some((frame) => frame.method === 'notifications/tools/list_changed'), { timeout: 5_000 }).toBe(true);
    } finally {
      abort.abort();
      await reading;
    }
  });
});
