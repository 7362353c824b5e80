import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { MeshError } from '@mcp-mesh/protocol';
import {
  Authenticator,
  buildProtectedResourceMetadata,
  generateApiKey,
  hashApiKey,
  parsePolicyConfig,
  protectedResourceMetadataUrl,
  type AuthConfig,
  type Credentials,
} from '@mcp-mesh/policy';

const ISSUER = 'https://idp.test/realms/mesh';
const AUDIENCE = 'https://mesh.test/mcp';
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const now = () => NOW;
const sec = (ms: number) => Math.floor(ms / 1000);

let server: Server;
let jwksUrl: string;
let jwksRequests = 0;
let signingKey: CryptoKey;
let publicJwk: JWK;
let otherKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
  otherKey = (await generateKeyPair('RS256')).privateKey;
  server = createServer((req, res) => {
    jwksRequests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

interface TokenOptions {
  key?: CryptoKey;
  kid?: string;
  iss?: string;
  aud?: string;
  sub?: string;
  exp?: number | null;
  nbf?: number;
  roles?: unknown;
}

function token(options: TokenOptions = {}): Promise<string> {
  const claims: Record<string, unknown> = { roles: options.roles ?? ['reader'] };
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'k1' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setSubject(options.sub ?? 'alice')
    .setIssuedAt(sec(NOW) - 60);
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? sec(NOW) + 300);
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(options.key ?? signingKey);
}

function authWith(auth: unknown): AuthConfig {
  const config = parsePolicyConfig({ auth });
  if (!config.auth) throw new Error('no auth');
  return config.auth;
}

function jwtAuthenticator(jwt: Record<string, unknown> = {}): Authenticator {
  return new Authenticator({ auth: authWith({ resource: AUDIENCE, jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, ...jwt } }), now });
}

async function refusal(authenticator: Authenticator, credentials: Credentials): Promise<MeshError> {
  try {
    await authenticator.authenticate(credentials);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return error as MeshError;
  }
  throw new Error('expected a refusal');
}

function expectNoSecret(error: MeshError, secret: string): void {
  const visible = [error.message, JSON.stringify(error.toWire()), JSON.stringify(error.details), String(error.cause ?? '')].join('\n');
  expect(visible).not.toContain(secret);
  // A JWT's signature and payload segments must not leak either.
  for (const part of secret.split('.').filter((p) => p.length > 8)) expect(visible).not.toContain(part);
}

