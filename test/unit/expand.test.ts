import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { type ExpandOptions, expandInputs, inShard, parseShard, type Shard } from '../../src/inputs/expand.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'linkface-expand-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Creates files (with parent directories) under the temp dir; content is the path, so none is empty. */
function files(...paths: string[]): void {
  for (const path of paths) {
    mkdirSync(join(dir, dirname(path)), { recursive: true });
    writeFileSync(join(dir, path), path);
  }
}

function link(path: string, target: string): void {
  mkdirSync(join(dir, dirname(path)), { recursive: true });
  symlinkSync(target, join(dir, path));
}

const expand = (args: string[], options: Partial<ExpandOptions> = {}) => expandInputs(args, { cwd: dir, ...options });

/** A stand-in for standard input; `isTTY` as a terminal would have it. */
const stdinOf = (chunks: string[], isTTY = false) => Object.assign(Readable.from(chunks.map((c) => Buffer.from(c))), { isTTY });

const isRoot = process.getuid?.() === 0;

describe('directories', () => {
  it('walks nested directories, skips hidden entries and sorts by the bytes of the relative path', async () => {
    // C.bin, not B.bin: the file systems of Windows and macOS would take B.bin and b.bin for one name.
    files('tree/b.bin', 'tree/C.bin', 'tree/a/z.bin', 'tree/a-c.bin', 'tree/a/b/deep.bin', 'tree/\u{1F600}.bin', 'tree/\uFF21.bin');
    files('tree/.hidden.bin', 'tree/a/.DS_Store', 'tree/.git/config', 'tree/.git/objects/x.bin');
    const { inputs, problems } = await expand(['tree']);
    expect(problems).toEqual([]);
    // '-' (0x2d) sorts before '/' (0x2f), so the file a-c.bin comes before the directory a/; U+FF21 is
    // EF BC A1 in UTF-8, before the emoji's F0 ... (a UTF-16 sort would put the emoji first).
    expect(inputs).toEqual([
      'tree/C.bin',
      'tree/a-c.bin',
      'tree/a/b/deep.bin',
      'tree/a/z.bin',
      'tree/b.bin',
      'tree/\uFF21.bin',
      'tree/\u{1F600}.bin',
    ]);
  });

  it.each([
    ['tree', 'tree/x.bin'],
    ['tree/', 'tree/x.bin'],
    ['./tree', 'tree/x.bin'],
    ['tree/../tree', 'tree/x.bin'],
    ['tree/sub/..', 'tree/x.bin'],
  ])('prefixes walked files with the argument as spelled: %s', async (arg, expected) => {
    files('tree/x.bin', 'tree/sub/.hidden');
    expect((await expand([arg])).inputs).toEqual([expected]);
  });

  it.each([
    ['.', 'x.bin'],
    ['sub/..', 'x.bin'],
    ['./', 'x.bin'],
  ])('gives walked files with no prefix for the current directory, however spelled: %s', async (arg, expected) => {
    files('tree/x.bin', 'tree/sub/.hidden');
    expect((await expand([arg], { cwd: join(dir, 'tree') })).inputs).toEqual([expected]);
  });

  it('keeps an absolute directory absolute', async () => {
    files('tree/x.bin');
    expect((await expand([join(dir, 'tree')])).inputs).toEqual([join(dir, 'tree', 'x.bin')]);
  });

  it('follows symlinks to files and directories once, survives a loop and skips dangling links and FIFOs', async () => {
    files('tree/a/f.bin', 'tree/real/r.bin', 'outside/o.bin');
    link('tree/a/loop', '..');
    link('tree/self', 'self');
    link('tree/linked', '../outside');
    link('tree/file-link.bin', '../outside/o.bin');
    // 'latest' sorts before 'real', but the real directory's own path wins.
    link('tree/latest', 'real');
    link('tree/dangling.bin', 'nowhere.bin');
    // Windows has no FIFOs: there, the links only.
    if (process.platform !== 'win32') execFileSync('mkfifo', [join(dir, 'tree', 'pipe.bin')]);
    const { inputs, problems } = await expand(['tree']);
    expect(problems).toEqual([]);
    expect(inputs).toEqual(['tree/a/f.bin', 'tree/file-link.bin', 'tree/linked/o.bin', 'tree/real/r.bin']);
  });

  // Windows has no POSIX modes: chmod 0o000 does not lock a folder there.
  it.skipIf(isRoot || process.platform === 'win32')('reports an unreadable subdirectory and lists the rest (root reads everything, so not as root)', async () => {
    files('tree/ok.bin', 'tree/locked/x.bin');
    chmodSync(join(dir, 'tree/locked'), 0o000);
    try {
      const { inputs, problems } = await expand(['tree']);
      expect(inputs).toEqual(['tree/ok.bin']);
      expect(problems).toEqual([{ input: 'tree/locked', reason: expect.stringMatching(/^permission denied/) }]);
    } finally {
      chmodSync(join(dir, 'tree/locked'), 0o700);
    }
  });

  it.each([
    ['empty', [] as string[]],
    ['with only hidden files', ['.keep', '.cache/x.bin']],
  ])('reports a directory that is %s', async (_name, hidden) => {
    mkdirSync(join(dir, 'tree'));
    files(...hidden.map((name) => `tree/${name}`));
    expect(await expand(['tree'])).toEqual({ inputs: [], problems: [{ input: 'tree', reason: 'the directory has no files to upload' }] });
  });

  // Making and removing 20,000 files may take longer than the default 20 s on Windows and macOS runners; the
  // walk itself is timed below.
  it('walks 20,000 files quickly', { timeout: 90_000 }, async () => {
    mkdirSync(join(dir, 'big/sub'), { recursive: true });
    for (let i = 0; i < 20_000; i++) writeFileSync(join(dir, i % 2 ? 'big' : 'big/sub', `f${String(i).padStart(5, '0')}.bin`), 'x');
    const started = performance.now();
    const { inputs, problems } = await expand(['big']);
    const elapsed = performance.now() - started;
    expect(problems).toEqual([]);
    expect(inputs).toHaveLength(20_000);
    expect(new Set(inputs).size).toBe(20_000);
    expect(inputs[0]).toBe('big/f00001.bin');
    expect(inputs.at(-1)).toBe('big/sub/f19998.bin');
    expect(elapsed).toBeLessThan(3_000);
    // Removed within this test's time rather than the 20 s of afterEach.
    rmSync(join(dir, 'big'), { recursive: true, force: true });
  });
});

