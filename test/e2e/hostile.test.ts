/**
 * Hostile input (issue 5, item 3): file names a shell script would choke on, special files inside a walked
 * folder, a very large folder, files that change between the check and the upload, patterns that match
 * nothing, rc files built to hurt the parser, and environment values with stray whitespace or quotes.
 * Each either works or gets a clear error naming the input, and nothing is sent for what cannot be
 * uploaded (checked against what the sandbox received).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, linkSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { lines, parseRecords, runCli, sha256, useSandbox } from './harness.js';

const setup = useSandbox('hostile');
let caseCounter = 0;

/** A fresh, empty working folder for one test. */
function workdir(): string {
  const dir = join(setup.dir, `case-${caseCounter++}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** SHA-256 of every file the sandbox stored. */
const storedContents = () => setup.sandbox.uploads().map((u) => u.file?.sha256);

describe('hostile file names', () => {
  const ALL_NAMES = ['a b.bin', ' leading and trailing space .bin', 'quo"te\'s.bin', 'new\nline.bin', 'tab\there.bin', 'back\\slash.bin', '$(touch pwned).bin'];
  // NTFS forbids `"`, newlines and tabs in names, and `\` is the Windows path separator: there, the names it allows.
  const NAMES = process.platform === 'win32' ? ALL_NAMES.filter((name) => !/["\n\t\\]/.test(name)) : ALL_NAMES;

  it('spaces, quotes, a newline, a tab, a backslash and shell syntax: uploaded, each name exact in --json and the manifest', async () => {
    const dir = workdir();
    mkdirSync(join(dir, 'names'));
    for (const [i, name] of NAMES.entries()) writeFileSync(join(dir, 'names', name), `hostile name ${i}`);
    const run = await runCli(['upload', '--json', '--manifest', 'm.ndjson', 'names/'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const out = parseRecords(run.stdout);
    expect(out.map((r) => r.input).sort()).toEqual(NAMES.map((name) => `names/${name}`).sort());
    expect(parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8'))).toEqual(out);
    for (const [i, name] of NAMES.entries()) {
      const record = out.find((r) => r.input === `names/${name}`);
      expect(record?.sha256, name).toBe(sha256(`hostile name ${i}`));
      expect(storedContents()).toContain(record?.sha256);
    }
    expect(setup.sandbox.uploads()).toHaveLength(NAMES.length);
    expect(() => readFileSync(join(dir, 'pwned'))).toThrow();
  });

  it('a name with a newline or a tab does not break the one-line-per-upload stdout', async () => {
    const dir = workdir();
    mkdirSync(join(dir, 'names'));
    for (const [i, name] of NAMES.entries()) writeFileSync(join(dir, 'names', name), `hostile stdout ${i}`);
    const run = await runCli(['upload', 'names/'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    // SPEC "Output": several inputs give one `<id><TAB><input>` line per uploaded input.
    const rows = lines(run.stdout);
    expect(rows, run.stdout).toHaveLength(NAMES.length);
    for (const row of rows) expect(row.split('\t'), JSON.stringify(row)).toHaveLength(2);
    expect(new Set(rows.map((row) => row.split('\t')[0]))).toEqual(new Set(setup.sandbox.uploads().map((u) => u.livenessDataId)));
  });

  // Linux only: APFS (macOS) refuses names that are not UTF-8 (EILSEQ), and NTFS names are UTF-16, so no such
  // file can be made there.
  it.skipIf(process.platform === 'win32' || process.platform === 'darwin')('a name that is not UTF-8: uploaded, or reported as such by name (not as missing) with nothing sent', async () => {
    const dir = workdir();
    mkdirSync(join(dir, 'raw'));
    writeFileSync(join(dir, 'raw', 'good.bin'), 'good bytes');
    const rawName = Buffer.concat([Buffer.from(join(dir, 'raw') + '/'), Buffer.from([0x66, 0xff, 0xfe, 0x80]), Buffer.from('.bin')]);
    writeFileSync(rawName, 'latin-1 named bytes');
    for (const args of [['raw/'], ['raw/*.bin']]) {
      const run = await runCli(['upload', ...args], { env: setup.env, cwd: dir });
      if (run.code === 0) {
        // Uploaded under its real name: the bytes the server got are that file's.
        expect(storedContents()).toContain(sha256('latin-1 named bytes'));
      } else {
        expect(run.code, run.stderr).toBe(2);
        // It exists: "no such file" would send the user looking for the wrong problem.
        expect(run.stderr).not.toMatch(/no such file/);
        expect(run.stderr).toMatch(/raw\/f.*\.bin: .*(UTF-8|encod)/i);
        expect(setup.sandbox.requests).toHaveLength(0);
      }
    }
  });

  it('a leading dash: `-- -x.bin` and `./-x.bin` upload; a bare `-x.bin` is an unknown option and sends nothing', async () => {
    const dir = workdir();
    writeFileSync(join(dir, '-x.bin'), 'dash bytes');
    const bare = await runCli(['upload', '-x.bin'], { env: setup.env, cwd: dir });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toMatch(/unknown option '-x\.bin'/);
    expect(setup.sandbox.requests).toHaveLength(0);
    for (const args of [['--', '-x.bin'], ['./-x.bin']]) {
      const before = setup.sandbox.uploads().length;
      const run = await runCli(['upload', ...args], { env: setup.env, cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(`${setup.sandbox.uploads()[before]?.livenessDataId}\n`);
      expect(setup.sandbox.uploads()[before]?.file).toMatchObject({ filename: '-x.bin', sha256: sha256('dash bytes') });
    }
  });
});

describe('special files in a walked folder', () => {
  /** real/a.bin, real/sub/b.bin, and beside them: links to directories, loops, a FIFO, a device, a dangling link. */
  function specialTree(): string {
    const dir = workdir();
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'real', 'sub'), { recursive: true });
    writeFileSync(join(tree, 'real', 'a.bin'), 'regular a');
    writeFileSync(join(tree, 'real', 'sub', 'b.bin'), 'regular b');
    symlinkSync('real', join(tree, 'linked-dir'));
    symlinkSync('.', join(tree, 'real', 'self'));
    symlinkSync('..', join(tree, 'real', 'sub', 'up'));
    symlinkSync('loop-b.bin', join(tree, 'loop-a.bin'));
    symlinkSync('loop-a.bin', join(tree, 'loop-b.bin'));
    symlinkSync('/dev/null', join(tree, 'null.bin'));
    symlinkSync('missing.bin', join(tree, 'dangling.bin'));
    // Windows has no FIFOs (and its /dev/null link above dangles): there, the links and loops only.
    if (process.platform !== 'win32') execFileSync('mkfifo', [join(tree, 'fifo.bin')]);
    return dir;
  }

  it('symlinked folders, loops, a FIFO, a /dev/null link, a dangling link: only the regular files, each once, no hang', async () => {
    const dir = specialTree();
    const started = Date.now();
    const run = await runCli(['upload', '--json', 'tree/'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(parseRecords(run.stdout).map((r) => r.input).sort()).toEqual(['tree/real/a.bin', 'tree/real/sub/b.bin']);
    expect(storedContents().sort()).toEqual([sha256('regular a'), sha256('regular b')].sort());
    expect(setup.sandbox.requests).toHaveLength(2);
  });

  // Windows has no FIFOs and no /dev/null.
  it.skipIf(process.platform === 'win32')('named one by one, each special file is an invalid input named with its reason (exit 2), nothing sent', async () => {
    const dir = specialTree();
    const run = await runCli(['upload', 'tree/real/a.bin', 'tree/fifo.bin', 'tree/null.bin', '/dev/null', 'tree/loop-a.bin', 'tree/dangling.bin'], { env: setup.env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/5 inputs are not valid; nothing was uploaded/);
    expect(run.stderr).toMatch(/tree\/fifo\.bin: is not a regular file \(a named pipe\)/);
    expect(run.stderr).toMatch(/tree\/null\.bin: is not a regular file \(a device\)/);
    expect(run.stderr).toMatch(/\/dev\/null: is not a regular file \(a device\)/);
    expect(run.stderr).toMatch(/tree\/loop-a\.bin: too many levels of symbolic links/);
    expect(run.stderr).toMatch(/tree\/dangling\.bin: no such file or directory/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('a glob over the same folder finishes, uploads each regular file once and sends nothing else', async () => {
    const dir = specialTree();
    const run = await runCli(['upload', '--json', '--skip-invalid', 'tree/**/*.bin'], { env: setup.env, cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const out = parseRecords(run.stdout);
    expect(out.filter((r) => r.ok).map((r) => r.input).sort()).toEqual(['tree/real/a.bin', 'tree/real/sub/b.bin']);
    // Whatever the glob listed besides is reported as skipped, by name, never sent.
    for (const r of out.filter((o) => !o.ok)) {
      expect(r.status).toBe('SKIPPED');
      expect(r.input).toMatch(/fifo|null|loop|dangling/);
    }
    expect(storedContents().sort()).toEqual([sha256('regular a'), sha256('regular b')].sort());
    expect(setup.sandbox.requests).toHaveLength(2);
  });

  it('a folder of 100,000 files: --dry-run lists every one, in order', { timeout: 90_000 }, async () => {
    const dir = workdir();
    const big = join(dir, 'big');
    mkdirSync(big);
    // Hard links to 128 small files: far quicker to create than 100,000 inodes; 782 links each, within every
    // file system's cap (NTFS allows 1,023 links to a file, ext4 65,000).
    const sources = Array.from({ length: 128 }, (_, s) => {
      const source = join(dir, `source-${s}.bin`);
      writeFileSync(source, `many ${s}`);
      return source;
    });
    for (let i = 0; i < 100_000; i++) linkSync(sources[i % sources.length] as string, join(big, `${String(i).padStart(6, '0')}.bin`));
    const started = Date.now();
    const run = await runCli(['upload', '--dry-run', 'big/'], { cwd: dir, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const rows = lines(run.stdout);
    expect(rows).toHaveLength(100_000);
    expect(rows[0]).toBe('upload\tbig/000000.bin');
    expect(rows[99_999]).toBe('upload\tbig/099999.bin');
    expect(rows.every((row, i) => row === `upload\tbig/${String(i).padStart(6, '0')}.bin`)).toBe(true);
    expect(run.stderr).toMatch(/Dry run: 100000 would be uploaded \(.*\), 0 skipped; nothing was sent/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(setup.sandbox.requests).toHaveLength(0);
    rmSync(big, { recursive: true, force: true });
  });
});

describe('files that change between the check and the upload', () => {
  it('a file deleted, one grown, one shrunk while earlier uploads run: INVALID_INPUT naming each, nothing sent for them', async () => {
    await setup.restart({ latencyMs: 800 });
    const dir = workdir();
    mkdirSync(join(dir, 'c'));
    for (const name of ['a', 'ahead', 'b', 'c', 'd']) writeFileSync(join(dir, 'c', `${name}.bin`), `changing ${name}`);
    let child: import('node:child_process').ChildProcess | undefined;
    const running = runCli(['upload', '-c', '1', '--manifest', 'm.ndjson', 'c/'], { env: setup.env, cwd: dir, onSpawn: (c) => (child = c) });
    // One upload at a time: while a.bin or ahead.bin is with the (slow) server, the other is read and waits its
    // turn (linkface reads one file ahead per upload slot), and the rest are not read yet.
    for (let i = 0; i < 500 && setup.sandbox.requests.length === 0; i++) await sleep(10);
    expect(setup.sandbox.requests).toHaveLength(1);
    expect(child).toBeDefined();
    rmSync(join(dir, 'c', 'b.bin'));
    appendFileSync(join(dir, 'c', 'c.bin'), ' and then some');
    truncateSync(join(dir, 'c', 'd.bin'), 3);
    const run = await running;
    expect(run.code, run.stderr).toBe(1);
    const manifest = parseRecords(readFileSync(join(dir, 'm.ndjson'), 'utf8'));
    const status = (input: string) => manifest.find((r) => r.input === input);
    expect(status('c/a.bin')).toMatchObject({ ok: true });
    expect(status('c/ahead.bin')).toMatchObject({ ok: true });
    expect(status('c/b.bin')).toMatchObject({ ok: false, status: 'INVALID_INPUT' });
    expect(status('c/b.bin')?.reason).toMatch(/disappeared|no such file/);
    expect(status('c/c.bin')).toMatchObject({ ok: false, status: 'INVALID_INPUT' });
    expect(status('c/c.bin')?.reason).toMatch(/changed size since it was checked \(10 bytes, now 24\)/);
    expect(status('c/d.bin')).toMatchObject({ ok: false, status: 'INVALID_INPUT' });
    expect(status('c/d.bin')?.reason).toMatch(/changed size since it was checked \(10 bytes, now 3\)/);
    for (const name of ['b', 'c', 'd']) expect(run.stderr).toContain(`c/${name}.bin: INVALID_INPUT`);
    // Which of the two goes first depends on which is read first; both go.
    expect(lines(run.stdout).map((line) => line.split('\t')[1]).sort()).toEqual(['c/a.bin', 'c/ahead.bin']);
    // Small files are read whole before they are sent: nothing at all went out for the changed ones.
    expect(setup.sandbox.requests.map((r) => r.file?.filename).sort()).toEqual(['a.bin', 'ahead.bin']);
  });
});

describe('patterns that match nothing', () => {
  it('a glob that matches nothing: exit 2 naming the pattern, nothing sent (even for the valid inputs beside it)', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'real.bin'), 'real');
    const run = await runCli(['upload', 'real.bin', 'captures/**/*.bin'], { env: setup.env, cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/captures\/\*\*\/\*\.bin: no files match this pattern/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });
});

describe('rc files built to hurt', () => {
  /** Runs an upload that would succeed if the rc file were ignored; returns the run and its duration. */
  async function uploadWith(dir: string, args: string[] = []) {
    writeFileSync(join(dir, 'f.bin'), 'rc test bytes');
    const started = Date.now();
    const run = await runCli(['upload', ...args, 'f.bin'], { env: setup.env, cwd: dir, timeoutMs: 10_000 });
    return { run, ms: Date.now() - started };
  }

  it('malformed JSON: exit 2 naming the file and the line, never quoting it, nothing sent', async () => {
    const dir = workdir();
    writeFileSync(join(dir, '.linkfacerc.json'), '{\n  "apiId": "someone",\n  "apiSecret": "hunter2-canary-secret" oops\n}\n');
    const { run, ms } = await uploadWith(dir);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(dir, '.linkfacerc.json')} is not valid JSON`);
    expect(run.stderr).toMatch(/line 3, column \d+/);
    expect(run.stderr).not.toContain('hunter2');
    expect(ms).toBeLessThan(5000);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  // Sixteen levels of nine aliases each: 9^16 strings if anything expanded it.
  const laughs = (indent: string) =>
    [`${indent}l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`]
      .concat(Array.from({ length: 16 }, (_, i) => `${indent}l${i + 1}: &l${i + 1} [${Array(9).fill(`*l${i}`).join(',')}]`))
      .join('\n');
  // The same, inside one flow sequence, so that the bomb is the value of a valid key.
  const flowLaughs = `[&l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol], ${Array.from({ length: 16 }, (_, i) => `&l${i + 1} [${Array(9).fill(`*l${i}`).join(',')}]`).join(', ')}]`;
  it.each([
    { where: 'at the top level', file: '.linkfacerc', text: `${laughs('')}\n`, key: /unknown key 'l0'/ },
    { where: 'inside a profile', file: '.linkfacerc.yaml', text: `profiles:\n  lol:\n${laughs('    ')}\n`, key: /unknown key 'profiles\.lol\.l0'/ },
    { where: 'as the value of a setting', file: '.linkfacerc.yml', text: `apiId: ${flowLaughs}\n`, key: /apiId must be a non-empty string, got a list/ },
    { where: 'as a self-referencing profile', file: '.linkfacerc.yaml', text: 'profiles: &p\n  x: *p\n', key: /unknown key 'profiles\.x\.x'/ },
  ])('YAML with an alias bomb $where: exit 2 naming the file and key, fast, nothing sent', async ({ file, text, key }) => {
    const dir = workdir();
    writeFileSync(join(dir, file), text);
    const { run, ms } = await uploadWith(dir);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(join(dir, file));
    expect(run.stderr).toMatch(key);
    expect(ms).toBeLessThan(5000);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it.each([
    { file: '.linkfacerc.cjs', text: "throw new Error('broken config: cjs');\n", message: 'broken config: cjs' },
    { file: 'linkface.config.mjs', text: "throw new Error('broken config: mjs');\nexport default {};\n", message: 'broken config: mjs' },
    { file: '.linkfacerc.js', text: "export default (() => { throw new TypeError('broken config: js'); })();\n", message: 'broken config: js' },
  ])('a JS config that throws ($file): exit 2 naming the file and its error, nothing sent', async ({ file, text, message }) => {
    const dir = workdir();
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(dir, file), text);
    const { run, ms } = await uploadWith(dir);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`${join(dir, file)} could not be loaded: ${message}`);
    expect(run.stderr).not.toMatch(/internal error|at .*:\d+:\d+/);
    expect(ms).toBeLessThan(5000);
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('--config naming a TypeScript file: exit 2 saying which formats are read, nothing sent', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'custom.ts'), "export default { apiId: 'from-typescript' };\n");
    const { run } = await uploadWith(dir, ['--config', 'custom.ts']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('custom.ts (from --config) is a TypeScript file, which linkface cannot load: use .json, .yaml, .js, .cjs or .mjs');
    expect(setup.sandbox.requests).toHaveLength(0);
  });

  it('--config naming a broken file says it came from --config', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'custom.yaml'), 'apiId: [unclosed\n');
    const { run } = await uploadWith(dir, ['--config', 'custom.yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/custom\.yaml \(from --config\) is not valid YAML: .* at line \d+, column \d+/);
    expect(setup.sandbox.requests).toHaveLength(0);
  });
});

describe('environment values with stray whitespace or quotes', () => {
  it("LINKFACE_API_ID=' sandbox ', LINKFACE_API_SECRET='\"…\"' and friends work, with a warning that never shows the secret", async () => {
    const secret = 'canary-secret-0123456789';
    await setup.restart({ apiSecret: secret });
    const dir = workdir();
    writeFileSync(join(dir, 'f.bin'), 'env bytes');
    const run = await runCli(['upload', 'f.bin'], {
      cwd: dir,
      env: {
        LINKFACE_API_ID: ' sandbox ',
        LINKFACE_API_SECRET: `"${secret}"`,
        LINKFACE_ENDPOINT: ` ${setup.sandbox.url}\n`,
        LINKFACE_TIMEOUT: "'5'",
        LINKFACE_RETRIES: ' 2\t',
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`${setup.sandbox.uploads()[0]?.livenessDataId}\n`);
    expect(setup.sandbox.uploads()[0]?.fields).toMatchObject({ api_id: 'sandbox', api_secret: secret });
    expect(run.stderr).toMatch(/warning: LINKFACE_API_SECRET is wrapped in quotes; they were removed/);
    expect(run.stderr).toMatch(/warning: LINKFACE_TIMEOUT is wrapped in quotes/);
    expect(run.stderr).not.toContain(secret);
  });

  it('a secret with an unmatched quote is sent as given and fails as UNAUTHORIZED (exit 3), not silently altered', async () => {
    const dir = workdir();
    writeFileSync(join(dir, 'f.bin'), 'env bytes 2');
    const run = await runCli(['upload', 'f.bin'], { cwd: dir, env: { ...setup.env, LINKFACE_API_SECRET: '"sandbox' } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/UNAUTHORIZED/);
    expect(setup.sandbox.requests[0]?.fields.api_secret).toBe('"sandbox');
  });
});
