import { postInitialize } from '../support/requests.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestMesh } from '../support/mesh.js';

describe('an ingress shutting down drains', () => {
  let mesh: TestMesh;
  beforeAll(async () => {
    mesh = await TestMesh.start();
    await mesh.addBridge('busy');
  });
  afterAll(async () => mesh?.close());

  it('finishes calls in flight, turns not-ready, and refuses new sessions meanwhile', async () => {
    const client = await mesh.client();
    const inFlight = client.callTool({ name: 'busy__sleep', arguments: { ms: 600 } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const closing = mesh.ingress.close();
    const ready = await postInitialize(`${mesh.ingress.url}/readyz`);
    expect(ready.status).toBe(503);
    const fresh = await fetch(mesh.url);
    expect(fresh.status).toBe(503);
    expect(((await fresh.json()) as { error: { data: { meshCode: string } } }).error.data.meshCode).toBe('MESH_INGRESS_DRAINING');
    const result = await inFlight;
    expect(result.content).toEqual([{ type: 'text', text: 'slept 600' }]);
    await closing;
  });
});
