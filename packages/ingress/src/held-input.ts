import {
  encodeHeldInputState,
  HELD_INPUT_KEY,
  HeldInputStateSchema,
  MeshError,
  parseHeldInputState,
  type HeldInputState,
} from '@mcp-mesh/protocol';
import type { HeldRequest } from './mesh-client.js';

/**
 * The era translation for server->client input (docs/mcp-methods.md, "2026-07-28 clients"): a
 * legacy-only upstream's push request during a 2026-07-28 client's call becomes an
 * `input_required` result whose `requestState` names the held call; the client's retry carries the
 * answer back to it.
 */

/** What the request being answered is: the server it routes to, its method and its tool or prompt. */
export interface HeldCallTarget {
  server: string;
  method: string;
  name: string | undefined;
}

/** The `input_required` result a 2026-07-28 client is given for a push request of a held call. */
export function heldInputResult(held: HeldRequest, target: HeldCallTarget): Record<string, unknown> {
  const asked = HeldInputStateSchema.shape.asked.safeParse(held.request.method);
  if (!asked.success) throw new Error(`${held.request.method} is not a request a 2026-07-28 client can be asked in input_required`);
  const requestState = encodeHeldInputState({
    v: 1,
    server: target.server,
    method: target.method,
    ...(target.name === undefined ? {} : { name: target.name }),
    instance: held.instance,
    replyTo: held.replyTo,
    asked: asked.data,
    deadline: held.deadline,
  });
  const request = held.request.params === undefined ? { method: held.request.method } : held.request;
  return { resultType: 'input_required', inputRequests: { [HELD_INPUT_KEY]: request }, requestState };
}

/** A retry of a held call: where the bridge waits, and the answer to send it. */
export interface HeldRetry {
  state: HeldInputState;
  answer: { result: Record<string, unknown> };
}

/**
 * Reads a retry whose `requestState` the mesh minted; throws `MESH_INPUT_STATE_INVALID` when it is
 * malformed, belongs to another request, has expired or comes without its answer.
 */
export function heldRetry(requestState: string, inputResponses: unknown, target: HeldCallTarget, now = Date.now()): HeldRetry {
  const invalid = (why: string, details: Record<string, unknown> = {}) =>
    new MeshError('MESH_INPUT_STATE_INVALID', `Invalid requestState: ${why}`, { details: { server: target.server, ...details } });
  const parsed = parseHeldInputState(requestState);
  if ('problem' in parsed) throw invalid(parsed.problem);
  const { state } = parsed;
  if (state.server !== target.server || state.method !== target.method || state.name !== target.name) {
    throw invalid(`it was issued for ${state.method} ${state.name ?? ''} on '${state.server}', not this request`.replace('  ', ' '));
  }
  if (state.deadline <= now)
    throw invalid('the held call passed its deadline; call again', { deadline: new Date(state.deadline).toISOString() });
  const answer = (inputResponses as Record<string, unknown> | undefined)?.[HELD_INPUT_KEY];
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) {
    throw invalid(`inputResponses has no object for '${HELD_INPUT_KEY}', the answer to ${state.asked}`);
  }
  return { state, answer: { result: answer as Record<string, unknown> } };
}
