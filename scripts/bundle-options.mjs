/**
 * esbuild settings shared by the npm bundle (`scripts/build.mjs`) and the single executable
 * (`scripts/build-exe.mjs`), so both run the same code.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** @type {import('esbuild').BuildOptions} */
export const COMMON = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20.18',
  // src/version.ts reads package.json only when this is not defined (tsc output, vitest).
  define: { __LINKFACE_VERSION__: JSON.stringify(VERSION) },
  // cosmiconfig's TypeScript loader requires `typescript` lazily; linkface never searches for .ts rc files,
  // and bundling the compiler would add megabytes for nothing.
  external: ['typescript'],
  // Whitespace and syntax only: identifiers keep their names, so a crash's stack trace stays readable.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
};
