// Bundles the console page (web/) into dist/web: one ES module with Preact inside, one stylesheet,
// the HTML shell and the icon. Nothing is fetched from another origin at run time.
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const out = 'dist/web';
await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: [
    { in: 'web/main.tsx', out: 'console' },
    { in: 'web/console.css', out: 'console' },
  ],
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  banner: { js: '/*! mcp-mesh console. Bundles Preact (MIT): see /console/third-party-licenses.txt */' },
  charset: 'utf8',
  logLevel: 'warning',
});
await copyFile('web/index.html', `${out}/index.html`);
await copyFile('web/favicon.svg', `${out}/favicon.svg`);
// Preact's MIT licence travels with the bundle that contains it.
await copyFile(fileURLToPath(new URL('LICENSE', import.meta.resolve('preact/package.json'))), `${out}/third-party-licenses.txt`);
