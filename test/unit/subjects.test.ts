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

  it('read back the method of an extension or instance subject, under any prefix', () => {
    for (const prefixed of [subjects, new Subjects('tenant.a.mcp')]) {
      expect(prefixed.extensionAll('a.b')).toBe(`${prefixed.prefix}.srv.a~2eb.ext.>`);
      expect(prefixed.extensionMethod(prefixed.extension('a.b', 'tasks/get'))).toBe('tasks/get');
      expect(prefixed.instanceMethod(prefixed.instance('crm-1a2b', 'resources/templates/list'))).toBe('resources/templates/list');
    }
  });

  it("read back whom a notify or session subject addresses, and cover a server's audit subjects", () => {
    for (const prefixed of [subjects, new Subjects('tenant.a.mcp')]) {
      expect(prefixed.addressee(prefixed.notify('a.b', 'notifications/tools/list_changed'))).toBe('a.b');
      expect(prefixed.addressee(prefixed.session('3f2a-77', 'notifications/message'))).toBe('3f2a-77');
      expect(prefixed.notifyAll()).toBe(`${prefixed.prefix}.notify.>`);
      expect(prefixed.sessionAll()).toBe(`${prefixed.prefix}.session.>`);
      expect(prefixed.auditServer('a.b')).toBe(`${prefixed.prefix}.audit.a~2eb.>`);
      expect(prefixed.audit('a.b', 'tools/call').startsWith(prefixed.auditServer('a.b').slice(0, -1))).toBe(true);
      expect(prefixed.auditServer('_mesh')).toBe(`${prefixed.prefix}.audit._mesh.>`);
    }
  });

  it('name queue groups without dots', () => {
    expect(subjects.queueGroup('crm')).not.toContain('.');
  });
});
