import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseMeshConfig } from '@mcp-mesh/runtime';
import { parsePolicyConfig } from '@mcp-mesh/policy';
import { generateConfigDocs, REFERENCE_PATH, SCHEMA_PATH } from '../../scripts/gen-config-docs.mjs';
import { REPO_ROOT } from '../support/paths.js';

const read = (path: string) => readFileSync(`${REPO_ROOT}${path}`, 'utf8');
const readJson = (path: string): unknown => JSON.parse(read(path));

describe('the generated configuration reference', async () => {
  const generated = await generateConfigDocs();
  const ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });
  const validate = ajv.compile(generated.schema);
  const problems = () => (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('; ');

  it.each([SCHEMA_PATH, REFERENCE_PATH])('%s is up to date (regenerate: npm run docs:config)', (path) => {
    expect(read(path), `${path} is stale: run \`npx turbo run build && npm run docs:config\``).toBe(generated.files[path]);
  });

  it('is a JSON Schema draft 2020-12 document that Ajv compiles in strict mode', () => {
    expect(generated.schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(typeof validate).toBe('function');
  });

  it('accepts examples/mesh.config.json, which the mesh itself accepts', () => {
    const example = readJson('examples/mesh.config.json');
    expect(() => parseMeshConfig(example)).not.toThrow();
    expect(validate(example), problems()).toBe(true);
  });

  it('accepts examples/policy.example.json under "policy", which the policy package accepts', () => {
    const policy = readJson('examples/policy.example.json');
    expect(() => parsePolicyConfig(policy)).not.toThrow();
    expect(validate({ policy }), problems()).toBe(true);
  });

  it('accepts a config that references the schema with "$schema" and uses every server shape', () => {
    const config = {
      $schema: './docs/mesh.config.schema.json',
      mcpServers: {
        files: { command: 'npx', args: ['-y', 'server-filesystem', '/tmp'], env: { TOKEN: 'x' }, replicas: 2 },
        remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' }, timeoutMs: 30_000 },
      },
    };
    expect(() => parseMeshConfig(config)).not.toThrow();
    expect(validate(config), problems()).toBe(true);
  });

  it.each([
    ['an unknown top-level key', { serverz: {} }],
    ['a server with neither command nor url', { servers: { files: { args: [] } } }],
    ['a server with both command and url', { servers: { both: { command: 'x', url: 'https://example.com/mcp' } } }],
    ['an invalid server name', { servers: { 'bad name': { command: 'x' } } }],
    ['a typo inside a server', { servers: { files: { command: 'x', argz: [] } } }],
    ['a wrong type', { ingress: { port: '8080' } }],
    ['an unknown policy key', { policy: { rbca: {} } }],
    ['an API key in the clear', { policy: { auth: { apiKeys: [{ id: 'k', principal: 'p', hash: 'mesh_secret' }] } } }],
  ])('refuses %s, as the mesh does', (_name, config) => {
    expect(() => parseMeshConfig(config) && parsePolicyConfig((config as { policy?: unknown }).policy ?? {})).toThrow();
    expect(validate(config)).toBe(false);
  });
});
