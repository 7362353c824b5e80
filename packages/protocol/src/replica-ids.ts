/**
 * Ids that only one bridge replica can honour, as clients see them through the mesh: a task id
 * (tasks extension, SEP-2663: the task lives in the upstream process of the replica that created
 * it) and a multi-round-trip `requestState` (SEP-2322: sealed by that upstream, often with a key of
 * its own process). The bridge prefixes such a value with its instance id; the ingress sends the
 * request that carries it back to that replica (`mcp.v1.inst.<instance>.…`), and the bridge strips
 * the prefix before the upstream sees the value, so the upstream checks exactly what it issued. A
 * value without the prefix (one the mesh never issued) goes to any replica unchanged.
 */
const PREFIX = 'mesh~';
const SEPARATOR = '~';

/** The value a client is given for `value`, issued by the upstream of bridge replica `instance`. */
export function replicaBoundId(instance: string, value: string): string {
  return `${PREFIX}${instance}${SEPARATOR}${value}`;
}

/** The replica and upstream value a mesh-issued value names, or undefined for any other string. */
export function parseReplicaBoundId(id: string): { instance: string; value: string } | undefined {
  if (!id.startsWith(PREFIX)) return undefined;
  const rest = id.slice(PREFIX.length);
  const at = rest.indexOf(SEPARATOR);
  if (at <= 0 || at === rest.length - 1) return undefined;
  return { instance: rest.slice(0, at), value: rest.slice(at + 1) };
}
