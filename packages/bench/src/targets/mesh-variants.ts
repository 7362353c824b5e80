import { fileURLToPath } from 'node:url';

import { BusMcpSession } from '../bus-session.js';
import { startHttpServer } from './http-server-target.js';
import type { MeshTarget } from './mesh.js';
import type { BenchTarget } from './target.js';

const LEAN_INGRESS = fileURLToPath(new URL('../lean-ingress.js', import.meta.url));

/** Diagnostic: the mesh's bridges and NATS without the ingress (internal protocol spoken directly). */
export async function startMeshBus(mesh: MeshTarget, server: string, sessions: number): Promise<BenchTarget> {
  const callers: BusMcpSession[] = [];
  for (let i = 0; i < sessions; i++) callers.push(await BusMcpSession.open(mesh.natsUrl, server));
  return {
    id: 'mesh-bus',
    description: 'diagnostic: NATS request/reply straight to the bridge (no ingress, no HTTP)',
    watched: mesh.watched.filter((role) => role.role !== 'ingress'),
    callers,
    close: async () => {
      await Promise.allSettled(callers.map((caller) => caller.close()));
    },
  };
}

/** Prototype: the lean HTTP → NATS hop of lean-ingress.ts in front of the same bridges. */
export async function startLeanIngress(mesh: MeshTarget, server: string, sessions: number): Promise<BenchTarget> {
  const lean = await startHttpServer({
    name: 'lean-ingress',
    args: (port) => [LEAN_INGRESS, '--port', String(port), '--nats-url', mesh.natsUrl],
    mcpPath: `/servers/${server}/mcp`,
    sessions,
    what: 'the lean ingress prototype to listen',
  });
  return {
    id: 'lean-ingress',
    description: 'prototype (bench only): minimal HTTP → NATS hop, JSON responses, result spliced unparsed, same bridge',
    watched: [{ role: 'ingress', pids: () => [lean.process.pid] }, ...mesh.watched.filter((role) => role.role !== 'ingress')],
    callers: lean.sessions,
    close: lean.close,
  };
}
