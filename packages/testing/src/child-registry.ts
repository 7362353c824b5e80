import type { ChildProcess } from 'node:child_process';

/**
 * Children owned by the harness. If the test process exits without having
 * stopped them (a crashed worker, a forgotten `stop()`), they are killed on
 * the way out so no server outlives the test run.
 */
const live = new Set<ChildProcess>();
let hooked = false;

function killAll(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
  }
  live.clear();
}

export function trackChild(child: ChildProcess): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', killAll);
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}