describe('JWT bearer tokens against a JWKS served over HTTP', () => {
  it('accepts a valid token: principal from sub, roles from the roles claim', async () => {
    const identity = await jwtAuthenticator().authenticate({ authorization: `Bearer ${await token()}` });
    expect(identity).toEqual({ principal: 'alice', roles: ['reader'], method: 'jwt', expiresAt: (sec(NOW) + 300) * 1000 });
  });

  it('fetches the JWKS once and reuses it', async () => {
    const authenticator = jwtAuthenticator();
    const before = jwksRequests;
    for (let i = 0; i < 3; i++) await authenticator.authenticate({ authorization: `Bearer ${await token()}` });
    expect(jwksRequests - before).toBe(1);
  });

  it('refuses an expired token with an invalid_token challenge that names the metadata URL', async () => {
    const expired = await token({ exp: sec(NOW) - 120 });
    const error = await refusal(jwtAuthenticator(), { authorization: `Bearer ${expired}` });
    expect(error.code).toBe('MESH_UNAUTHENTICATED');
    expect(error.httpStatus).toBe(401);
    expect(error.details).toMatchObject({ rule: 'auth.jwt', reason: 'expired' });
    expect(error.details?.['wwwAuthenticate']).toBe(
      'Bearer resource_metadata="https://mesh.test/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="the bearer token has expired"',
    );
    expectNoSecret(error, expired);
  });

  it('refuses a token for another audience or from another issuer', async () => {
    const authenticator = jwtAuthenticator();
    const wrongAudience = await token({ aud: 'https://other.test/api' });
    const wrongIssuer = await token({ iss: 'https://evil.test' });
    expect((await refusal(authenticator, { authorization: `Bearer ${wrongAudience}` })).details).toMatchObject({
      reason: 'wrong-audience',
    });
    expect((await refusal(authenticator, { authorization: `Bearer ${wrongIssuer}` })).details).toMatchObject({ reason: 'wrong-issuer' });
  });

  it('allows the configured clock skew on exp and nbf, and no more', async () => {
    const authenticator = jwtAuthenticator({ clockSkewSec: 30 });
    await expect(authenticator.authenticate({ authorization: `Bearer ${await token({ exp: sec(NOW) - 20 })}` })).resolves.toMatchObject({
      principal: 'alice',
    });
    await expect(authenticator.authenticate({ authorization: `Bearer ${await token({ nbf: sec(NOW) + 20 })}` })).resolves.toMatchObject({
      principal: 'alice',
    });
    expect((await refusal(authenticator, { authorization: `Bearer ${await token({ exp: sec(NOW) - 40 })}` })).details).toMatchObject({
      reason: 'expired',
    });
    expect((await refusal(authenticator, { authorization: `Bearer ${await token({ nbf: sec(NOW) + 40 })}` })).details).toMatchObject({
      reason: 'not-yet-valid',
    });
    const strict = jwtAuthenticator({ clockSkewSec: 0 });
    expect((await refusal(strict, { authorization: `Bearer ${await token({ exp: sec(NOW) - 20 })}` })).details).toMatchObject({
      reason: 'expired',
    });
  });

  it('refuses a token signed by an untrusted key, one without exp, and an unsigned one', async () => {
    const authenticator = jwtAuthenticator();
    const forged = await token({ key: otherKey });
    expect((await refusal(authenticator, { authorization: `Bearer ${forged}` })).details).toMatchObject({ reason: 'bad-signature' });
    const noExp = await token({ exp: null });
    expect((await refusal(authenticator, { authorization: `Bearer ${noExp}` })).details).toMatchObject({ reason: 'invalid-claims' });
    const body = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'root', exp: sec(NOW) + 60 })).toString('base64url');
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${body}.`;
    const error = await refusal(authenticator, { authorization: `Bearer ${unsigned}` });
    expect(error.code).toBe('MESH_UNAUTHENTICATED');
    expect(error.details?.['reason']).not.toBe('expired');
  });

  it('reads roles from a dotted claim path and a space-separated string', async () => {
    const keycloakish = new Authenticator({
      auth: authWith({ resource: AUDIENCE, jwt: { issuer: ISSUER, audience: AUDIENCE, jwksUrl, rolesClaim: 'realm_access.roles' } }),
      now,
    });
    const nested = await token({ roles: undefined });
    const withNested = await new SignJWT({ realm_access: { roles: ['ops', 7, 'dev'] } })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('bob')
      .setExpirationTime(sec(NOW) + 60)
      .sign(signingKey);
    expect((await keycloakish.authenticate({ authorization: `Bearer ${withNested}` })).roles).toEqual(['ops', 'dev']);
    expect((await keycloakish.authenticate({ authorization: `Bearer ${nested}` })).roles).toEqual([]);
    const spaced = await token({ roles: 'a b  c' });
    expect((await jwtAuthenticator().authenticate({ authorization: `Bearer ${spaced}` })).roles).toEqual(['a', 'b', 'c']);
  });

  it('answers 503 MESH_AUTH_UNAVAILABLE, not 401, when the JWKS cannot be fetched', async () => {
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(gone.address() as AddressInfo).port}/jwks`;
    await new Promise((resolve) => gone.close(resolve));
    const authenticator = jwtAuthenticator({ jwksUrl: url, jwksTimeoutMs: 2000 });
    const error = await refusal(authenticator, { authorization: `Bearer ${await token()}` });
    expect(error.code).toBe('MESH_AUTH_UNAVAILABLE');
    expect(error.httpStatus).toBe(503);
    expect(error.details).toMatchObject({ rule: 'auth.jwt', reason: 'keys-unavailable' });
  });

  it('verifies against static keys given as a JWK or as a PEM', async () => {
    const pair = await generateKeyPair('ES256');
    const pem = await exportSPKI(pair.publicKey);
    const signed = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('svc')
      .setExpirationTime(sec(NOW) + 60)
      .sign(pair.privateKey);
    const viaPem = new Authenticator({
      auth: authWith({ resource: AUDIENCE, jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [{ pem, alg: 'ES256' }] } }),
      now,
    });
    await viaPem.ready();
    expect(await viaPem.authenticate({ authorization: `Bearer ${signed}` })).toMatchObject({ principal: 'svc', method: 'jwt' });
    const viaJwk = new Authenticator({
      auth: authWith({ resource: AUDIENCE, jwt: { issuer: ISSUER, audience: AUDIENCE, keys: [publicJwk] } }),
      now,
    });
    expect(await viaJwk.authenticate({ authorization: `Bearer ${await token()}` })).toMatchObject({ principal: 'alice' });
    expect((await refusal(viaJwk, { authorization: `Bearer ${signed}` })).code).toBe('MESH_UNAUTHENTICATED');
  });
});

