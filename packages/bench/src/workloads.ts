import type { BenchOptions } from './options.js';
import type { Workload } from './load.js';

/** The workload of the issue: echo at concurrency 1 (sequential), 16 and 64, and a 100 KB result. */
export const WORKLOAD_SPECS = [
  { id: 'echo-c1', tool: 'echo', args: { text: 'hello mesh' }, concurrency: 1 },
  { id: 'echo-c16', tool: 'echo', args: { text: 'hello mesh' }, concurrency: 16 },
  { id: 'echo-c64', tool: 'echo', args: { text: 'hello mesh' }, concurrency: 64 },
  { id: 'big100k-c1', tool: 'big', args: { bytes: 102_400 }, concurrency: 1 },
  { id: 'big100k-c16', tool: 'big', args: { bytes: 102_400 }, concurrency: 16 },
] as const;

export type WorkloadId = (typeof WORKLOAD_SPECS)[number]['id'];

/** Bounded by count and time, with a warm-up, per the run's options. */
export function boundedWorkload(
  spec: { id: string; tool: string; args: Record<string, unknown>; concurrency: number },
  options: Pick<BenchOptions, 'seconds' | 'maxCalls' | 'warmupSeconds' | 'warmupCalls'>,
): Workload {
  return {
    id: spec.id,
    tool: spec.tool,
    args: spec.args,
    concurrency: spec.concurrency,
    maxCalls: options.maxCalls,
    maxMs: options.seconds * 1000,
    warmupCalls: options.warmupCalls,
    warmupMs: options.warmupSeconds * 1000,
  };
}

/** The workloads each target runs (the SDK client and the slow stateless gateway run a subset). */
export function workloadsFor(target: string): readonly WorkloadId[] {
  switch (target) {
    case 'direct-sdk':
      return ['echo-c1', 'echo-c16'];
    case 'supergateway-stateless':
      return ['echo-c1', 'echo-c16'];
    case 'mesh-bus':
      return ['echo-c1', 'echo-c16', 'echo-c64'];
    case 'sdk-http-sse':
    case 'sdk-http-json':
      return ['echo-c16', 'big100k-c16'];
    default:
      return WORKLOAD_SPECS.map((spec) => spec.id);
  }
}
