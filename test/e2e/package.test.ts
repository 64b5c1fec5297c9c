import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as nodeModule from 'node:module';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES } from './harness.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** Node's own compile cache, which bin/linkface.js turns on: Node 22.1 and newer. */
const HAS_COMPILE_CACHE = typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function';

/**
 * The environment of the npm commands: this one without the `npm_*` variables of the `npm test` around us, nor
 * the variables that move or disable Node's compile cache (a developer's own would change where it goes).
 */
function npmEnv(): NodeJS.ProcessEnv {
  const unset = ['NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE', 'XDG_CACHE_HOME', 'LOCALAPPDATA'];
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_') && !unset.includes(key)));
  // npm's own notice of a newer npm would otherwise land on the stderr the tests read.
  return { ...env, npm_config_update_notifier: 'false' };
}

/** The files under `dir`, relative to it ([] when it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

describe('the npm package, packed and installed as a user installs it', () => {
  let work: string;
  let app: string;
  let packed: string[];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'linkface.cjs'))) throw new Error('dist/ is not built: run `npm run build`');
    work = mkdtempSync(join(tmpdir(), 'linkface-pack-'));
    // --ignore-scripts: `prepare` would rebuild dist/ under the feet of the tests running beside this one.
    const pack = await exec('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: ROOT,
      env: npmEnv(),
    });
    const [info] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack said nothing: ${pack.stderr}`);
    packed = info.files.map((file) => file.path).sort();

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    // --prefer-offline: the dependencies come from npm's cache when they are in it (the registry otherwise).
    await exec('npm', ['install', join(work, info.filename), '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app,
      env: npmEnv(),
    });
  }, 120_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds only what a user needs: the bin, the bundle, the library and its types', () => {
    const bin = ['bin/linkface.js', 'bin/package.json'];
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'README.md', ...bin, 'dist/cli/linkface.cjs']));
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.d.ts');
    const unexpected = packed.filter(
      (path) => !['package.json', 'README.md', 'LICENSE', ...bin, 'dist/cli/linkface.cjs'].includes(path) && !/^dist\/.+\.(js|d\.ts)$/.test(path),
    );
    expect(unexpected).toEqual([]);
    // The library is tsc output from src/index.ts; the command line lives only in the bundle.
    expect(packed.filter((path) => /^dist\/cli\/[^/]+\.(js|d\.ts)$/.test(path))).toEqual([]);
  });

  it('runs as `npx linkface --version`, and prints nothing else', async () => {
    const { stdout, stderr } = await exec('npx', ['--no', '--', 'linkface', '--version'], { cwd: app, env: npmEnv() });
    expect(stdout).toBe(`${VERSION}\n`);
    expect(stderr).toBe('');
  });

  it(`keeps Node's compile cache in linkface's cache folder, unless NODE_COMPILE_CACHE names another${HAS_COMPILE_CACHE ? '' : ' (none on this Node.js)'}`, async () => {
    const home = join(work, 'cache-home');
    const elsewhere = join(work, 'cache-elsewhere');
    const xdg = join(work, 'cache-xdg');
    // The installed bin run by node itself: npx would keep its own files in this HOME.
    const bin = join(app, 'node_modules', 'linkface-cli', 'bin', 'linkface.js');
    const version = (env: NodeJS.ProcessEnv) => exec(process.execPath, [bin, '--version'], { cwd: app, env: { ...npmEnv(), HOME: home, ...env } });
    await version({});
    // One entry, for the bundle, in a folder Node names after its version, architecture and user.
    const entries = filesUnder(join(home, '.cache', 'linkface', 'compile-cache'));
    expect(entries).toHaveLength(HAS_COMPILE_CACHE ? 1 : 0);
    expect(filesUnder(home).filter((path) => !path.startsWith(join('.cache', 'linkface', 'compile-cache')))).toEqual([]);

    await version({ XDG_CACHE_HOME: xdg });
    expect(filesUnder(join(xdg, 'linkface', 'compile-cache'))).toHaveLength(HAS_COMPILE_CACHE ? 1 : 0);

    await version({ NODE_COMPILE_CACHE: elsewhere });
    expect(filesUnder(join(home, '.cache', 'linkface', 'compile-cache'))).toEqual(entries);
    if (HAS_COMPILE_CACHE) expect(filesUnder(elsewhere).length).toBeGreaterThan(0);
  });

  it('uploads with `npx linkface upload --sandbox`', async () => {
    const fixture = join(FIXTURES, 'liveness', 'alice.bin');
    const { stdout } = await exec('npx', ['--no', '--', 'linkface', 'upload', '--sandbox', fixture], {
      cwd: app,
      env: { ...npmEnv(), NO_COLOR: '1' },
    });
    expect(stdout).toMatch(/^[0-9a-f]{32}\n$/);
  });

  it('is importable as a library', async () => {
    const script = "import('linkface-cli').then((m) => console.log(typeof m.upload, typeof m.LinkfaceClient, typeof m.startSandbox))";
    const { stdout } = await exec(process.execPath, ['-e', script], { cwd: app });
    expect(stdout).toBe('function function function\n');
  });

  it("reads an ES module rc file: the bundle's import() is Node's own, with no warning", async () => {
    writeFileSync(join(app, '.linkfacerc.mjs'), "export default { apiId: 'from-an-es-module' };\n");
    const { stdout, stderr } = await exec('npx', ['--no', '--', 'linkface', 'config', 'show'], {
      cwd: app,
      env: { ...npmEnv(), HOME: app, NO_COLOR: '1' },
    });
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^apiId +from-an-es-module /m);
  });

  it('gives TypeScript users its types', async () => {
    writeFileSync(
      join(app, 'use.ts'),
      [
        "import { LinkfaceClient, upload, type UploadResult } from 'linkface-cli';",
        "const results: UploadResult[] = await upload('liveness.bin', { apiId: 'id', apiSecret: 'secret' });",
        'const ok: boolean | undefined = results[0]?.ok;',
        "const client: LinkfaceClient = new LinkfaceClient({ apiId: 'id', apiSecret: 'secret' });",
        'export { client, ok };',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          typeRoots: [join(ROOT, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['use.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await exec(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((error: { stdout: string }) => error);
    expect(result.stdout).toBe('');
  });
});

/**
 * `--version` and `--help` must not run the HTTP client, the rc-file loader, globbing or the spinner: they are
 * what makes a start slow, and src/cli/main.ts imports each command's code only when it runs.
 *
 * How this is checked: the command line is one bundle in which every module reached through a dynamic import
 * sits behind its own initializer, a function esbuild names after the module's path (`src/api/client.ts`,
 * `node_modules/undici/index.js`). V8's coverage (NODE_V8_COVERAGE) says which functions ran, so which modules
 * did; Node's own list of loaded built-in modules (`process.moduleLoadList`) must show no networking module. A
 * real upload is checked the same way, so the check cannot pass by seeing nothing.
 */
