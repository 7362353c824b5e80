import { z } from 'zod';
import { formatExplanation, generateApiKey, hashApiKey } from '@mcp-mesh/policy';
import { loadMeshConfig } from '@mcp-mesh/runtime';
import { parseOptions } from '../options.js';
import { policyFrom } from '../serve-ingress.js';
import { say } from '../output.js';

export const ExplainOptionsSchema = z.object({
  principal: z.string().min(1),
  target: z.string().min(1),
  config: z.string().default('mesh.config.json'),
  role: z.array(z.string().min(1)).default([]),
  json: z.boolean().default(false),
});

/** `mcp-mesh explain <principal> <server>__<tool>`: the RBAC decision and every rule it weighed. */
export async function runExplain(input: unknown): Promise<number> {
  const options = parseOptions(ExplainOptionsSchema, input, 'explain');
  const config = await loadMeshConfig(options.config);
  const policy = await policyFrom(config.policy, options.config, config.ingress.separator);
  // Roles come from the RBAC principals map and from the credential (an API key's or JWT's roles).
  const explanation = policy.authorizer.explain({ principal: options.principal, roles: options.role }, options.target);
  say(options.json ? JSON.stringify(explanation, null, 2) : formatExplanation(explanation));
  return explanation.decision.allowed ? 0 : 1;
}

export const KeyOptionsSchema = z.object({
  principal: z.string().min(1),
  id: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'ids are 1-64 characters of A-Z a-z 0-9 _ . -')
    .optional(),
  roles: z.array(z.string().min(1)).default([]),
});

/** `mcp-mesh key create`: a new random API key, shown once, and the hashed entry for the config. */
export function runKeyCreate(input: unknown): number {
  const options = parseOptions(KeyOptionsSchema, input, 'key create');
  const key = generateApiKey();
  const entry = {
    id: options.id ?? options.principal.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 64),
    principal: options.principal,
    hash: hashApiKey(key),
    roles: options.roles,
  };
  say(`API key (shown once; give it to ${options.principal}, send it as "Authorization: Bearer <key>"):\n\n  ${key}\n`);
  say(`Add this entry to policy.auth.apiKeys in your mesh config (it stores only the hash):\n\n${JSON.stringify(entry, null, 2)}`);
  return 0;
}
