import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { conformanceServerCommand } from '@mcp-mesh/testing';
import { TestMesh } from '../support/mesh.js';
import { modern as send } from '../support/modern.js';

/**
 * Either era of client with either era of upstream (issue #3): a 2025-only upstream asks its client
 * with push requests mid-call; a 2026-07-28 client gets them as `input_required` results, and its
 * retry resumes the upstream call the bridge held open. Legacy sessions keep push requests.
 */
const KEY = 'mesh_upstream_request';
const ASKS = { capabilities: { sampling: {}, elicitation: {}, roots: {} } };
const modern = (url: string, method: string, params: Record<string, unknown>) => send(url, method, params, ASKS);

const sampled = (text: string) => ({ role: 'assistant', model: 'e2e', stopReason: 'endTurn', content: { type: 'text', text } });

describe('push requests of a 2025-only upstream, for 2026-07-28 clients', () => {
  let mesh: TestMesh;
  let legacy: string;

  beforeAll(async () => {
    mesh = await TestMesh.start({ requestTimeoutMs: 15_000 });
    await mesh.addBridge('legacy', { upstream: conformanceServerCommand({ name: 'legacy', legacyOnly: true }) });
    // Its calls end 1.5 s after they start: a held call the client never resumes is gone by then.
    await mesh.addBridge('short', { upstream: conformanceServerCommand({ name: 'short', legacyOnly: true }), timeoutMs: 1_500 });
    legacy = `${mesh.ingress.url}/servers/legacy/mcp`;
  }, 60_000);
  afterAll(async () => mesh?.close());

  it('turns sampling into input_required, and the retry finishes the held call with the answer', async () => {
    const call = { name: 'test_sampling', arguments: { prompt: 'Capital of France?' } };
    const first = await modern(legacy, 'tools/call', call);
    expect(first.message.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: {
        [KEY]: {
          method: 'sampling/createMessage',
          params: { messages: [{ role: 'user', content: { type: 'text', text: 'Capital of France?' } }], maxTokens: 100 },
        },
      },
    });
    const requestState = first.message.result!.requestState as string;
    expect(requestState).toMatch(/^mesh-input~/);

    const second = await modern(legacy, 'tools/call', { ...call, inputResponses: { [KEY]: sampled('Paris') }, requestState });
    expect(second.message.error).toBeUndefined();
    expect(second.message.result?.content).toEqual([{ type: 'text', text: 'LLM response: Paris' }]);

    // The held call was answered: the same state cannot resume it again.
    const replay = await modern(legacy, 'tools/call', { ...call, inputResponses: { [KEY]: sampled('Lyon') }, requestState });
    expect(replay.message.error).toMatchObject({ code: -32602, data: { meshCode: 'MESH_INPUT_STATE_INVALID' } });
  });

  it('turns each push request into its own round (elicitation, then a fresh call)', async () => {
    const call = { name: 'test_elicitation', arguments: { message: 'Your name?' } };
    const first = await modern(legacy, 'tools/call', call);
    expect(first.message.result).toMatchObject({
      resultType: 'input_required',
      inputRequests: { [KEY]: { method: 'elicitation/create', params: { message: 'Your name?' } } },
    });
    const requestState = first.message.result!.requestState as string;
    const answer = { action: 'accept', content: { response: 'Ada' } };
    const second = await modern(legacy, 'tools/call', { ...call, inputResponses: { [KEY]: answer }, requestState });
    expect(JSON.stringify(second.message.result?.content)).toContain('Ada');
  });

  it('answers a malformed, foreign or answerless mesh requestState with -32602 MESH_INPUT_STATE_INVALID', async () => {
    const call = { name: 'test_sampling', arguments: { prompt: 'x' } };
    const inputResponses = { [KEY]: sampled('y') };
    const malformed = await modern(legacy, 'tools/call', { ...call, inputResponses, requestState: 'mesh-input~bm90IGpzb24' });
    expect(malformed.message.error).toMatchObject({ code: -32602, data: { meshCode: 'MESH_INPUT_STATE_INVALID' } });

    const first = await modern(legacy, 'tools/call', call);
    const requestState = first.message.result!.requestState as string;
    // Issued for test_sampling: not for another tool.
    const foreign = await modern(legacy, 'tools/call', { name: 'test_simple_text', arguments: {}, inputResponses, requestState });
    expect(foreign.message.error).toMatchObject({ code: -32602, data: { meshCode: 'MESH_INPUT_STATE_INVALID' } });
    const answerless = await modern(legacy, 'tools/call', { ...call, inputResponses: {}, requestState });
    expect(answerless.message.error).toMatchObject({ code: -32602, data: { meshCode: 'MESH_INPUT_STATE_INVALID' } });
    // Still held after those refusals: the right retry finishes it.
    const done = await modern(legacy, 'tools/call', { ...call, inputResponses, requestState });
    expect(done.message.result?.content).toEqual([{ type: 'text', text: 'LLM response: y' }]);
  });

  it('ends a held call at its deadline when the client never retries', async () => {
    const short = `${mesh.ingress.url}/servers/short/mcp`;
    const call = { name: 'test_sampling', arguments: { prompt: 'slow' } };
    const first = await modern(short, 'tools/call', call);
    const requestState = first.message.result!.requestState as string;
    // Time has to pass here: the bridge's 1.5 s deadline is what is under test.
    await sleep(2_500);
    const late = await modern(short, 'tools/call', { ...call, inputResponses: { [KEY]: sampled('late') }, requestState });
    expect(late.message.error).toMatchObject({ code: -32602, data: { meshCode: 'MESH_INPUT_STATE_INVALID' } });
  });

  it('keeps push requests on the stream of a 2025 session', async () => {
    const client = await mesh.client('/servers/legacy/mcp', {}, (sdk) =>
      sdk.setRequestHandler('sampling/createMessage', async () => ({
        model: 'e2e',
        role: 'assistant',
        content: { type: 'text', text: 'pushed' },
      })),
    );
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'legacy' } });
    expect(result.content).toEqual([{ type: 'text', text: 'LLM response: pushed' }]);
    await client.close();
  });
});
