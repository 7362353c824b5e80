import { describe, expect, it } from 'vitest';
import { MeshError } from '@mcp-mesh/protocol';
import { parseMeshConfig } from '@mcp-mesh/runtime';

function problems(value: unknown): string[] {
  try {
    parseMeshConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('MESH_INVALID_CONFIG');
    return ((error as MeshError).details as { problems: string[] }).problems;
  }
  throw new Error('expected the config to be refused');
}

describe('mesh config', () => {
  it('accepts the desktop-client format and fills defaults', () => {
    const config = parseMeshConfig({
      mcpServers: {
        files: { command: 'npx', args: ['-y', 'server-filesystem', '/tmp'], env: { LOG: '1' } },
        remote: { type: 'streamable-http', url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
        off: { command: 'x', disabled: true },
      },
    });
    expect(Object.keys(config.servers)).toEqual(['files', 'remote']);
    expect(config.nats.url).toBe('nats://127.0.0.1:4222');
    expect(config.ingress).toMatchObject({ host: '127.0.0.1', port: 8080, separator: '__' });
    expect(Object.isFrozen(config.servers.files)).toBe(true);
  });

  it('lists every problem at once, each with its path', () => {
    const found = problems({
      servers: {
        ok: { command: 'x' },
        a__b: { command: 'x' },
        remote: { url: 'ftp://x' },
        env: { command: 'x', env: { 'BAD-NAME': '1' } },
      },
      ingress: { port: 70000 },
    });
    expect(found.some((p) => p.startsWith('servers.a__b:') && p.includes('"__"'))).toBe(true);
    expect(found.some((p) => p.startsWith('servers.remote.url:'))).toBe(true);
    expect(found.some((p) => p.startsWith('servers.env.env'))).toBe(true);
    expect(found.some((p) => p.startsWith('ingress.port:'))).toBe(true);
    expect(found).toHaveLength(4);
  });

  it('refuses servers and mcpServers together', () => {
    expect(problems({ servers: {}, mcpServers: {} })).toEqual(['mcpServers: give "servers" or its alias "mcpServers", not both']);
  });
});
