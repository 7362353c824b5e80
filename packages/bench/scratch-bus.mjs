import { startMesh } from './dist/index.js';
import { fixtureServerCommand } from '@mcp-mesh/testing';
import { connect, headers } from '@nats-io/transport-node';
import { performance } from 'node:perf_hooks';
const cli = process.argv[2];
const mesh = await startMesh({ server: 'bench', upstream: fixtureServerCommand({ name: 'bench' }), sessions: 1, ...(cli ? { cli } : {}) });
const nc = await connect({ servers: mesh.natsUrl });
const payload = JSON.stringify({ method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
async function run(c, ms) {
  let n = 0; const end = performance.now() + ms; const lat = [];
  await Promise.all(Array.from({ length: c }, async () => {
    while (performance.now() < end) {
      const h = headers(); h.set('Mcp-Mesh-Deadline', String(Date.now() + 10000));
      const t = performance.now();
      const m = await nc.request('mcp.v1.srv.bench.tools.call', payload, { timeout: 10000, headers: h });
      lat.push(performance.now() - t); n++;
    }
  }));
  lat.sort((a, b) => a - b);
  console.log(`c=${c} ${(n * 1000 / ms).toFixed(0)}/s p50 ${lat[lat.length >> 1].toFixed(2)}`);
}
try { await run(1, 1000); await run(1, 2000); await run(16, 2000); await run(64, 2000); } finally { await nc.close(); await mesh.close(); }
