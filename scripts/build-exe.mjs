#!/usr/bin/env node
/**
 * `npm run build:exe`: release/linkface-linux-x64, one file that runs linkface with no Node.js installed,
 * built with Node's own Single Executable Applications (https://nodejs.org/api/single-executable-applications.html):
 *
 *   1. esbuild bundles src/cli into ONE CommonJS file (SEA runs a single CommonJS script; no top-level await);
 *   2. `node --experimental-sea-config` turns it into a blob, with V8's code cache so start-up skips compiling;
 *   3. a copy of this very `node` binary gets the blob injected by postject, which flips the SEA fuse;
 *   4. release/linkface-linux-x64.sha256 (sha256sum format) is written beside it;
 *   5. a smoke run (`env -i … --version`) checks the result before anyone ships it.
 *
 * Why not pkg or @yao-pkg/pkg: they download patched Node binaries from outside the npm registry, which fails
 * on machines that reach only the registry. SEA needs nothing but the `node` that runs this script.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { COMMON, ROOT, VERSION } from './bundle-options.mjs';

const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const RELEASE = join(ROOT, 'release');
const EXE = join(RELEASE, `linkface-${process.platform}-${process.arch}`);
const WORK = join(RELEASE, '.sea');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  fail(`the single executable is built for Linux x64 only (this is ${process.platform} ${process.arch})`);
}
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 18)) fail(`Node.js 20.18 or newer is needed (this is ${process.version})`);

rmSync(WORK, { recursive: true, force: true });
mkdirSync(WORK, { recursive: true });

// 1. One CommonJS file. The entry is inline so src/ needs no SEA-only module.
const bundle = join(WORK, 'linkface.cjs');
await build({
  ...COMMON,
  stdin: {
    contents: "import { main } from './src/cli/main.ts';\nmain(process.argv).then((code) => { process.exitCode = code; });\n",
    resolveDir: ROOT,
    sourcefile: 'sea-entry.ts',
    loader: 'ts',
  },
  outfile: bundle,
  format: 'cjs',
  // Inside an executable, `require` loads built-in modules only. A real one lets cosmiconfig load a user's
  // .js/.cjs/.mjs rc file from disk, as the npm command does. `import.meta` is empty in CommonJS: the usual
  // shim gives `import.meta.url` a value (src/version.ts only reads it when the version is not defined).
  banner: {
    js: [
      "require = require('node:module').createRequire(__filename);",
      "var __lfImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
    ].join('\n'),
  },
  define: { ...COMMON.define, 'import.meta.url': '__lfImportMetaUrl' },
  plugins: [seaDynamicImport()],
});

// 2. The preparation blob. No `useSnapshot`: undici cannot be put in a startup snapshot.
const blob = join(WORK, 'sea-prep.blob');
const seaConfig = join(WORK, 'sea-config.json');
writeFileSync(
  seaConfig,
  JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2),
);
run(process.execPath, ['--experimental-sea-config', seaConfig]);

// 3. A copy of this node, with the blob injected.
rmSync(EXE, { force: true });
copyFileSync(process.execPath, EXE);
chmodSync(EXE, 0o755);
// postject's CLI rather than its API: its harmless LIEF warnings stay out of the output unless it fails.
const postject = fileURLToPath(import.meta.resolve('postject/dist/cli.js'));
run(process.execPath, [postject, EXE, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE]);

// 4. The checksum, in the format `sha256sum -c` reads (run from release/).
const digest = createHash('sha256').update(readFileSync(EXE)).digest('hex');
writeFileSync(`${EXE}.sha256`, `${digest}  ${basename(EXE)}\n`);

// 5. Smoke run with an empty environment: no node on PATH, nothing inherited.
const smoke = spawnSync(EXE, ['--version'], { env: {}, encoding: 'utf8' });
if (smoke.status !== 0 || smoke.stdout.trim() !== VERSION) {
  fail(`the built executable does not run: exit ${smoke.status}, stdout ${JSON.stringify(smoke.stdout)}\n${smoke.stderr}`);
}
rmSync(WORK, { recursive: true, force: true });
console.log(`${EXE.slice(ROOT.length)} (${(readFileSync(EXE).length / 2 ** 20).toFixed(0)} MiB, linkface ${VERSION})`);
console.log(`sha256 ${digest}`);

/**
 * With `useCodeCache`, `import()` in an executable's script fails (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), and
 * cosmiconfig loads a user's .js/.cjs/.mjs rc file with `import(href)`. Its one such call is pointed at an
 * `import()` compiled with the main context's default loader, which works; Node flags that loader experimental,
 * so that one warning (and no other) is kept off the user's terminal. The build fails if cosmiconfig changes
 * shape, rather than shipping an executable that cannot read those rc files (test/e2e/exe.test.ts reads one).
 * @returns {import('esbuild').Plugin}
 */
function seaDynamicImport() {
  const call = 'await import(href)';
  const helper = `
function linkfaceSeaImport(specifier) {
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
    name: 'sea-dynamic-import',
    setup(build) {
      build.onLoad({ filter: /[\\/]cosmiconfig[\\/]dist[\\/]loaders\.js$/ }, ({ path }) => {
        const source = readFileSync(path, 'utf8');
        if (source.split(call).length !== 2) {
          throw new Error(`expected exactly one \`${call}\` in ${path}: cosmiconfig changed, see seaDynamicImport()`);
        }
        return { contents: helper + source.replace(call, 'await linkfaceSeaImport(href)'), loader: 'js' };
      });
    },
  };
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) fail(`${basename(command)} ${args.join(' ')} failed:\n${result.stdout}${result.stderr}`);
}

function fail(message) {
  console.error(`build:exe: ${message}`);
  process.exit(1);
}