describe('API keys', () => {
  const key = generateApiKey();
  const otherKey = generateApiKey();
  const auth = () => authWith({ apiKeys: [{ id: 'ci', principal: 'ci-bot', hash: hashApiKey(key), roles: [] }] });

  it('hashes keys as sha256:<base64url> and refuses short keys', () => {
    expect(key).toMatch(/^mesh_[A-Za-z0-9_-]{43}$/);
    expect(key).not.toBe(otherKey);
    expect(hashApiKey(key)).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(hashApiKey(key)).toBe(hashApiKey(key));
    expect(hashApiKey(key)).not.toContain(key);
    expect(() => hashApiKey('password123')).toThrow(RangeError);
  });

  it('accepts a configured key in the API key header or as a bearer token', async () => {
    const authenticator = new Authenticator({ auth: auth() });
    expect(await authenticator.authenticate({ apiKeyHeader: key })).toEqual({
      principal: 'ci-bot',
      roles: [],
      method: 'api-key',
      keyId: 'ci',
    });
    expect(await authenticator.authenticate({ authorization: `Bearer ${key}` })).toMatchObject({ principal: 'ci-bot', keyId: 'ci' });
    expect(authenticator.apiKeyHeaderName).toBe('x-api-key');
  });

  it('refuses an unknown key without echoing it', async () => {
    const error = await refusal(new Authenticator({ auth: auth() }), { apiKeyHeader: otherKey });
    expect(error.details).toMatchObject({ rule: 'auth.apiKeys', reason: 'unknown-key' });
    expect(error.details?.['wwwAuthenticate']).toContain('error="invalid_token"');
    expectNoSecret(error, otherKey);
  });

  it('refuses two credentials at once, other schemes, and oversized credentials', async () => {
    const authenticator = new Authenticator({ auth: auth() });
    expect((await refusal(authenticator, { apiKeyHeader: key, authorization: `Bearer ${key}` })).details).toMatchObject({
      rule: 'auth.ambiguous',
    });
    const basic = await refusal(authenticator, { authorization: `Basic ${Buffer.from(`u:${key}`).toString('base64')}` });
    expect(basic.details).toMatchObject({ rule: 'auth.malformed' });
    expect(basic.details?.['wwwAuthenticate']).toContain('error="invalid_request"');
    expect((await refusal(authenticator, { apiKeyHeader: 'x'.repeat(9000) })).details).toMatchObject({ rule: 'auth.malformed' });
  });
});

describe('no credential', () => {
  it('is refused with a bare challenge (no error code) when anonymous access is off', async () => {
    const authenticator = new Authenticator({
      auth: authWith({ resource: 'https://mesh.test/', apiKeys: [{ id: 'k', principal: 'p', hash: hashApiKey(generateApiKey()) }] }),
    });
    const error = await refusal(authenticator, {});
    expect(error.details).toMatchObject({ rule: 'auth.required', reason: 'missing' });
    expect(error.details?.['wwwAuthenticate']).toBe('Bearer resource_metadata="https://mesh.test/.well-known/oauth-protected-resource"');
    expect(authenticator.challenge).toBe(error.details?.['wwwAuthenticate']);
    expect(await refusal(authenticator, { authorization: '  ', apiKeyHeader: '' })).toMatchObject({ code: 'MESH_UNAUTHENTICATED' });
  });

  it('is the anonymous principal when enabled, but a wrong credential never falls back to anonymous', async () => {
    const authenticator = new Authenticator({
      auth: authWith({
        apiKeys: [{ id: 'k', principal: 'p', hash: hashApiKey(generateApiKey()) }],
        anonymous: { enabled: true, principal: 'guest', roles: [] },
      }),
    });
    expect(authenticator.anonymousAllowed).toBe(true);
    expect(await authenticator.authenticate({})).toEqual({ principal: 'guest', roles: [], method: 'anonymous' });
    expect((await refusal(authenticator, { apiKeyHeader: generateApiKey() })).code).toBe('MESH_UNAUTHENTICATED');
  });
});

describe('protected resource metadata (RFC 9728)', () => {
  it('is served at the well-known path inserted before the resource path', () => {
    expect(protectedResourceMetadataUrl('https://mesh.test/mcp')).toBe('https://mesh.test/.well-known/oauth-protected-resource/mcp');
    expect(protectedResourceMetadataUrl('https://mesh.test')).toBe('https://mesh.test/.well-known/oauth-protected-resource');
    expect(protectedResourceMetadataUrl('http://127.0.0.1:8080/servers/github/mcp/')).toBe(
      'http://127.0.0.1:8080/.well-known/oauth-protected-resource/servers/github/mcp',
    );
  });

  it('names the resource, its authorization servers, header-only bearer tokens and scopes', () => {
    expect(buildProtectedResourceMetadata({ resource: AUDIENCE, authorizationServers: [ISSUER], scopesSupported: ['mcp'] })).toEqual({
      resource: AUDIENCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
    });
    const authenticator = jwtAuthenticator();
    expect(authenticator.protectedResourceMetadata()).toEqual({
      resource: AUDIENCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
    });
  });
});
