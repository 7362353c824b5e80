/**
 * A starting point for a tool's arguments, from its JSON Schema input schema: each property gets
 * its default, first example, first enum value or const, else an empty value of its type. It is
 * only a template to edit; the server validates the real call.
 */
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
};

function exampleOf(schema: Schema | undefined, depth: number): unknown {
  if (!schema || typeof schema !== 'object') return null;
  if (schema.default !== undefined) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const alternative = schema.anyOf?.[0] ?? schema.oneOf?.[0];
  if (alternative) return exampleOf(alternative, depth);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return 0;
    case 'boolean':
      return false;
    case 'array':
      return [];
    case 'null':
      return null;
    case 'object':
    default:
      if (!schema.properties || depth > 3) return type === 'object' || schema.properties ? {} : null;
      return Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, exampleOf(value, depth + 1)]));
  }
}

/** The arguments template of a tool, as editable JSON text. */
export function exampleArguments(inputSchema: unknown): string {
  const example = exampleOf(inputSchema as Schema, 0);
  return JSON.stringify(example !== null && typeof example === 'object' && !Array.isArray(example) ? example : {}, null, 2);
}
