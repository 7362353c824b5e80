import type { JWK, JWTPayload, JWTVerifyGetKey } from 'jose';
import { MeshError } from '@mcp-mesh/protocol';
import type { Clock } from './clock.js';
import type { JwtConfig, PemKey, PublicJwk } from './jwt-config.js';

/** Why a token was refused; stable strings that go into `data.reason`, never the token. */
export const JwtFailure = {
  Malformed: 'malformed',
  Expired: 'expired',
  NotYetValid: 'not-yet-valid',
  WrongIssuer: 'wrong-issuer',
  WrongAudience: 'wrong-audience',
  BadSignature: 'bad-signature',
  NoMatchingKey: 'no-matching-key',
  AlgorithmNotAllowed: 'algorithm-not-allowed',
  InvalidClaims: 'invalid-claims',
  NoPrincipal: 'no-principal',
  KeysUnavailable: 'keys-unavailable',
} as const;
export type JwtFailure = (typeof JwtFailure)[keyof typeof JwtFailure];

const FailureText: Record<JwtFailure, string> = {
  malformed: 'the bearer token is not a well-formed JWT',
  expired: 'the bearer token has expired',
  'not-yet-valid': 'the bearer token is not valid yet',
  'wrong-issuer': 'the bearer token was issued by another issuer',
  'wrong-audience': 'the bearer token is meant for another audience',
  'bad-signature': 'the bearer token signature does not verify',
  'no-matching-key': 'no trusted key matches the bearer token',
  'algorithm-not-allowed': 'the bearer token uses an algorithm that is not allowed',
  'invalid-claims': 'the bearer token claims are invalid',
  'no-principal': 'the bearer token names no principal',
  'keys-unavailable': "the identity provider's keys could not be fetched",
};

/** A verification failure; its message is fixed text, never the token or its claims. */
export class JwtVerificationError extends Error {
  override readonly name = 'JwtVerificationError';
  constructor(readonly reason: JwtFailure) {
    super(FailureText[reason]);
  }
}

export interface VerifiedJwt {
  readonly principal: string;
  readonly roles: readonly string[];
  readonly issuer: string;
  readonly expiresAt: number | undefined;
}

export interface JwtVerifierOptions {
  config: JwtConfig;
  now?: Clock;
  /** The fetch used for the JWKS (tests, proxies); defaults to the global fetch. */
  fetch?: typeof fetch;
}

/** Reads `a.b.c` from a claims object without touching prototypes. */
function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function rolesFrom(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((role) => role !== '');
  if (Array.isArray(value)) return value.filter((role): role is string => typeof role === 'string' && role !== '');
  return [];
}

type Jose = typeof import('jose');
/** jose is loaded by the first verifier (Node caches it): an ingress without JWT auth never holds it (~7 MB of RSS measured). */
const loadJose = (): Promise<Jose> => import('jose');

async function staticKeys(
  { importSPKI, exportJWK, createLocalJWKSet }: Jose,
  keys: readonly (PublicJwk | PemKey)[],
): Promise<JWTVerifyGetKey> {
  const jwks: JWK[] = [];
  for (const key of keys) {
    if ('pem' in key) {
      const pem = key as PemKey;
      const imported = await importSPKI(pem.pem, pem.alg, { extractable: true });
      jwks.push({ ...(await exportJWK(imported)), alg: pem.alg, ...(pem.kid ? { kid: pem.kid } : {}) });
    } else {
      jwks.push(key as JWK);
    }
  }
  return createLocalJWKSet({ keys: jwks });
}

/** A key lookup that reports a JWKS it cannot reach apart from a token that is simply wrong. */
function remoteKeys(
  { createRemoteJWKSet, customFetch, errors }: Jose,
  config: JwtConfig & { jwksUrl: string },
  fetchImpl: typeof fetch | undefined,
): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(config.jwksUrl), {
    timeoutDuration: config.jwksTimeoutMs,
    cacheMaxAge: config.jwksCacheMaxAgeMs,
    ...(fetchImpl ? { [customFetch]: fetchImpl } : {}),
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      if (error instanceof errors.JOSENotSupported || error instanceof errors.JWKInvalid) throw error;
      throw new JwtVerificationError(JwtFailure.KeysUnavailable);
    }
  };
}

function classify({ errors }: Jose, error: unknown): JwtFailure {
  if (error instanceof JwtVerificationError) return error.reason;
  if (error instanceof errors.JWTExpired) return JwtFailure.Expired;
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return JwtFailure.WrongIssuer;
    if (error.claim === 'aud') return JwtFailure.WrongAudience;
    if (error.claim === 'nbf' || error.claim === 'iat') return JwtFailure.NotYetValid;
    return JwtFailure.InvalidClaims;
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return JwtFailure.BadSignature;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return JwtFailure.NoMatchingKey;
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) return JwtFailure.AlgorithmNotAllowed;
  return JwtFailure.Malformed;
}

/** Verifies JWT bearer tokens: signature, issuer, audience, exp/nbf with the configured skew. */
export class JwtVerifier {
  readonly #config: JwtConfig;
  readonly #now: Clock;
  readonly #keys: Promise<JWTVerifyGetKey>;
  /** A mutable copy of the (frozen) allowed algorithms, made once rather than per token. */
  readonly #algorithms: string[];

  constructor(options: JwtVerifierOptions) {
    this.#config = options.config;
    this.#algorithms = [...options.config.algorithms];
    this.#now = options.now ?? Date.now;
    const { jwksUrl, keys } = options.config;
    if (jwksUrl !== undefined) {
      const config = { ...options.config, jwksUrl };
      this.#keys = loadJose().then((jose) => remoteKeys(jose, config, options.fetch));
      this.#keys.catch(() => undefined); // reported by ready() and by every verify()
    } else if (keys !== undefined) {
      const imported = loadJose().then((jose) => staticKeys(jose, keys));
      imported.catch(() => undefined); // reported by ready() and by every verify()
      this.#keys = imported;
    } else {
      throw new TypeError('jwt needs jwksUrl or keys');
    }
  }

  /** Resolves once static keys are imported; rejects with MESH_INVALID_CONFIG when one cannot be. */
  async ready(): Promise<void> {
    try {
      await this.#keys;
    } catch (cause) {
      throw new MeshError('MESH_INVALID_CONFIG', 'auth.jwt.keys: a key could not be imported', { cause });
    }
  }

  /** Resolves with the principal and roles, or rejects with a JwtVerificationError. */
  async verify(token: string): Promise<VerifiedJwt> {
    const jose = await loadJose();
    let payload: JWTPayload;
    try {
      const keys = await this.#keys.catch(() => {
        throw new JwtVerificationError(JwtFailure.KeysUnavailable);
      });
      ({ payload } = await jose.jwtVerify(token, keys, {
        issuer: this.#config.issuer,
        audience: this.#config.audience,
        algorithms: this.#algorithms,
        clockTolerance: this.#config.clockSkewSec,
        currentDate: new Date(this.#now()),
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      // The cause is dropped on purpose: jose errors can carry the claims.
      throw new JwtVerificationError(classify(jose, error));
    }
    const principal = claimAt(payload, this.#config.principalClaim);
    if (typeof principal !== 'string' || principal === '') throw new JwtVerificationError(JwtFailure.NoPrincipal);
    return {
      principal,
      roles: rolesFrom(claimAt(payload, this.#config.rolesClaim)),
      issuer: this.#config.issuer,
      expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
    };
  }
}
