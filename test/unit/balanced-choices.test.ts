import { describe, expect, it } from 'vitest';
import { balancedChoices } from '@mcp-mesh/ingress';
import { BridgeDescriptorSchema, type BridgeDescriptor } from '@mcp-mesh/protocol';

function replica(instance: string, state: BridgeDescriptor['state'], natsCluster?: string): BridgeDescriptor {
  return BridgeDescriptorSchema.parse({
    v: 1,
    server: 'github',
    instance,
    state,
    upstream: { kind: 'stdio', target: 'node server.js' },
    digests: {},
    counts: {},
    startedAt: '2026-11-25T00:00:00.000Z',
    restarts: 0,
    ttlMs: 3_000,
    inFlight: 0,
    ...(natsCluster === undefined ? {} : { natsCluster }),
  });
}

describe('balancedChoices: where the ingress may send a call itself', () => {
  it('leaves a single replica to the queue subject', () => {
    expect(balancedChoices([replica('a', 'ready')], undefined)).toEqual([]);
  });

  it('chooses among ready replicas only, so none waits on a restarting upstream', () => {
    expect(balancedChoices([replica('a', 'ready'), replica('b', 'upstream-down'), replica('c', 'ready')], undefined)).toEqual(['a', 'c']);
    expect(balancedChoices([replica('a', 'ready'), replica('b', 'draining')], undefined)).toEqual(['a']);
    expect(balancedChoices([replica('a', 'starting'), replica('b', 'upstream-down')], undefined)).toEqual([]);
  });

  it("prefers replicas in the ingress's own NATS cluster, as a queue group does across gateways", () => {
    const replicas = [replica('eu-1', 'ready', 'eu'), replica('us-1', 'ready', 'us'), replica('eu-2', 'ready', 'eu')];
    expect(balancedChoices(replicas, 'eu')).toEqual(['eu-1', 'eu-2']);
    expect(balancedChoices(replicas, 'us')).toEqual(['us-1']);
    // No ready replica in the local cluster: any ready one (a regional outage costs latency, not errors).
    expect(balancedChoices([replica('us-1', 'ready', 'us'), replica('eu-1', 'upstream-down', 'eu')], 'eu')).toEqual(['us-1']);
    // Not in a cluster (a single nats-server): every ready replica.
    expect(balancedChoices(replicas, undefined)).toEqual(['eu-1', 'us-1', 'eu-2']);
  });
});
