import { parseReplicaBoundId, replicaBoundId } from '@mcp-mesh/protocol';
import type { UpstreamReply } from './upstream-session.js';

type Params = Record<string, unknown> | undefined;

function isTaskMethod(method: string): boolean {
  return method.startsWith('tasks/');
}

function own(value: unknown, instance: string): string | undefined {
  if (typeof value !== 'string') return undefined;
  const parsed = parseReplicaBoundId(value);
  return parsed?.instance === instance ? parsed.value : undefined;
}

/**
 * A request as the upstream must see it: a task id or `requestState` this replica issued back to
 * the upstream's own value. Values of other replicas, or ones the mesh never issued, pass
 * unchanged (the upstream then refuses them as unknown or tampered).
 */
export function toUpstreamParams(method: string, params: Params, instance: string): Params {
  if (params === undefined) return params;
  const taskId = isTaskMethod(method) ? own(params.taskId, instance) : undefined;
  const requestState = own(params.requestState, instance);
  if (taskId === undefined && requestState === undefined) return params;
  return { ...params, ...(taskId === undefined ? {} : { taskId }), ...(requestState === undefined ? {} : { requestState }) };
}

/**
 * The upstream's answer as the client must see it: a task it created (`resultType: "task"`) or
 * described (`tasks/*`), and the `requestState` of an `input_required` result, name this replica.
 */
export function toClientReply(method: string, reply: UpstreamReply, instance: string): UpstreamReply {
  if (!('result' in reply)) return reply;
  const { result } = reply;
  const bind = (value: unknown) => (typeof value === 'string' && !parseReplicaBoundId(value) ? replicaBoundId(instance, value) : undefined);
  const taskId = result.resultType === 'task' || isTaskMethod(method) ? bind(result.taskId) : undefined;
  const requestState = result.resultType === 'input_required' ? bind(result.requestState) : undefined;
  if (taskId === undefined && requestState === undefined) return reply;
  return { result: { ...result, ...(taskId === undefined ? {} : { taskId }), ...(requestState === undefined ? {} : { requestState }) } };
}
