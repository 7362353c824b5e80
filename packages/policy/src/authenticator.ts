import type { MeshError } from '@mcp-mesh/protocol';
import { ApiKeyStore } from './api-keys.js';
import type { Clock } from './clock.js';
import type { AuthConfig } from './config.js';
import { denial } from './denial.js';
import { JwtFailure, JwtVerificationError, JwtVerifier } from './jwt-verifier.js';
import {
  BearerError,
  bearerChallenge,
  buildProtectedResourceMetadata,
  protectedResourceMetadataUrl,
  type ProtectedResourceMetadata,
} from './protected-resource.js';

export const AuthMethod = {
  ApiKey: 'api-key',
  Jwt: 'jwt',
  Anonymous: 'anonymous',
} as const;
export type AuthMethod = (typeof AuthMethod)[keyof typeof AuthMethod];

/** Who is calling, as far as the mesh is concerned. */
export interface Identity {
  readonly principal: string;
  /** Roles the credential carries (API key entry, JWT roles claim, anonymous config). */
  readonly roles: readonly string[];
  readonly method: AuthMethod;
  /** The id of the API key used, for audit. */
  readonly keyId?: string;
  /** When the JWT expires (epoch ms). */
  readonly expiresAt?: number;
}

/** The raw header values; the ingress passes them as received. */
export interface Credentials {
  /** The `Authorization` header. */
  authorization?: string | undefined;
  /** The API key header (`auth.apiKeyHeader`, default `x-api-key`). */
  apiKeyHeader?: string | undefined;
}

