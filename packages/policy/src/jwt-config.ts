import { z } from 'zod';

/**
 * JWT bearer settings. Only asymmetric algorithms: a shared HMAC secret in the mesh's config
 * would let anyone who reads it mint tokens, and mixing key types invites algorithm confusion.
 */
export const JwtAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const JwtAlgorithmSchema = z.enum(JwtAlgorithms);
export type JwtAlgorithm = z.infer<typeof JwtAlgorithmSchema>;

/** A public JWK. Private parts (`d`, `p`, `q`, …) and symmetric keys are refused. */
export const PublicJwkSchema = z
  .object({
    kty: z.enum(['RSA', 'EC', 'OKP'], { error: 'kty must be RSA, EC or OKP (public keys only)' }),
    kid: z.string().optional(),
    alg: JwtAlgorithmSchema.optional(),
    use: z.literal('sig').optional(),
  })
  .loose()
  .superRefine((jwk, ctx) => {
    for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) {
      if (secret in jwk)
        ctx.addIssue({ code: 'custom', path: [secret], message: `a private or secret key part ('${secret}') must never be in the config` });
    }
  });
export type PublicJwk = z.infer<typeof PublicJwkSchema>;

export const PemKeySchema = z
  .object({
    pem: z
      .string()
      .refine((pem) => pem.trim().startsWith('-----BEGIN PUBLIC KEY-----'), 'pem is an SPKI public key ("-----BEGIN PUBLIC KEY-----")'),
    alg: JwtAlgorithmSchema,
    kid: z.string().optional(),
  })
  .strict();
export type PemKey = z.infer<typeof PemKeySchema>;

/** A static key is a public JWK or `{ pem, alg }`; which one is chosen by the presence of `pem`. */
export const StaticKeySchema = z.unknown().transform((value, ctx): PublicJwk | PemKey => {
  const schema = value !== null && typeof value === 'object' && 'pem' in value ? PemKeySchema : PublicJwkSchema;
  const result = schema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return result.data;
});

function isLoopbackUrl(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
}

export const JwtConfigSchema = z
  .object({
    issuer: z.string().min(1),
    /** The `aud` the token must carry: this mesh's resource URL (RFC 8707), never another service's. */
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    jwksUrl: z.url({ protocol: /^https?$/, error: 'jwksUrl must be an http(s) URL' }).optional(),
    keys: z.array(StaticKeySchema).min(1).optional(),
    algorithms: z.array(JwtAlgorithmSchema).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
    clockSkewSec: z.number().int().min(0).max(600).default(30),
    /** Claim holding the principal name; a dotted path reaches into objects. */
    principalClaim: z.string().min(1).default('sub'),
    /** Claim holding roles: an array of strings or a space-separated string (dotted path allowed). */
    rolesClaim: z.string().min(1).default('roles'),
    jwksTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** How long fetched keys are used before they are fetched again. */
    jwksCacheMaxAgeMs: z.number().int().min(1000).max(86_400_000).default(600_000),
  })
  .strict()
  .superRefine(
    (jwt, ctx) => {
      if ((jwt.jwksUrl === undefined) === (jwt.keys === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'give jwksUrl or keys (exactly one)' });
      }
      const url = typeof jwt.jwksUrl === 'string' && URL.canParse(jwt.jwksUrl) ? new URL(jwt.jwksUrl) : undefined;
      if (url && url.protocol === 'http:' && !isLoopbackUrl(url)) {
        ctx.addIssue({ code: 'custom', path: ['jwksUrl'], message: 'jwksUrl must be https (plain http only on loopback)' });
      }
    },
    { when: () => true },
  );
export type JwtConfig = z.infer<typeof JwtConfigSchema>;
