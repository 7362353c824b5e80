import { describe, expect, it } from 'vitest';
import { ModernMetaKey, modernRevisionOf, parseReplicaBoundId, replicaBoundId, withoutModernMaterial } from '@mcp-mesh/protocol';

const envelope = {
  [ModernMetaKey.ProtocolVersion]: '2026-07-28',
  [ModernMetaKey.ClientCapabilities]: { sampling: {} },
  [ModernMetaKey.ClientInfo]: { name: 'c', version: '1' },
  [ModernMetaKey.LogLevel]: 'info',
};

describe('the 2026-07-28 envelope carried in mesh requests', () => {
  it('tells a modern request by its envelope claim', () => {
    expect(modernRevisionOf({ name: 't', _meta: envelope })).toBe('2026-07-28');
    expect(modernRevisionOf({ _meta: { ...envelope, [ModernMetaKey.ProtocolVersion]: '2027-01-01' } })).toBe('2027-01-01');
  });

  it('treats no claim, a 2025 revision or a malformed claim as a legacy-era request', () => {
    expect(modernRevisionOf(undefined)).toBeUndefined();
    expect(modernRevisionOf({ name: 't' })).toBeUndefined();
    expect(modernRevisionOf({ _meta: { progressToken: 1 } })).toBeUndefined();
    expect(modernRevisionOf({ _meta: { [ModernMetaKey.ProtocolVersion]: '2025-11-25' } })).toBeUndefined();
    expect(modernRevisionOf({ _meta: { [ModernMetaKey.ProtocolVersion]: 'v999' } })).toBeUndefined();
    expect(modernRevisionOf({ _meta: { ...envelope, [ModernMetaKey.ClientCapabilities]: 'all' } })).toBeUndefined();
  });

  it('strips the envelope and the retry fields for a legacy-era upstream, keeping the rest of _meta', () => {
    const params = {
      name: 't',
      arguments: { a: 1 },
      inputResponses: { k: { action: 'accept' } },
      requestState: 'sealed',
      _meta: { ...envelope, progressToken: 7, traceparent: '00-abc-def-01' },
    };
    expect(withoutModernMaterial(params)).toEqual({
      name: 't',
      arguments: { a: 1 },
      _meta: { progressToken: 7, traceparent: '00-abc-def-01' },
    });
    expect(withoutModernMaterial({ name: 't', _meta: envelope })).toEqual({ name: 't' });
    expect(params.requestState).toBe('sealed');
  });
});

describe('replica-bound ids (task ids, requestState)', () => {
  it('round-trip the instance and the upstream value, whatever the value holds', () => {
    for (const value of ['task-1', 'a~b~c', 'eyJhbGciOi.J9-x_y=']) {
      const id = replicaBoundId('conf-1a2b3c4d', value);
      expect(parseReplicaBoundId(id)).toEqual({ instance: 'conf-1a2b3c4d', value });
    }
  });

  it('leave ids the mesh never issued alone', () => {
    for (const id of ['task-1', 'mesh~', 'mesh~conf', 'mesh~~x', 'mesh~conf~', 'MESH~conf~x'])
      expect(parseReplicaBoundId(id)).toBeUndefined();
  });
});
