/**
 * The command-line bundle (`npm run build`, scripts/build.mjs; the single executable builds from the same file).
 *
 * esbuild bundles src/cli into ONE CommonJS file, `require`d by bin/linkface.js. Each command's code is `import()`ed
 * by src/cli/main.ts when that command runs; in the bundle each module stays behind its own initializer, run
 * only then, so `--version` runs commander and nothing heavy (test/e2e/package.test.ts checks it).
 *
 * Dependencies are bundled as published: no source patches. The two that were here (node:http2 kept out of
 * undici's load, node:child_process out of commander's) paid 6% and 3% of a start on Node.js 26 (README,
 * "Start-up"); the rewrite of cosmiconfig's `import()` was needed only by a loader that no longer exists.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** Bundles the command line (`exports.main`) into `outfile`; returns esbuild's metafile. */
export async function bundleCommandLine(outfile) {
  const result = await build({
    absWorkingDir: ROOT,
    stdin: { contents: "export { main } from './src/cli/main.ts';\n", resolveDir: ROOT, sourcefile: 'cli-entry.ts', loader: 'ts' },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20.18',
    format: 'cjs',
    // `import.meta` is empty in CommonJS; src/version.ts reads its url only when the version is not defined
    // (tsc output, vitest), and reads package.json then.
    banner: { js: "var __lfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { __LINKFACE_VERSION__: JSON.stringify(VERSION), 'import.meta.url': '__lfImportMetaUrl' },
    // cosmiconfig's TypeScript loader requires `typescript` lazily; linkface never searches for .ts rc files,
    // and bundling the compiler would add megabytes for nothing.
    external: ['typescript'],
    // Whitespace and syntax only: identifiers keep their names, so a crash's stack trace stays readable.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
  });
  return result.metafile;
}
