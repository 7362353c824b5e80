import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TOOL_NAME_PATTERN, meshResourceUri, namespacedName, parseMeshResourceUri, splitNamespacedName } from '@mcp-mesh/protocol';

describe('namespaced names', () => {
  it('keep short valid names readable and reversible', () => {
    expect(namespacedName('github', 'create_issue')).toBe('github__create_issue');
    expect(splitNamespacedName('github__create_issue')).toEqual({ server: 'github', name: 'create_issue' });
    // Tool names may themselves contain the separator; server names never do.
    expect(splitNamespacedName('srv__a__b')).toEqual({ server: 'srv', name: 'a__b' });
  });

  it('always stay within ^[a-zA-Z0-9_-]{1,64}$, whatever the tool name', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/), fc.string({ minLength: 1, maxLength: 200 }), (server, tool) => {
        expect(namespacedName(server, tool)).toMatch(TOOL_NAME_PATTERN);
      }),
    );
  });

  it('never collide for different originals', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 120 }), fc.string({ minLength: 1, maxLength: 120 }), (a, b) => {
        fc.pre(a !== b);
        expect(namespacedName('server-with-a-rather-long-name', a)).not.toBe(namespacedName('server-with-a-rather-long-name', b));
      }),
    );
  });

  it('shorten long names deterministically with a hash suffix', () => {
    const long = 'x'.repeat(100);
    const first = namespacedName('srv', long);
    expect(first).toHaveLength(64);
    expect(namespacedName('srv', long)).toBe(first);
    expect(first.startsWith('srv__xxx')).toBe(true);
  });

  it('rewrite colliding resource URIs reversibly', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), fc.webUrl(), (server, uri) => {
        expect(parseMeshResourceUri(meshResourceUri(server, uri))).toEqual({ server, uri });
      }),
    );
  });
});
