import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Subjects, decodeToken, encodeToken, methodTokens } from '@mcp-mesh/protocol';

describe('subjects', () => {
  const subjects = new Subjects();

  it('put the method in the subject', () => {
    expect(subjects.server('crm', 'tools/call')).toBe('mcp.v1.srv.crm.tools.call');
    expect(subjects.server('crm', 'resources/templates/list')).toBe('mcp.v1.srv.crm.resources.templates.list');
    expect(subjects.instance('crm-1a2b', 'ping')).toBe('mcp.v1.inst.crm-1a2b.ping');
    expect(subjects.registry('heartbeat')).toBe('mcp.v1.registry.heartbeat');
    expect(new Subjects('tenant.a.mcp').server('x', 'ping')).toBe('tenant.a.mcp.srv.x.ping');
  });

  it('encode any user string as one safe token, reversibly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (value) => {
        const token = encodeToken(value);
        expect(token).toMatch(/^[A-Za-z0-9_~-]+$/);
        expect(token).not.toMatch(/[.*>\s]/);
        expect(decodeToken(token)).toBe(value);
      }),
    );
  });

  it('cannot be steered by hostile names', () => {
    expect(subjects.server('a.b', 'tools/call')).toBe('mcp.v1.srv.a~2eb.tools.call');
    expect(subjects.server('>', 'tools/call')).toBe('mcp.v1.srv.~3e.tools.call');
    expect(methodTokens('tools/*')).toBe('tools.~2a');
  });

  it('refuse an invalid prefix', () => {
    expect(() => new Subjects('mcp..v1')).toThrow(/invalid subject prefix/);
    expect(() => new Subjects('mcp.>')).toThrow(/invalid subject prefix/);
  });

  it('name queue groups without dots', () => {
    expect(subjects.queueGroup('crm')).not.toContain('.');
  });
});
