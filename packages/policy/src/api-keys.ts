import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { API_KEY_HASH_PATTERN, type ApiKeyConfig } from './config.js';

/**
 * API keys are stored hashed: the config holds `sha256:<base64url SHA-256 of the key>` and never
 * the key. SHA-256 (not scrypt) is deliberate: keys are random and long (`generateApiKey` gives
 * 256 bits; `hashApiKey` refuses anything under 32 characters), so a slow password hash would add
 * nothing against guessing but would make every request, and every failed attempt, cost tens of
 * milliseconds of CPU: a denial-of-service lever. The `sha256:` prefix versions the format.
 */

export const API_KEY_PREFIX = 'mesh_';
export const MIN_API_KEY_LENGTH = 32;

/** A new random API key (256 bits), e.g. `mesh_3q2+…`. Show it once; store only its hash. */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

/** The value to put in `auth.apiKeys[].hash`: `sha256:` and the base64url SHA-256 of the key. */
export function hashApiKey(key: string): string {
  if (key.length < MIN_API_KEY_LENGTH) {
    throw new RangeError(`API keys must be at least ${MIN_API_KEY_LENGTH} characters of random data; generateApiKey() makes one`);
  }
  return `sha256:${digest(key).toString('base64url')}`;
}

interface StoredKey {
  readonly config: ApiKeyConfig;
  readonly digest: Buffer;
}

/** Looks a presented key up among the configured hashes in constant time. */
export class ApiKeyStore {
  readonly #keys: readonly StoredKey[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.#keys = keys.map((config) => {
      if (!API_KEY_HASH_PATTERN.test(config.hash)) throw new TypeError(`API key '${config.id}' has no valid hash`);
      return { config, digest: Buffer.from(config.hash.slice('sha256:'.length), 'base64url') };
    });
  }

  get size(): number {
    return this.#keys.length;
  }

  /**
   * The key's entry, or undefined. Every stored hash is compared with `timingSafeEqual`, with no
   * early exit, so the time taken says nothing about which or how many hashes are near.
   */
  find(presented: string): ApiKeyConfig | undefined {
    const candidate = digest(presented);
    let found: ApiKeyConfig | undefined;
    for (const key of this.#keys) {
      if (timingSafeEqual(candidate, key.digest) && found === undefined) found = key.config;
    }
    return found;
  }
}
