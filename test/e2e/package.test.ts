import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, FIXTURES } from './harness.js';

const exec = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The environment of the npm commands: this one without the `npm_*` variables of the `npm test` around us. */
function npmEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
}

describe('the npm package, packed and installed as a user installs it', () => {
  let work: string;
  let app: string;
  let packed: string[];

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'linkface.mjs'))) throw new Error('dist/ is not built: run `npm run build`');
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
    expect(packed).toContain('package.json');
    expect(packed).toContain('README.md');
    expect(packed).toContain('bin/linkface.js');
    expect(packed).toContain('dist/cli/linkface.mjs');
    expect(packed).toContain('dist/index.js');
    expect(packed).toContain('dist/index.d.ts');
    const unexpected = packed.filter(
      (path) =>
        !['package.json', 'README.md', 'LICENSE', 'bin/linkface.js'].includes(path) &&
        !/^dist\/.+\.(js|d\.ts)$/.test(path) &&
        !/^dist\/cli\/(linkface|chunks\/[\w-]+)\.mjs$/.test(path),
    );
    expect(unexpected).toEqual([]);
    // The library is tsc output from src/index.ts; the command line lives only in the bundle.
    expect(packed.filter((path) => /^dist\/cli\/[^/]+\.(js|d\.ts)$/.test(path))).toEqual([]);
  });

  it('runs as `npx linkface --version`', async () => {
    const { stdout } = await exec('npx', ['--no', '--', 'linkface', '--version'], { cwd: app, env: npmEnv() });
    expect(stdout).toBe(`${VERSION}\n`);
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
 * `--version` and `--help` must not load the HTTP client, the rc-file loader, globbing or the spinner: they
 * are what makes a start slow, and src/cli/main.ts imports each command's code only when it runs.
 *
 * How this is checked: node runs the real bin with a module loader hook (`--import`, `module.register`) that
 * records every file the ESM loader loads; the bundle is ESM, so that is every file of it that is used. Which
 * sources each bundle file holds is in esbuild's metafile (dist/cli/linkface.meta.json, written by
 * scripts/build.mjs). Node's own list of loaded built-in modules (`process.moduleLoadList`) must also show no
 * networking module. A real upload is checked the same way, so the check cannot pass by seeing nothing.
 */
describe('start-up of the bundled command line', () => {
  const HEAVY = /node_modules\/(undici|cosmiconfig|tinyglobby|picomatch|ora|chalk)\/|^src\/(api|engine|config|inputs|sandbox)\//;
  const NETWORK_BUILTINS = ['http', 'https', 'tls', 'http2'];
  let work: string;
  let meta: { outputs: Record<string, { inputs: Record<string, unknown> }> };

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'linkface-loads-'));
    meta = JSON.parse(readFileSync(join(ROOT, 'dist', 'cli', 'linkface.meta.json'), 'utf8'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** Runs `node bin/linkface.js ARGS` and returns the bundle files it loaded, the sources they hold and the built-ins. */
  async function loads(args: string[]): Promise<{ files: string[]; sources: string[]; builtins: string[] }> {
    const log = join(work, `${args.join('-').replace(/\W+/g, '_')}.log`);
    const hooks = join(work, 'hooks.mjs');
    writeFileSync(
      hooks,
      [
        "import { appendFileSync } from 'node:fs';",
        'let log;',
        'export function initialize(data) { log = data.log; }',
        "export async function load(url, context, next) { appendFileSync(log, `load ${url}\\n`); return next(url, context); }",
      ].join('\n'),
    );
    const register = join(work, `register-${Date.now()}-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(
      register,
      [
        "import { register } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        `const log = ${JSON.stringify(log)};`,
        `register(${JSON.stringify(pathToFileURL(hooks).href)}, { data: { log } });`,
        "process.on('exit', () => appendFileSync(log, process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin ${m.slice(13)}\\n`).join('')));",
      ].join('\n'),
    );
    const home = join(work, 'home');
    mkdirSync(home, { recursive: true });
    await exec(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args], {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home, NO_COLOR: '1' },
    });
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const files = lines
      .filter((line) => line.startsWith('load file:'))
      .map((line) => relative(ROOT, fileURLToPath(line.slice('load '.length))))
      .filter((file) => file !== 'bin/linkface.js');
    const sources = files.flatMap((file) => {
      const output = meta.outputs[file];
      if (!output) throw new Error(`${file} was loaded but is not in dist/cli/linkface.meta.json`);
      return Object.keys(output.inputs);
    });
    const builtins = lines.filter((line) => line.startsWith('builtin ')).map((line) => line.slice('builtin '.length));
    return { files, sources, builtins };
  }

  it.each(['--version', '--help', 'upload --help'])('`linkface %s` loads commander and nothing heavy', async (line) => {
    const { files, sources, builtins } = await loads(line.split(' '));
    expect(files).toContain('dist/cli/linkface.mjs');
    expect(files.every((file) => file.startsWith('dist/cli/'))).toBe(true);
    expect(sources).toContain('src/cli/main.ts');
    expect(sources.some((source) => source.includes('node_modules/commander/'))).toBe(true);
    expect(sources.filter((source) => HEAVY.test(source))).toEqual([]);
    expect(builtins.filter((name) => NETWORK_BUILTINS.includes(name))).toEqual([]);
  });

  it('an upload does load the HTTP client (the check sees what it looks for)', async () => {
    const { sources, builtins } = await loads(['upload', '--sandbox', join(FIXTURES, 'liveness', 'alice.bin')]);
    expect(sources.some((source) => source.includes('node_modules/undici/'))).toBe(true);
    expect(builtins).toContain('http');
  });
});
