import { z } from 'zod';
import { ServerNameSchema } from './descriptor.js';
import { MeshError } from './errors.js';

/** Server names as record keys in config files, with the reason a name is refused. */
export const ServerNameKeySchema = z.string().superRefine((name, ctx) => {
  const result = ServerNameSchema.safeParse(name);
  if (!result.success) ctx.addIssue({ code: 'custom', message: `invalid server name '${name}': ${result.error.issues[0]?.message}` });
});

/** Formats zod issues as `path: message` lines (under `root`), every problem at once. */
export function formatIssues(error: z.ZodError, root = ''): string[] {
  return error.issues.map((issue) => {
    const path = [root, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    // A refused record key carries its reason in nested issues.
    const nested = issue.code === 'invalid_key' ? issue.issues.map((inner) => inner.message).join('; ') : '';
    return `${path || '(root)'}: ${nested || issue.message}`;
  });
}

/** MESH_INVALID_CONFIG for `title` (e.g. "mesh.config.json is invalid"), listing every problem, also in `details.problems`. */
export function invalidConfig(title: string, problems: readonly string[]): MeshError {
  return new MeshError('MESH_INVALID_CONFIG', `${title}:\n${problems.map((p) => `  - ${p}`).join('\n')}`, {
    details: { problems },
  });
}

/** Freezes a parsed config and everything in it, so no component can change what another reads. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
