import { createRequire } from 'node:module';

/**
 * Set by esbuild's `define` in the bundles (`dist/cli/`, the single executable), where `import.meta.url` does
 * not point next to package.json (and is empty in the executable's CommonJS). Undefined under tsc and vitest.
 */
declare const __LINKFACE_VERSION__: string | undefined;

/** The package version: baked in by the bundler, else read once from package.json (one level above `dist/` and `src/`). */
export const VERSION: string =
  typeof __LINKFACE_VERSION__ === 'string'
    ? __LINKFACE_VERSION__
    : (createRequire(import.meta.url)('../package.json') as { version: string }).version;
