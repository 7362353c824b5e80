import { get } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';

import type { ManagedProcess } from './processes.js';

/**
 * Polls `ready` until it holds. Fails at once when one of `processes` exits (with its stderr),
 * or after `timeoutMs`.
 */
export async function waitUntil(
  ready: () => boolean | Promise<boolean>,
  what: string,
  processes: readonly ManagedProcess[] = [],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const child of processes) {
      if (!child.running) throw new Error(`${child.spec.name} exited while waiting for ${what}:\n${child.stderr}`);
    }
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/** GET a URL; resolves with status and body, or undefined when nothing answers yet. */
export function httpGet(url: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.once('error', () => resolve(undefined));
    });
    req.once('error', () => resolve(undefined));
    req.setTimeout(2_000, () => req.destroy());
  });
}
