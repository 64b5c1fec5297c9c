import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES } from './harness.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** The code cache `npm run build` made, for the Node.js that ran it: the tests may run on another (test:runtimes). */
const CACHE = (existsSync(join(ROOT, 'dist', 'cli')) ? readdirSync(join(ROOT, 'dist', 'cli')) : []).find((name) => /^linkface-v[\d.]+-\w+-\w+\.cache$/.test(name));
const BUILT_HERE = CACHE === `linkface-${process.version}-${process.platform}-${process.arch}.cache`;

/** The environment of the npm commands: this one without the `npm_*` variables of the `npm test` around us. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
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

  it('holds only what a user needs: the bin, the bundle and its code cache, the library and its types', () => {
    const bin = ['bin/linkface.js', 'bin/load.js', 'bin/package.json'];
    const cache = `dist/cli/${CACHE}`;
    expect(packed).toEqual(expect.arrayContaining(['package.json', 'README.md', ...bin, 'dist/cli/linkface.cjs', cache]));
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.d.ts');
    const unexpected = packed.filter(
      (path) =>
        !['package.json', 'README.md', 'LICENSE', ...bin, 'dist/cli/linkface.cjs', cache].includes(path) &&
        !/^dist\/.+\.(js|d\.ts)$/.test(path),
    );
    expect(unexpected).toEqual([]);
    // The library is tsc output from src/index.ts; the command line lives only in the bundle.
    expect(packed.filter((path) => /^dist\/cli\/[^/]+\.(js|d\.ts)$/.test(path))).toEqual([]);
  });

  it('runs as `npx linkface --version`, compiled from the code cache when it was built for this Node.js', async () => {
    const { stdout, stderr } = await exec('npx', ['--no', '--', 'linkface', '--version'], {
      cwd: app,
      env: { ...npmEnv(), LINKFACE_DEBUG_STARTUP: '1' },
    });
    expect(stdout).toBe(`${VERSION}\n`);
    // The debug line and nothing else: on another Node.js, no warning about the cache.
    expect(stderr).toMatch(
      BUILT_HERE
        ? /^linkface: code cache accepted \(.*node_modules\/linkface-cli\/dist\/cli\/linkface\.cjs\)\n$/
        : /^linkface: code cache absent for Node\.js v[\d.]+ \w+ \w+: compiling .*node_modules\/linkface-cli\/dist\/cli\/linkface\.cjs\n$/,
    );
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

  it('runs without a code cache for its Node.js (one other than the Node.js that built the package)', async () => {
    // (Already absent when the tests run on another Node.js than the one that built the package.)
    rmSync(join(app, 'node_modules', 'linkface-cli', 'dist', 'cli', `linkface-${process.version}-${process.platform}-${process.arch}.cache`), { force: true });
    writeFileSync(join(app, '.linkfacerc.mjs'), "export default { apiId: 'from-an-es-module' };\n");
    const { stdout, stderr } = await exec('npx', ['--no', '--', 'linkface', 'config', 'show'], {
      cwd: app,
      env: { ...npmEnv(), HOME: app, NO_COLOR: '1', LINKFACE_DEBUG_STARTUP: '1' },
    });
    expect(stderr).toMatch(/^linkface: code cache absent for Node\.js v[\d.]+ \w+ \w+: compiling .*linkface\.cjs$/m);
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
