import { setFlagsFromString } from 'node:v8';

/** Old-generation growth factor the mesh's long-running processes use (V8's own default is far larger). */
export const HEAP_GROWING_PERCENT = 50;

/**
 * Keeps a long-running mesh process (ingress, bridge) near its live heap. Under load the ingress
 * and bridge allocate ~50-70 KB per call that dies young, yet V8 lets the old generation grow to
 * ~4x the live heap before a full GC: the memory soak measured the ingress at 270-366 MB RSS with a
 * live heap of ~52 MB. A growth factor of 1.5 (`--heap-growing-percent=50`) held it at 178-188 MB
 * for 2.6 % of a core in full GCs (docs/performance.md, "Memory soak"). A flag the user gave
 * (NODE_OPTIONS or the command line) wins.
 */
export function tuneHeap(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  const given = [...execArgv, ...(env['NODE_OPTIONS'] ?? '').split(/\s+/)];
  if (given.some((flag) => flag.startsWith('--heap-growing-percent') || flag.startsWith('--heap_growing_percent'))) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
