/**
 * The command-line bundle, shared by the npm package (`scripts/build.mjs`) and the single executable
 * (`scripts/build-exe.mjs`), so both run the same code, loaded the same way (bin/load.js):
 *
 *   - `bundleCommandLine`: esbuild bundles src/cli into ONE CommonJS file. Each command's code is `import()`ed
 *     by src/cli/main.ts when that command runs; in the bundle each module stays behind its own initializer, run
 *     only then, so `--version` runs commander and nothing heavy.
 *   - `trainCodeCache`: scripts/train-code-cache.cjs runs the bundle (`--help` and an upload to a sandbox) and
 *     keeps V8's code cache, from which later starts compile it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants as http2Constants } from 'node:http2';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** @type {import('esbuild').BuildOptions} */
const COMMON = {
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

/** The source patches below; each must apply, or the build fails. */
const PATCHES = ['undici http2', 'commander child_process', 'cosmiconfig import'];
/**
 * The dynamic imports the bundle may hold: the rc-module helper's own, and cosmiconfig's of `typescript`, which
 * cannot run (linkface gives TypeScript rc files a loader that refuses them, src/config/rcfiles.ts).
 */
const ALLOWED_IMPORTS = ['import(s)', 'import("typescript")'];

/** Bundles the command line (`exports.main`) into `outfile`; returns esbuild's metafile. */
export async function bundleCommandLine(outfile) {
  const applied = new Set();
  const result = await build({
    ...COMMON,
    stdin: { contents: "export { main } from './src/cli/main.ts';\n", resolveDir: ROOT, sourcefile: 'cli-entry.ts', loader: 'ts' },
    outfile,
    format: 'cjs',
    // `import.meta` is empty in CommonJS; src/version.ts reads its url only when the version is not defined.
    banner: { js: "var __lfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { ...COMMON.define, 'import.meta.url': '__lfImportMetaUrl' },
    plugins: [lazyBuiltins(applied), rcModuleImport(applied)],
    metafile: true,
    // Non-ASCII characters escaped, which bin/load.js relies on to read the file as latin1.
    charset: 'ascii',
  });
  // A plugin whose file moved would silently not apply: the build fails instead.
  const missing = PATCHES.filter((name) => !applied.has(name));
  if (missing.length > 0) throw new Error(`bundle: ${missing.join(', ')} did not apply: a dependency moved its code; see scripts/bundle-options.mjs`);
  const bytes = readFileSync(outfile);
  if (bytes.some((byte) => byte > 0x7f)) throw new Error(`${outfile} is not ASCII: see bin/load.js`);
  const output = bytes.toString('latin1');
  // A script compiled from a code cache has no dynamic-import hook (see rcModuleImport): any import() other than
  // these two would fail at run time, so the build fails now.
  const imports = output.match(/\bimport\([^)]*\)/g) ?? [];
  const unexpected = imports.filter((call) => !ALLOWED_IMPORTS.includes(call));
  if (unexpected.length > 0) throw new Error(`bundle: unexpected dynamic import in ${outfile}: ${unexpected.join(', ')}`);
  return result.metafile;
}

/**
 * Runs the bundle once with scripts/train-code-cache.cjs and writes V8's code cache for it to `cacheFile`; the
 * trainer checks that a fresh process accepts it. Fails the build when the run or the check fails.
 */
export function trainCodeCache(bundle, cacheFile) {
  const trainer = join(ROOT, 'scripts', 'train-code-cache.cjs');
  const run = spawnSync(process.execPath, [trainer, bundle, cacheFile], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(`training the code cache failed (exit ${run.status ?? run.signal}):\n${run.stdout}${run.stderr}`);
  }
}

/**
 * Two built-in modules that dependencies load up front and linkface never uses are loaded only if called:
 *   - undici's HTTP/2 client loads node:http2 (and node:tls with it, some 6 ms of every start) to read a few
 *     constants; linkface speaks HTTP/1.1 only. The constants are taken from this Node at build time.
 *   - commander loads node:child_process for stand-alone executable subcommands, which linkface has none of.
 * The build fails if either file changes shape or moves, rather than shipping something that might not work.
 * @returns {import('esbuild').Plugin}
 */
function lazyBuiltins(applied) {
  return {
    name: 'lazy-builtins',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]client-h2\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        const destructured = /const \{\s*constants: \{([^}]*)\}\s*\} = http2/.exec(source);
        const others = [...source.matchAll(/\bhttp2\.(\w+)/g)].map((match) => match[1]).filter((name) => name !== 'connect');
        if (!destructured || others.length > 0) throw new Error(`${path}: undici's use of node:http2 changed; see lazyBuiltins()`);
        const constants = Object.fromEntries(
          destructured[1]
            .split(',')
            .map((name) => name.trim())
            .filter(Boolean)
            .map((name) => {
              if (!(name in http2Constants)) throw new Error(`${path}: node:http2 has no constant ${name}`);
              return [name, http2Constants[name]];
            }),
        );
        const stub = `{ constants: ${JSON.stringify(constants)}, connect: (...args) => require('node:http2').connect(...args) }`;
        applied.add('undici http2');
        return { contents: replaceOnce(path, source, "http2 = require('node:http2')", `http2 = ${stub}`), loader: 'js' };
      });
      pluginBuild.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        const others = [...source.matchAll(/\bchildProcess\.(\w+)/g)].map((match) => match[1]).filter((name) => name !== 'spawn');
        if (others.length > 0) throw new Error(`${path}: commander's use of node:child_process changed; see lazyBuiltins()`);
        const stub = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
        applied.add('commander child_process');
        return { contents: replaceOnce(path, source, "const childProcess = require('node:child_process');", stub), loader: 'js' };
      });
    },
  };
}

/**
 * cosmiconfig loads a user's .js/.cjs/.mjs rc file with `import(href)`. The bundle is compiled by bin/load.js
 * from a code cache, and V8 drops the dynamic-import hook of a script compiled that way (the import fails, and
 * cosmiconfig's fallback `require` hands back the module namespace, `__esModule` and all). That one call goes to
 * a function compiled on its own with the main context's default loader instead. Node calls that loader
 * experimental and warns when it is used; the warning says nothing to a user of linkface and is kept off the
 * terminal. The build fails if cosmiconfig changes shape or moves this code (test/e2e/exe.test.ts and settings
 * tests read such files), or if the bundle holds any other dynamic import.
 * @returns {import('esbuild').Plugin}
 */
function rcModuleImport(applied) {
  const call = 'await import(href)';
  const helper = `
function linkfaceImportRcModule(specifier) {
  const vm = require('node:vm');
  const dynamicImport = vm.runInThisContext('(s) => import(s)', { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
  const emitWarning = process.emitWarning;
  process.emitWarning = function (warning, ...rest) {
    if (!String(warning).includes('USE_MAIN_CONTEXT_DEFAULT_LOADER')) return emitWarning.call(process, warning, ...rest);
  };
  try {
    return dynamicImport(specifier);
  } finally {
    process.emitWarning = emitWarning;
  }
}
`;
  return {
    name: 'rc-module-import',
    setup(pluginBuild) {
      pluginBuild.onLoad({ filter: /[\\/]cosmiconfig[\\/]dist[\\/]loaders\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        applied.add('cosmiconfig import');
        return { contents: helper + replaceOnce(path, source, call, 'await linkfaceImportRcModule(href)'), loader: 'js' };
      });
    },
  };
}

function replaceOnce(path, source, text, replacement) {
  if (source.split(text).length !== 2) throw new Error(`${path}: expected exactly one \`${text}\`; see lazyBuiltins()`);
  return source.replace(text, () => replacement);
}