describe('glob patterns and literal inputs', () => {
  beforeEach(() => files('x.bin', 'y.bin', 'notes.txt', '.hidden.bin', 'dir/a.bin', 'dir/b.bin', 'dir/c.txt', 'dir/sub/d.bin', 'dir/.h/e.bin'));

  it.each([
    ['dir/**/*.bin', ['dir/a.bin', 'dir/b.bin', 'dir/sub/d.bin']],
    ['*.bin', ['x.bin', 'y.bin']],
    ['dir/{a,b}.bin', ['dir/a.bin', 'dir/b.bin']],
    ['{x,y,zz}.bin', ['x.bin', 'y.bin']],
    ['dir/[ab].bin', ['dir/a.bin', 'dir/b.bin']],
    ['./dir/?.bin', ['dir/a.bin', 'dir/b.bin']],
    ['dir/*', ['dir/a.bin', 'dir/b.bin', 'dir/c.txt']],
    ['.hidden.*', ['.hidden.bin']],
    ['dir/.h/*.bin', ['dir/.h/e.bin']],
  ])('expands %s', async (pattern, expected) => {
    expect(await expand([pattern])).toEqual({ inputs: expected, problems: [] });
  });

  it('keeps the results of an absolute pattern absolute', async () => {
    // Normalised: on Windows the glob gives C:/…/dir/a.bin, the same file as C:\…\dir\a.bin.
    const { inputs } = await expand([join(dir, 'dir', '*.bin')]);
    expect(inputs.map((input) => normalize(input))).toEqual([join(dir, 'dir/a.bin'), join(dir, 'dir/b.bin')]);
  });

  it('reports a pattern that matches nothing', async () => {
    expect(await expand(['nothing/*.bin', 'x.bin'])).toEqual({
      inputs: ['x.bin'],
      problems: [{ input: 'nothing/*.bin', reason: 'no files match this pattern' }],
    });
  });

  // NTFS forbids `*` in names: Windows checks a name with brackets only.
  it.each([
    ['star*.bin', 'starX.bin'],
    ['[xy].bin', 'x.bin'],
  ].filter(([name]) => process.platform !== 'win32' || !name?.includes('*')))('takes an existing file literally even when its name has glob characters: %s', async (name, wouldMatch) => {
    files(name, wouldMatch);
    expect((await expand([name])).inputs).toEqual([name]);
  });

  it('lists each file once through a symlink loop or a second link, like the walk', async () => {
    link('dir/sub/loop', '..');
    link('dir/later', 'sub');
    const globbed = await expand(['dir/**/*']);
    expect(globbed.inputs).toEqual(['dir/a.bin', 'dir/b.bin', 'dir/c.txt', 'dir/sub/d.bin']);
    expect(globbed.inputs).toEqual((await expand(['dir'])).inputs);
  });

  it('passes -, URLs and paths that do not exist through, in order', async () => {
    const args = ['-', 'https://example.com/a%20b.bin', 'missing.bin', 'dir/a.bin', 'ftp://example.com/x'];
    expect(await expand(args)).toEqual({ inputs: args, problems: [] });
  });
});

