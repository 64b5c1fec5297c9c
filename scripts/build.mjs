#!/usr/bin/env node
/**
 * `npm run build` (and `prepare`): a clean `dist/` holding
 *   - the library (`exports["."]`): tsc output from src/index.ts, with .d.ts files;
 *   - the command line, which bin/linkface.js `require`s: one esbuild CommonJS bundle, `dist/cli/linkface.cjs`
 *     (see scripts/bundle-options.mjs);
 *   - `dist/cli/linkface.meta.json` (esbuild's metafile, not published): which sources the bundle holds.
 */
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, bundleCommandLine } from './bundle-options.mjs';

const require = createRequire(import.meta.url);
const DIST = join(ROOT, 'dist');
rmSync(DIST, { recursive: true, force: true });

const tsc = require.resolve('typescript/bin/tsc');
const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const metafile = await bundleCommandLine(join(DIST, 'cli', 'linkface.cjs'));
writeFileSync(join(DIST, 'cli', 'linkface.meta.json'), JSON.stringify(metafile));
