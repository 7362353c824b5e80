/**
 * Client->server request methods the mesh carries over NATS, each on its own subject so that
 * NATS permissions and monitoring work per method. `initialize` is answered by the ingress itself.
 */
/** Methods that change nothing upstream (a second attempt is harmless). */
export const ReadOnlyMethods = [
  'ping',
  'tools/list',
  'prompts/list',
  'prompts/get',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'completion/complete',
] as const;

export const ForwardedMethods = [
  ...ReadOnlyMethods,
  'tools/call',
  'resources/subscribe',
  'resources/unsubscribe',
  'logging/setLevel',
] as const;
export type ForwardedMethod = (typeof ForwardedMethods)[number];

export function isForwardedMethod(method: string): method is ForwardedMethod {
  return (ForwardedMethods as readonly string[]).includes(method);
}

/** The list methods whose digests bridges publish, with the result field that holds the items. */
export const ListMethods = {
  tools: { method: 'tools/list', field: 'tools', notification: 'notifications/tools/list_changed' },
  prompts: { method: 'prompts/list', field: 'prompts', notification: 'notifications/prompts/list_changed' },
  resources: { method: 'resources/list', field: 'resources', notification: 'notifications/resources/list_changed' },
  resourceTemplates: {
    method: 'resources/templates/list',
    field: 'resourceTemplates',
    notification: 'notifications/resources/list_changed',
  },
} as const;
export type ListKind = keyof typeof ListMethods;
export const ListKinds = Object.keys(ListMethods) as ListKind[];
