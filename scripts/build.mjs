#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`): a clean `dist/` holding
 *   - the library (`exports["."]`): tsc output from src/index.ts, with .d.ts files;
 *   - the command line (`bin/linkface.js` imports it): one esbuild ESM bundle with code splitting,
 *     `dist/cli/linkface.mjs` + `dist/cli/chunks/*.mjs`. Every command is `import()`ed when it runs, so each
 *     becomes a chunk loaded only then: `--version` and `--help` load commander and nothing heavy.
 *     `dist/cli/linkface.meta.json` (esbuild's metafile, not published) says which sources each file holds;
 *     test/e2e/package.test.ts uses it to check what `--version` loads.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { COMMON, ROOT } from './bundle-options.mjs';

const DIST = join(ROOT, 'dist');
rmSync(DIST, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

// Bundled CommonJS dependencies (commander, undici, cosmiconfig…) call require() and, in import-fresh,
// use __filename: an ES module has neither, so each output file gets its own.
const banner = [
  "import { createRequire as __lfCreateRequire } from 'node:module';",
  "import { fileURLToPath as __lfFileURLToPath } from 'node:url';",
  'const require = __lfCreateRequire(import.meta.url);',
  'const __filename = __lfFileURLToPath(import.meta.url);',
  "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
].join('\n');

const result = await build({
  ...COMMON,
  entryPoints: { linkface: 'src/cli/main.ts' },
  outdir: join(DIST, 'cli'),
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  format: 'esm',
  splitting: true,
  banner: { js: banner },
  metafile: true,
});
writeFileSync(join(DIST, 'cli', 'linkface.meta.json'), JSON.stringify(result.metafile));
