/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) and the `WWW-Authenticate: Bearer` challenge
 * (RFC 6750) the MCP authorization spec asks a server to send with a 401.
 */

export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * Where the metadata of `resource` lives: the well-known path inserted between the origin and the
 * resource's path (RFC 9728 §3.1). `https://mesh.example.com/mcp` →
 * `https://mesh.example.com/.well-known/oauth-protected-resource/mcp`; a resource at the origin's
 * root gives `https://mesh.example.com/.well-known/oauth-protected-resource`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/+$/, '');
  return `${url.origin}${PROTECTED_RESOURCE_WELL_KNOWN}${path}`;
}

export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers: string[];
  bearer_methods_supported: string[];
  scopes_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
}

export interface ProtectedResourceOptions {
  /** The canonical URL of the MCP endpoint the metadata describes. */
  resource: string;
  authorizationServers: readonly string[];
  scopesSupported?: readonly string[];
  resourceName?: string;
  documentationUrl?: string;
}

/** The JSON document to serve at `protectedResourceMetadataUrl(resource)`. */
export function buildProtectedResourceMetadata(options: ProtectedResourceOptions): ProtectedResourceMetadata {
  const metadata: ProtectedResourceMetadata = {
    resource: options.resource,
    authorization_servers: [...options.authorizationServers],
    // Tokens only in the Authorization header: never in a query string, where logs keep them.
    bearer_methods_supported: ['header'],
  };
  if (options.scopesSupported && options.scopesSupported.length > 0) metadata.scopes_supported = [...options.scopesSupported];
  if (options.resourceName) metadata.resource_name = options.resourceName;
  if (options.documentationUrl) metadata.resource_documentation = options.documentationUrl;
  return metadata;
}

export const BearerError = {
  InvalidRequest: 'invalid_request',
  InvalidToken: 'invalid_token',
  InsufficientScope: 'insufficient_scope',
} as const;
export type BearerError = (typeof BearerError)[keyof typeof BearerError];

export interface ChallengeOptions {
  resourceMetadataUrl?: string;
  error?: BearerError;
  /** A fixed, human-readable reason; never anything taken from the request. */
  description?: string;
  scope?: string;
}

function quoted(value: string): string {
  // RFC 7230 quoted-string: escape backslash and quote; drop control characters.
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, '').replace(/(["\\])/g, '\\$1')}"`;
}

/** `Bearer resource_metadata="…", error="invalid_token", error_description="…"`. */
export function bearerChallenge(options: ChallengeOptions = {}): string {
  const params: string[] = [];
  if (options.resourceMetadataUrl) params.push(`resource_metadata=${quoted(options.resourceMetadataUrl)}`);
  if (options.scope) params.push(`scope=${quoted(options.scope)}`);
  if (options.error) params.push(`error=${quoted(options.error)}`);
  if (options.error && options.description) params.push(`error_description=${quoted(options.description)}`);
  return params.length === 0 ? 'Bearer realm="mcp-mesh"' : `Bearer ${params.join(', ')}`;
}
