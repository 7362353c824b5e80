import { describe, expect, it } from 'vitest';
import { encodeHeldInputState, isHeldInputState, parseHeldInputState, parseReplicaBoundId, type HeldInputState } from '@mcp-mesh/protocol';

const state: HeldInputState = {
  v: 1,
  server: 'legacy',
  method: 'tools/call',
  name: 'test_sampling',
  instance: 'legacy-1a2b3c4d',
  replyTo: '_INBOX.1J7da1z4PUZ3TgcIoJiT4C',
  asked: 'sampling/createMessage',
  deadline: 1_800_000_000_000,
};

describe('the requestState the mesh mints for a held call', () => {
  it('round-trips, and is neither a replica-bound upstream state nor mistaken for one', () => {
    const encoded = encodeHeldInputState(state);
    expect(isHeldInputState(encoded)).toBe(true);
    expect(parseHeldInputState(encoded)).toEqual({ state });
    expect(parseReplicaBoundId(encoded)).toBeUndefined();
    expect(isHeldInputState('mesh~legacy-1~sealed')).toBe(false);
  });

  it('names no held call when malformed, or when replyTo is not a NATS inbox', () => {
    expect(parseHeldInputState('mesh-input~%%%')).toHaveProperty('problem');
    expect(parseHeldInputState(`mesh-input~${Buffer.from('{"v":1}').toString('base64url')}`)).toHaveProperty('problem');
    const elsewhere = Buffer.from(JSON.stringify({ ...state, replyTo: 'mcp.v1.srv.legacy.tools.call' })).toString('base64url');
    expect(parseHeldInputState(`mesh-input~${elsewhere}`)).toHaveProperty('problem');
    expect(() => encodeHeldInputState({ ...state, replyTo: '>' })).toThrow();
  });
});