describe('--include and --exclude', () => {
  beforeEach(() => files('caps/a.bin', 'caps/a.tmp', 'caps/raw/b.bin', 'caps/raw/c.tmp', 'caps/keep/d.bin', 'e.tmp'));

  it.each([
    [{ exclude: ['*.tmp'] }, ['a.bin', 'keep/d.bin', 'raw/b.bin']],
    [{ include: ['*.bin'] }, ['a.bin', 'keep/d.bin', 'raw/b.bin']],
    [{ exclude: ['raw/**'] }, ['a.bin', 'a.tmp', 'keep/d.bin']],
    [{ include: ['raw/*'], exclude: ['*.tmp'] }, ['raw/b.bin']],
    [{ include: ['*.bin', '*.tmp'], exclude: ['keep/**', 'a.*'] }, ['raw/b.bin', 'raw/c.tmp']],
  ])('filters a walk with %o, matching paths relative to the walked directory', async (filters, expected) => {
    expect(await expand(['caps'], filters)).toEqual({ inputs: expected.map((path) => `caps/${path}`), problems: [] });
  });

  it('matches globbed paths relative to the working directory', async () => {
    expect((await expand(['caps/**/*'], { exclude: ['caps/raw/**', '*.tmp'] })).inputs).toEqual(['caps/a.bin', 'caps/keep/d.bin']);
    expect((await expand(['caps/**/*.bin'], { exclude: ['raw/**'] })).inputs).toEqual(['caps/a.bin', 'caps/keep/d.bin', 'caps/raw/b.bin']);
  });

  it('never filters explicitly named files or URLs', async () => {
    const { inputs } = await expand(['e.tmp', 'https://example.com/x.tmp', 'caps/a.tmp', 'caps'], { exclude: ['*.tmp'] });
    expect(inputs).toEqual(['e.tmp', 'https://example.com/x.tmp', 'caps/a.tmp', 'caps/a.bin', 'caps/keep/d.bin', 'caps/raw/b.bin']);
  });

  it.each([
    ['a walk', 'caps', 'the directory has no files to upload: --include/--exclude filtered out all 5 files found'],
    ['a glob', 'caps/*.tmp', 'no files match this pattern: --include/--exclude filtered out the 1 file found'],
  ])('names the filters when they leave %s empty', async (_name, arg, reason) => {
    expect(await expand([arg], { include: ['*.jpg'] })).toEqual({ inputs: [], problems: [{ input: arg, reason }] });
  });
});