export interface AuthenticatorOptions {
  auth: AuthConfig;
  /** Overrides the metadata URL derived from `auth.resource`. */
  resourceMetadataUrl?: string;
  now?: Clock;
  /** The fetch used for the JWKS; defaults to the global fetch. */
  fetch?: typeof fetch;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function present(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * Turns request credentials into an Identity, or throws MESH_UNAUTHENTICATED carrying the
 * `WWW-Authenticate` value in `details.wwwAuthenticate`. Credentials never appear in an error.
 *
 * Order: an API key header; else `Authorization: Bearer` (a JWT when it has a JWT's shape and
 * JWT is configured, else an API key); else anonymous when enabled. A credential that is given
 * but wrong is refused even when anonymous access is on: it never falls back to anonymous.
 */
export class Authenticator {
  readonly #auth: AuthConfig;
  readonly #keys: ApiKeyStore;
  readonly #jwt: JwtVerifier | undefined;
  readonly #metadataUrl: string | undefined;
  /** The `scope` parameter of every challenge, fixed by the config. */
  readonly #scope: string | undefined;

  constructor(options: AuthenticatorOptions) {
    this.#auth = options.auth;
    this.#keys = new ApiKeyStore(options.auth.apiKeys);
    this.#jwt = options.auth.jwt
      ? new JwtVerifier({
          config: options.auth.jwt,
          ...(options.now ? { now: options.now } : {}),
          ...(options.fetch ? { fetch: options.fetch } : {}),
        })
      : undefined;
    this.#metadataUrl =
      options.resourceMetadataUrl ?? (options.auth.resource ? protectedResourceMetadataUrl(options.auth.resource) : undefined);
    this.#scope = options.auth.scopesSupported.length > 0 ? options.auth.scopesSupported.join(' ') : undefined;
  }

  /** Resolves once static JWT keys are imported; rejects with MESH_INVALID_CONFIG otherwise. */
  async ready(): Promise<void> {
    await this.#jwt?.ready();
  }

  /** Whether a request without credentials is let in (as the anonymous principal). */
  get anonymousAllowed(): boolean {
    return this.#auth.anonymous.enabled;
  }

  /** The lower-cased name of the header an API key may come in. */
  get apiKeyHeaderName(): string {
    return this.#auth.apiKeyHeader;
  }

  /** The challenge for a request that brought no credential. */
  get challenge(): string {
    return this.#challenge();
  }

  /** The RFC 9728 document for `resource` (default `auth.resource`), or undefined without one. */
  protectedResourceMetadata(resource: string | undefined = this.#auth.resource): ProtectedResourceMetadata | undefined {
    if (!resource) return undefined;
    const servers =
      this.#auth.authorizationServers.length > 0 ? this.#auth.authorizationServers : this.#auth.jwt ? [this.#auth.jwt.issuer] : [];
    return buildProtectedResourceMetadata({ resource, authorizationServers: servers, scopesSupported: this.#auth.scopesSupported });
  }

  async authenticate(credentials: Credentials): Promise<Identity> {
    const authorization = present(credentials.authorization);
    const apiKey = present(credentials.apiKeyHeader);
    const max = this.#auth.maxCredentialLength;
    if ((authorization?.length ?? 0) > max || (apiKey?.length ?? 0) > max) {
      throw this.#refuse('auth.malformed', 'malformed', 'the credential is too long', BearerError.InvalidRequest);
    }
    if (authorization !== undefined && apiKey !== undefined) {
      throw this.#refuse(
        'auth.ambiguous',
        'ambiguous',
        'give one credential: an Authorization header or an API key header, not both',
        BearerError.InvalidRequest,
      );
    }
    if (apiKey !== undefined) return this.#byApiKey(apiKey.trim());
    if (authorization !== undefined) {
      const token = BEARER.exec(authorization)?.[1];
      if (token === undefined) {
        throw this.#refuse('auth.malformed', 'malformed', 'only "Authorization: Bearer <token>" is accepted', BearerError.InvalidRequest);
      }
      if (this.#jwt && (JWT_SHAPE.test(token) || this.#keys.size === 0)) return this.#byJwt(this.#jwt, token);
      if (this.#keys.size > 0) return this.#byApiKey(token);
      throw this.#refuse('auth.bearer', 'not-accepted', 'bearer tokens are not accepted here', BearerError.InvalidToken);
    }
    const anonymous = this.#auth.anonymous;
    if (anonymous.enabled) return { principal: anonymous.principal, roles: anonymous.roles, method: AuthMethod.Anonymous };
    throw this.#refuse('auth.required', 'missing', 'authentication required');
  }

  #byApiKey(key: string): Identity {
    const entry = this.#keys.find(key);
    if (!entry) throw this.#refuse('auth.apiKeys', 'unknown-key', 'the API key is not recognised', BearerError.InvalidToken);
    return { principal: entry.principal, roles: entry.roles, method: AuthMethod.ApiKey, keyId: entry.id };
  }

  async #byJwt(verifier: JwtVerifier, token: string): Promise<Identity> {
    try {
      const verified = await verifier.verify(token);
      return {
        principal: verified.principal,
        roles: verified.roles,
        method: AuthMethod.Jwt,
        ...(verified.expiresAt !== undefined ? { expiresAt: verified.expiresAt } : {}),
      };
    } catch (error) {
      const reason = error instanceof JwtVerificationError ? error.reason : JwtFailure.Malformed;
      const message = error instanceof JwtVerificationError ? error.message : 'the bearer token could not be verified';
      if (reason === JwtFailure.KeysUnavailable) {
        throw denial('MESH_AUTH_UNAVAILABLE', message, 'auth.jwt', { reason });
      }
      throw this.#refuse('auth.jwt', reason, message, BearerError.InvalidToken);
    }
  }

  #challenge(error?: BearerError, description?: string): string {
    return bearerChallenge({
      ...(this.#metadataUrl ? { resourceMetadataUrl: this.#metadataUrl } : {}),
      ...(this.#scope ? { scope: this.#scope } : {}),
      ...(error ? { error } : {}),
      ...(description ? { description } : {}),
    });
  }

  #refuse(rule: string, reason: string, message: string, error?: BearerError): MeshError {
    return denial('MESH_UNAUTHENTICATED', message, rule, { reason, wwwAuthenticate: this.#challenge(error, message) });
  }
}
