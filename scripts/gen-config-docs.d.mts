/** Types of scripts/gen-config-docs.mjs, for test/unit/config-docs.test.ts. */
export declare const SCHEMA_PATH: 'docs/mesh.config.schema.json';
export declare const REFERENCE_PATH: 'docs/configuration-reference.md';
/** Both generated files as strings, keyed by their path in the repository, and the schema as an object. */
export declare function generateConfigDocs(): Promise<{ schema: Record<string, unknown>; files: Record<string, string> }>;
export declare function buildSchema(modules: { runtime: unknown; policy: unknown; protocol: unknown }): Record<string, unknown>;
export declare function buildReference(schema: Record<string, unknown>): string;