describe('--files-from', () => {
  beforeEach(() => files('x.bin', 'caps/a.bin', 'caps/raw/b.bin', 'caps/raw/c.tmp'));

  it('reads one literal input a line, skipping blank lines and comments, and walks directories', async () => {
    const list = [
      '\uFEFFcaps/a.bin\r',
      '',
      '   ',
      '# a comment',
      '  # an indented comment',
      'name with spaces.bin \r',
      ' leading space.bin',
      '*.bin',
      'caps/raw',
      'https://example.com/v.bin',
    ].join('\n');
    writeFileSync(join(dir, 'list.txt'), list);
    const { inputs, problems } = await expand(['x.bin'], { filesFrom: ['list.txt'], exclude: ['*.tmp'] });
    expect(problems).toEqual([]);
    // Arguments first; `*.bin` is not expanded; the walked directory is filtered, the named files are not.
    expect(inputs).toEqual(['x.bin', 'caps/a.bin', 'name with spaces.bin ', ' leading space.bin', '*.bin', 'caps/raw/b.bin', 'https://example.com/v.bin']);
  });

  it('reads a list written as UTF-16 by Windows PowerShell 5.1 (`> list.txt`)', async () => {
    writeFileSync(join(dir, 'list16.txt'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('caps/a.bin\r\nx.bin\r\n', 'utf16le')]));
    expect(await expand([], { filesFrom: ['list16.txt'] })).toEqual({ inputs: ['caps/a.bin', 'x.bin'], problems: [] });
  });

  it('leaves out the files desktops put in folders (Thumbs.db, desktop.ini)', async () => {
    files('caps/Thumbs.db', 'caps/desktop.ini');
    expect((await expand(['caps'])).inputs).toEqual(['caps/a.bin', 'caps/raw/b.bin', 'caps/raw/c.tmp']);
  });

  it('reads lists in the order given, one of them from standard input', async () => {
    writeFileSync(join(dir, 'first.txt'), 'one.bin\n');
    const stdin = stdinOf(['two.b', 'in\r\nthr', 'ee.bin']);
    expect((await expand([], { filesFrom: ['first.txt', '-'], stdin })).inputs).toEqual(['one.bin', 'two.bin', 'three.bin']);
  });

  it('reports a list that cannot be read and keeps the other inputs', async () => {
    expect(await expand(['x.bin'], { filesFrom: ['nope.txt', 'caps'] })).toEqual({
      inputs: ['x.bin'],
      problems: [
        { input: 'nope.txt', reason: 'cannot read this --files-from list: no such file or directory' },
        { input: 'caps', reason: 'cannot read this --files-from list: is a directory' },
      ],
    });
  });

  it('refuses to read a list from a terminal', async () => {
    const attempt = expand([], { filesFrom: ['-'], stdin: stdinOf([], true) });
    await expect(attempt).rejects.toBeInstanceOf(UsageError);
    await expect(attempt).rejects.toThrow(/--files-from - .*standard input is a terminal/);
  });

  it('uses standard input for neither when it is both an input (-) and a list', async () => {
    const stdin = stdinOf(['x.bin\n']);
    const { inputs, problems } = await expand(['-', 'caps/a.bin'], { filesFrom: ['-'], stdin });
    expect(inputs).toEqual(['caps/a.bin']);
    expect(problems).toEqual([{ input: '-', reason: expect.stringContaining('standard input can be read only once') }]);
    expect(stdin.readableEnded).toBe(false);
  });

  it('drops a - line of a list read from standard input', async () => {
    const { inputs, problems } = await expand([], { filesFrom: ['-'], stdin: stdinOf(['x.bin\n-\n']) });
    expect(inputs).toEqual(['x.bin']);
    expect(problems).toEqual([{ input: '-', reason: expect.stringContaining('only once') }]);
  });

  it('reads standard input once when --files-from - is repeated', async () => {
    const { inputs, problems } = await expand([], { filesFrom: ['-', '-'], stdin: stdinOf(['x.bin\n']) });
    expect(inputs).toEqual(['x.bin']);
    expect(problems).toEqual([{ input: '-', reason: expect.stringContaining('more than once') }]);
  });
});

