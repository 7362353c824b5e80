import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MeshError } from '@mcp-mesh/protocol';
import { Authorizer, compileGlob, formatExplanation, globMatch, parsePolicyConfig, type PolicyConfigInput } from '@mcp-mesh/policy';

const RBAC: PolicyConfigInput['rbac'] = {
  roles: {
    reader: { allow: [{ tools: ['get_*', 'list_*'], prompts: ['*'], resources: ['file:///public/*'] }] },
    'github-dev': {
      allow: [{ servers: ['github'] }],
      deny: [{ servers: ['github'], tools: ['delete_*'], description: 'nobody deletes through the mesh' }],
    },
    'no-prod': { deny: [{ servers: ['prod-*'] }] },
  },
  principals: { alice: ['github-dev'], bob: ['reader'] },
  defaultRoles: ['no-prod'],
};

function authorizer(rbac: PolicyConfigInput['rbac'] = RBAC): Authorizer {
  return new Authorizer({ rbac: parsePolicyConfig({ rbac }).rbac });
}

describe('RBAC decisions', () => {
  const rbac = authorizer();
  const alice = { principal: 'alice' };
  const bob = { principal: 'bob' };

  it('allows by the first matching allow rule and names it', () => {
    expect(rbac.can(alice, { kind: 'tool', server: 'github', name: 'create_issue' })).toEqual({
      allowed: true,
      rule: 'rbac.roles.github-dev.allow[0]',
      role: 'github-dev',
    });
    expect(rbac.can(bob, { kind: 'tool', server: 'files', name: 'get_file' })).toMatchObject({
      allowed: true,
      rule: 'rbac.roles.reader.allow[0]',
    });
    expect(rbac.can(bob, { kind: 'resource', server: 'files', name: 'file:///public/a/b.txt' }).allowed).toBe(true);
    expect(rbac.can(bob, { kind: 'prompt', server: 'github', name: 'summarise' }).allowed).toBe(true);
  });

  it('lets deny rules win over allow rules, naming the deny rule', () => {
    expect(rbac.can(alice, { kind: 'tool', server: 'github', name: 'delete_repo' })).toEqual({
      allowed: false,
      rule: 'rbac.roles.github-dev.deny[0]',
      role: 'github-dev',
    });
    // bob's reader role allows get_* everywhere, but every principal has the no-prod role.
    expect(rbac.can(bob, { kind: 'tool', server: 'prod-db', name: 'get_rows' })).toMatchObject({
      allowed: false,
      rule: 'rbac.roles.no-prod.deny[0]',
    });
  });

  it('denies by default what no allow rule covers', () => {
    expect(rbac.can(alice, { kind: 'tool', server: 'files', name: 'get_file' })).toEqual({ allowed: false, rule: 'rbac.default-deny' });
    expect(rbac.can(bob, { kind: 'tool', server: 'files', name: 'write_file' })).toEqual({ allowed: false, rule: 'rbac.default-deny' });
    expect(rbac.can(bob, { kind: 'resource', server: 'files', name: 'file:///secret/key' }).allowed).toBe(false);
    expect(rbac.can({ principal: 'mallory' }, { kind: 'tool', server: 'github', name: 'get_issue' }).allowed).toBe(false);
  });

  it('decides servers as a whole: visible through any allow rule, hidden only by a whole-server deny', () => {
    expect(rbac.can(alice, { kind: 'server', server: 'github' }).allowed).toBe(true);
    expect(rbac.can(alice, { kind: 'server', server: 'files' }).allowed).toBe(false);
    expect(rbac.can(bob, { kind: 'server', server: 'files' }).allowed).toBe(true);
    expect(rbac.can(bob, { kind: 'server', server: 'prod-db' })).toMatchObject({ allowed: false, rule: 'rbac.roles.no-prod.deny[0]' });
  });

  it('merges credential roles with rbac.principals and defaultRoles; undefined roles grant nothing', () => {
    const carol = { principal: 'carol', roles: ['reader', 'made-up'] };
    expect(rbac.can(carol, { kind: 'tool', server: 'files', name: 'list_dir' }).allowed).toBe(true);
    expect(rbac.rolesOf(carol)).toEqual([
      { role: 'reader', from: 'credential', defined: true },
      { role: 'made-up', from: 'credential', defined: false },
      { role: 'no-prod', from: 'default', defined: true },
    ]);
    expect(rbac.rolesOf({ principal: 'constructor' }).map((r) => r.role)).toEqual(['no-prod']);
  });

  it('throws MESH_FORBIDDEN (403) naming the rule from authorize', () => {
    try {
      rbac.authorize(alice, { kind: 'tool', server: 'github', name: 'delete_repo' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MeshError);
      const mesh = error as MeshError;
      expect(mesh.code).toBe('MESH_FORBIDDEN');
      expect(mesh.httpStatus).toBe(403);
      expect(mesh.message).toContain('rbac.roles.github-dev.deny[0]');
      expect(mesh.toWire().data).toMatchObject({
        meshCode: 'MESH_FORBIDDEN',
        rule: 'rbac.roles.github-dev.deny[0]',
        server: 'github',
        name: 'delete_repo',
      });
    }
    expect(() => rbac.authorize(alice, { kind: 'tool', server: 'github', name: 'create_issue' })).not.toThrow();
  });

  it('allows everything without an rbac section', () => {
    expect(new Authorizer().can({ principal: 'x' }, { kind: 'tool', server: 'any', name: 'thing' })).toEqual({
      allowed: true,
      rule: 'rbac.off',
    });
  });
});

describe('list filtering', () => {
  const rbac = authorizer();

  it('keeps only what the subject may call, in order', () => {
    const tools = [{ name: 'get_file' }, { name: 'write_file' }, { name: 'list_dir' }, { description: 'no name' }];
    expect(rbac.filterList({ principal: 'bob' }, 'files', 'tool', tools)).toEqual([{ name: 'get_file' }, { name: 'list_dir' }]);
    expect(rbac.filterList({ principal: 'alice' }, 'github', 'tool', [{ name: 'create_issue' }, { name: 'delete_repo' }])).toEqual([
      { name: 'create_issue' },
    ]);
    expect(rbac.filterList({ principal: 'bob' }, 'prod-db', 'tool', tools)).toEqual([]);
  });

  it('filters resources by uri and templates by uriTemplate', () => {
    const resources = [{ uri: 'file:///public/readme.md' }, { uri: 'file:///etc/passwd' }, { uriTemplate: 'file:///public/{path}' }];
    expect(rbac.filterList({ principal: 'bob' }, 'files', 'resource', resources)).toEqual([
      { uri: 'file:///public/readme.md' },
      { uriTemplate: 'file:///public/{path}' },
    ]);
  });
});

describe('explain', () => {
  const rbac = authorizer();

  it('gives the decision, the roles with their origin, and every rule weighed', () => {
    const explanation = rbac.explain('alice', 'github__delete_repo');
    expect(explanation.target).toEqual({ kind: 'tool', server: 'github', name: 'delete_repo' });
    expect(explanation.decision).toMatchObject({ allowed: false, rule: 'rbac.roles.github-dev.deny[0]' });
    expect(explanation.roles).toEqual([
      { role: 'github-dev', from: 'principal', defined: true },
      { role: 'no-prod', from: 'default', defined: true },
    ]);
    expect(explanation.rules.map((r) => [r.rule, r.matched, r.decisive])).toEqual([
      ['rbac.roles.github-dev.deny[0]', true, true],
      ['rbac.roles.no-prod.deny[0]', false, false],
      ['rbac.roles.github-dev.allow[0]', true, false],
    ]);
    const text = formatExplanation(explanation);
    expect(text.split('\n')[0]).toBe('alice → tool delete_repo of server github: DENIED by rbac.roles.github-dev.deny[0]');
    expect(text).toContain('roles: github-dev (principal), no-prod (default)');
    expect(text).toMatch(/deny {2}rbac\.roles\.github-dev\.deny\[0\] {2}servers: github; tools: delete_\* {2}← decided/);
  });

  it('explains a default deny and a bare server', () => {
    const text = formatExplanation(rbac.explain({ principal: 'dave', roles: ['ghost'] }, 'files__read'));
    expect(text).toContain('DENIED by rbac.default-deny');
    expect(text).toContain('ghost (credential, not defined: grants nothing)');
    expect(rbac.explain('bob', 'files').target).toEqual({ kind: 'server', server: 'files' });
    expect(() => rbac.explain('bob', '__x')).toThrow(MeshError);
  });
});

describe('globs', () => {
  it('match * (anything, / included), ? (one character) and escapes, nothing else special', () => {
    expect(globMatch('get_*', 'get_file')).toBe(true);
    expect(globMatch('get_*', 'GET_file')).toBe(false);
    expect(globMatch('file:///public/*', 'file:///public/a/b')).toBe(true);
    expect(globMatch('a?c', 'abc')).toBe(true);
    expect(globMatch('a?c', 'ac')).toBe(false);
    expect(globMatch('a?c', 'a😀c')).toBe(true);
    expect(globMatch('\\*', '*')).toBe(true);
    expect(globMatch('\\*', 'x')).toBe(false);
    expect(globMatch('(a|b)+[x]', '(a|b)+[x]')).toBe(true);
    expect(globMatch('(a|b)+[x]', 'aax')).toBe(false);
    expect(globMatch('.*', 'anything')).toBe(false);
    expect(globMatch('*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });

  it('agree with an escaped-regex reference on random patterns, and never throw', () => {
    const reference = (pattern: string, text: string): boolean => {
      let source = '';
      const chars = Array.from(pattern);
      for (let i = 0; i < chars.length; i++) {
        const ch = chars[i] as string;
        if (ch === '\\') source += (chars[++i] ?? '\\').replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        else if (ch === '*') source += '[\\s\\S]*';
        else if (ch === '?') source += '[\\s\\S]';
        else source += ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
      }
      return new RegExp(`^${source}$`, 'u').test(text);
    };
    const alphabet = fc.constantFrom('a', 'b', '*', '?', '\\', '.', '(', '😀');
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 8 }),
        fc.array(fc.constantFrom('a', 'b', '*', '?', '\\', '.', '😀'), { maxLength: 10 }),
        (p, t) => {
          const pattern = p.join('');
          const text = t.join('');
          expect(compileGlob(pattern).test(text)).toBe(reference(pattern, text));
        },
      ),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (pattern, text) => {
        expect(typeof globMatch(pattern, text)).toBe('boolean');
      }),
    );
  });

  it('make deny rules win for any name: property', () => {
    const rbac = authorizer({ roles: { all: { allow: [{ tools: ['*'] }], deny: [{ tools: ['*secret*'] }] } }, principals: { p: ['all'] } });
    fc.assert(
      fc.property(fc.string(), fc.string(), (server, name) => {
        const decision = rbac.can({ principal: 'p' }, { kind: 'tool', server, name });
        expect(decision.allowed).toBe(!name.includes('secret'));
      }),
    );
  });
});
