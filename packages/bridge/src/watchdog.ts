import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Guarantees a spawned server's process group never outlives the bridge, even when the bridge is
 * killed with SIGKILL: a tiny `sh` holds a pipe from the bridge; when the pipe closes (the bridge
 * died) it terminates the group, then kills it two seconds later.
 */
export function startWatchdog(pgid: number): ChildProcess {
  const script = `read _ignored; kill -TERM -${pgid} 2>/dev/null; sleep 2; kill -KILL -${pgid} 2>/dev/null; exit 0`;
  const watchdog = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watchdog.unref();
  // The pipe must not keep the bridge's event loop alive.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  watchdog.on('error', () => undefined);
  return watchdog;
}

/** Ends the watchdog without it touching the group (the bridge stopped the group itself). */
export function stopWatchdog(watchdog: ChildProcess): void {
  watchdog.stdin?.destroy();
  if (watchdog.exitCode === null) watchdog.kill('SIGKILL');
}