describe('--shard', () => {
  it.each([
    ['1/1', { index: 1, count: 1 }],
    ['2/5', { index: 2, count: 5 }],
    ['5/5', { index: 5, count: 5 }],
    ['10/12', { index: 10, count: 12 }],
  ])('parses %s', (text, shard) => {
    expect(parseShard(text)).toEqual(shard);
  });

  it.each(['0/5', '6/5', '1/0', '0/0', 'x', '', '2', '2/', '/5', '2-5', '1.5/3', '-1/5', '2/5/7', '1/99999999999999999999'])(
    'rejects %j naming --shard and the rule',
    (text) => {
      expect(() => parseShard(text)).toThrow(UsageError);
      expect(() => parseShard(text)).toThrow(/--shard must be i\/n with whole numbers 1 ≤ i ≤ n/);
    },
  );

  it.each([
    ['captures/a.bin', 2, 5],
    ['captures/b.bin', 4, 5],
    ['https://example.com/c.bin', 5, 7],
    ['-', 1, 7],
  ])('puts %s in the same shard on every machine and version', (input, of5, of7) => {
    // Pinned: changing the hash would move inputs between the jobs of a batch split across versions.
    // Counts of 3, 5 or 15 cannot tell the byte order apart (256 ≡ 1 modulo each), hence 7.
    const shardsOf = (count: number) => Array.from({ length: count }, (_, i) => i + 1).filter((index) => inShard(input, { index, count }));
    expect(shardsOf(5)).toEqual([of5]);
    expect(shardsOf(7)).toEqual([of7]);
  });

  const names = Array.from({ length: 1000 }, (_, i) => `captures/day-${i % 7}/liveness-${i}.bin`);
  it.each([1, 2, 3, 4, 5])('splits 1,000 inputs into %i shards with no gap and no overlap', (count) => {
    const shards = Array.from({ length: count }, (_, i) => names.filter((name) => inShard(name, { index: i + 1, count })));
    expect(shards.flat().sort()).toEqual([...names].sort());
  });

  it('balances 1,000 inputs over 5 shards within 10%–30% each', () => {
    for (let index = 1; index <= 5; index++) {
      const size = names.filter((name) => inShard(name, { index, count: 5 })).length;
      expect(size).toBeGreaterThanOrEqual(100);
      expect(size).toBeLessThanOrEqual(300);
    }
  });

  it('filters the expanded inputs, in order, but reports problems in every shard', async () => {
    files(...Array.from({ length: 40 }, (_, i) => `caps/${i}.bin`));
    const all = await expand(['caps', 'nothing/*.bin']);
    const shards: Shard[] = [1, 2, 3].map((index) => ({ index, count: 3 }));
    const results = await Promise.all(shards.map((shard) => expand(['caps', 'nothing/*.bin'], { shard })));
    for (const result of results) {
      expect(result.inputs.length).toBeLessThan(all.inputs.length);
      expect(result.inputs).toEqual(all.inputs.filter((input) => result.inputs.includes(input)));
      expect(result.problems).toEqual([{ input: 'nothing/*.bin', reason: 'no files match this pattern' }]);
    }
    expect(results.flatMap((result) => result.inputs).sort()).toEqual([...all.inputs].sort());
  });
});
