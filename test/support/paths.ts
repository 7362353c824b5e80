import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The compiled CLI, as users run it. */
export const CLI = `${REPO_ROOT}packages/cli/dist/main.js`;
/** Published reference servers, installed as dev dependencies (no download during tests). */
export const EVERYTHING_SERVER = {
  command: process.execPath,
  args: [`${REPO_ROOT}node_modules/@modelcontextprotocol/server-everything/dist/index.js`, 'stdio'],
};
export const MEMORY_SERVER = {
  command: process.execPath,
  args: [`${REPO_ROOT}node_modules/@modelcontextprotocol/server-memory/dist/index.js`],
};
