import { spawn } from 'node:child_process';
import { startMesh, measureTarget } from './dist/index.js';
import { fixtureServerCommand } from '@mcp-mesh/testing';
const cli = process.argv[2];
const mesh = await startMesh({ server: 'bench', upstream: fixtureServerCommand({ name: 'bench' }), sessions: 4, ...(cli ? { cli } : {}) });
const w = { id: 'x', tool: 'echo', args: { text: 'hi' }, concurrency: 16, maxCalls: 2000, maxMs: 20000, warmupCalls: 0, warmupMs: 0 };
try {
  await measureTarget(mesh, { ...w, maxCalls: 1000 });
  const pids = Object.fromEntries(mesh.watched.map((r) => [r.role, r.pids()[0]]));
  const tracers = ['ingress', 'bridge', 'nats-server', 'upstream'].map((role) => {
    const t = spawn('strace', ['-c', '-f', '-p', String(pids[role])], { stdio: ['ignore', 'ignore', 'pipe'] });
    let out = ''; t.stderr.on('data', (d) => (out += d));
    return { role, t, done: new Promise((r) => t.on('exit', () => r(out))) };
  });
  await new Promise((r) => setTimeout(r, 1500));
  const r = await measureTarget(mesh, w);
  for (const x of tracers) x.t.kill('SIGINT');
  for (const x of tracers) {
    const out = await x.done;
    console.log(`== ${x.role}: ${r.calls} calls`);
    for (const line of out.split('\n')) {
      const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/.exec(line);
      if (m && Number(m[1]) > r.calls * 0.05) console.log(`   ${m[2].padEnd(16)} ${(Number(m[1]) / r.calls).toFixed(2)} per call`);
    }
  }
} finally { await mesh.close(); }