describe('start-up of the bundled command line', () => {
  const HEAVY = /^node_modules\/(undici|cosmiconfig|tinyglobby|picomatch|ora|chalk)\/|^src\/(api|engine|config|inputs|sandbox)\//;
  // Not node:net: Node loads it for a stdout that is a pipe, as it is here.
  const NETWORK_BUILTINS = ['http', 'https', 'tls', 'http2', 'dns'];
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'linkface-loads-'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs `node bin/linkface.js ARGS`; returns the bundle's modules that ran and the built-in modules loaded. */
  async function loads(args: string[], env: Record<string, string> = {}): Promise<{ modules: string[]; builtins: string[] }> {
    const name = `${args.join('-').replace(/\W+/g, '_')}-${Math.random().toString(36).slice(2)}`;
    const coverage = join(work, `${name}-coverage`);
    const builtinsLog = join(work, `${name}-builtins.log`);
    const hook = join(work, `${name}-hook.cjs`);
    writeFileSync(
      hook,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(builtinsLog)}, process.moduleLoadList.join('\\n')));`,
    );
    const home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    await exec(process.execPath, ['--require', hook, BIN, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1', NODE_V8_COVERAGE: coverage, ...env },
    });
    const bundleUrl = pathToFileURL(join(ROOT, 'dist', 'cli', 'linkface.cjs')).href;
    const scripts = readdirSync(coverage).flatMap(
      (file) => (JSON.parse(readFileSync(join(coverage, file), 'utf8')) as V8Coverage).result,
    );
    const bundle = scripts.find((script) => script.url === bundleUrl);
    if (!bundle) throw new Error(`no coverage for ${bundleUrl}`);
    const modules = bundle.functions
      .filter((fn) => /^(src|node_modules)\//.test(fn.functionName) && (fn.ranges[0]?.count ?? 0) > 0)
      .map((fn) => fn.functionName);
    const builtins = readFileSync(builtinsLog, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('NativeModule '))
      .map((line) => line.slice('NativeModule '.length));
    return { modules, builtins };
  }

  it.each(['--version', '--help', 'upload --help'])('`linkface %s` runs commander and nothing heavy', async (line) => {
    const { modules, builtins } = await loads(line.split(' '));
    expect(modules).toContain('node_modules/commander/index.js');
    expect(modules.filter((module) => HEAVY.test(module))).toEqual([]);
    expect(builtins.filter((name) => NETWORK_BUILTINS.includes(name))).toEqual([]);
  });

  it('an upload does run the HTTP client (the check sees what it looks for)', async () => {
    const { modules, builtins } = await loads(['upload', '--sandbox', join(FIXTURES, 'liveness', 'alice.bin')]);
    expect(modules).toContain('src/api/client.ts');
    expect(modules.some((module) => module.startsWith('node_modules/undici/'))).toBe(true);
    expect(builtins).toContain('http');
    // stderr is not a terminal and FORCE_COLOR is not set: chalk would say no colour, so it is not run at all.
    expect(modules.filter((module) => module.startsWith('node_modules/chalk/'))).toEqual([]);
  });

  it('an upload runs chalk when colour is asked for (FORCE_COLOR)', async () => {
    const { modules } = await loads(['upload', '--sandbox', join(FIXTURES, 'liveness', 'alice.bin')], { NO_COLOR: '', FORCE_COLOR: '1' });
    expect(modules).toContain('node_modules/chalk/source/index.js');
  });
});

interface V8Coverage {
  result: Array<{ url: string; functions: Array<{ functionName: string; ranges: Array<{ count: number }> }> }>;
}
