import { afterEach, describe, expect, it } from 'vitest';
import { Upstream } from '@mcp-mesh/bridge';
import { createLogger } from '@mcp-mesh/runtime';
import { fixtureServerPath } from '@mcp-mesh/testing';

describe('Upstream: calls that wait for a starting upstream', () => {
  let upstream: Upstream | undefined;
  afterEach(async () => {
    await upstream?.stop();
  });

  it('wakes every waiter when ready, even after another waiter gave up at its deadline', async () => {
    upstream = new Upstream({
      server: 'slow',
      // The fixture server starts a second late, so both calls below wait for it.
      config: { command: 'sh', args: ['-c', `sleep 1; exec "${process.execPath}" "${fixtureServerPath}"`], env: {}, envPassthrough: [] },
      logger: createLogger({ name: 'test', level: 'silent' }),
      parentEnv: process.env,
    });
    void upstream.start();
    const started = Date.now();
    const impatient = upstream.request('ping', undefined, { deadline: started + 200 });
    const patient = upstream.request('ping', undefined, { deadline: started + 20_000 });
    await expect(impatient).rejects.toMatchObject({ code: 'MESH_UPSTREAM_UNAVAILABLE' });
    await expect(patient).resolves.toEqual({ result: {} });
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
