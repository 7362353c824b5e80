import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MeshError } from '@mcp-mesh/protocol';
import { createPolicy, hashApiKey, parsePolicyConfig } from '@mcp-mesh/policy';
import { REPO_ROOT } from '../support/paths.js';

function problems(value: unknown): string[] {
  try {
    parsePolicyConfig(value);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('MESH_INVALID_CONFIG');
    return ((error as MeshError).details as { problems: string[] }).problems;
  }
  throw new Error('expected the policy to be refused');
}

const KEY = 'mesh_test-key-0123456789abcdefghijklmnop';

describe('policy config', () => {
  it('accepts the example file, fills defaults and freezes the result', () => {
    const config = parsePolicyConfig(JSON.parse(readFileSync(`${REPO_ROOT}examples/policy.example.json`, 'utf8')));
    expect(config.auth?.jwt?.algorithms).toEqual(['RS256', 'PS256', 'ES256', 'EdDSA']);
    expect(config.rateLimits?.perServer['github']).toEqual({ ratePerSec: 10, burst: 10 });
    expect(config.concurrency?.default).toEqual({ maxConcurrent: 16, maxQueue: 64 });
    expect(config.limits).toEqual({ maxJsonDepth: 64, maxHeaderCount: 100, maxHeaderBytes: 32768, maxHeaderValueBytes: 16384 });
    expect(Object.isFrozen(config.rbac?.roles['reader']?.allow[0])).toBe(true);
  });

  it('turns every section off when absent, except the always-on input limits', async () => {
    const config = parsePolicyConfig({});
    expect(config.auth).toBeUndefined();
    expect(config.limits.maxJsonDepth).toBe(64);
    const policy = await createPolicy(config);
    expect(policy.authenticator).toBeUndefined();
    expect(policy.rateLimits).toBeUndefined();
    expect(policy.tokenBudgets).toBeUndefined();
    expect(policy.authorizer.can({ principal: 'x' }, { kind: 'tool', server: 's', name: 't' })).toEqual({
      allowed: true,
      rule: 'rbac.off',
    });
    expect(await policy.guard.run({ method: 'tools/call', server: 's', tool: 't' }, async () => 'through')).toBe('through');
  });

  it('lists every problem at once, each with its path', () => {
    const found = problems({
      auth: {
        apiKeys: [
          { id: 'a', principal: 'p', hash: KEY, roles: ['ghost'] },
          { id: 'a', principal: 'q', hash: hashApiKey(KEY) },
        ],
        jwt: {
          issuer: 'https://idp',
          audience: 'https://mesh/mcp',
          jwksUrl: 'http://idp.example.com/jwks',
          keys: [{ kty: 'RSA', n: 'x', e: 'AQAB', d: 'secret' }],
        },
      },
      rbac: { roles: { 'bad.name': {}, ok: { allow: [{}] } }, principals: { bob: ['nope'] } },
      rateLimits: { perPrincipal: { ratePerSec: 0 } },
      breaker: { consecutiveFailures: 0 },
      limits: { maxJsonDepth: 0 },
      extra: true,
    });
    const text = found.join('\n');
    expect(text).toMatch(/policy\.auth\.apiKeys\.0\.hash: hash is "sha256:"/);
    expect(text).toMatch(/policy\.auth\.apiKeys\.1\.id: duplicate key id 'a'/);
    expect(text).toMatch(/policy\.auth\.resource: resource .* is required with jwt/);
    expect(text).toMatch(/policy\.auth\.jwt: give jwksUrl or keys \(exactly one\)/);
    expect(text).toMatch(/policy\.auth\.jwt\.jwksUrl: jwksUrl must be https/);
    expect(text).toMatch(/policy\.auth\.jwt\.keys\.0\.d: a private or secret key part/);
    expect(text).toMatch(/policy\.rbac\.roles.*role names are/);
    expect(text).toMatch(/policy\.rbac\.roles\.ok\.allow\.0: a rule names at least one of/);
    expect(text).toMatch(/policy\.rbac\.principals\.bob\.0: role 'nope' is not defined/);
    expect(text).toMatch(/policy\.rateLimits\.perPrincipal\.ratePerSec/);
    expect(text).toMatch(/policy\.breaker: a breaker needs consecutiveFailures > 0 or an errorRateThreshold/);
    expect(text).toMatch(/policy\.limits\.maxJsonDepth/);
    expect(text).toMatch(/policy: Unrecognized key: "extra"/);
    expect(found.length).toBeGreaterThanOrEqual(14);
  });

  it('refuses roles that no rbac entry defines, so a typo cannot silently deny', () => {
    const found = problems({
      auth: { apiKeys: [{ id: 'k', principal: 'p', hash: hashApiKey(KEY), roles: ['raeder'] }] },
      rbac: { roles: { reader: { allow: [{ tools: ['*'] }] } }, principals: { bob: ['reader', 'admn'] }, defaultRoles: ['x'] },
    });
    expect(found).toEqual([
      "policy.auth.apiKeys.0.roles.0: role 'raeder' is not defined in rbac.roles",
      "policy.rbac.principals.bob.1: role 'admn' is not defined in rbac.roles",
      "policy.rbac.defaultRoles.0: role 'x' is not defined in rbac.roles",
    ]);
  });

  it('needs at least one way in when auth is given', () => {
    expect(problems({ auth: {} })).toEqual(['policy.auth: auth needs at least one of apiKeys, jwt, anonymous.enabled (or leave auth out)']);
  });

  it('refuses server names that could not exist as record keys', () => {
    expect(problems({ concurrency: { perServer: { 'a.b': { maxConcurrent: 1 } } } }).join('\n')).toMatch(/invalid server name 'a\.b'/);
  });

  it('fails createPolicy on a static PEM key that cannot be imported', async () => {
    const config = parsePolicyConfig({
      auth: {
        resource: 'https://mesh/mcp',
        jwt: {
          issuer: 'i',
          audience: 'a',
          keys: [{ pem: '-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----', alg: 'RS256' }],
        },
      },
    });
    await expect(createPolicy(config)).rejects.toMatchObject({ code: 'MESH_INVALID_CONFIG' });
  });
});
