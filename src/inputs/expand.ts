import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { describeFsError, type InputProblem, isUrlInput } from './check.js';
import { caseInsensitiveNames, decodeText, folderSpelling, isDesktopClutter, portablePattern } from './portable.js';
import { PackedStrings } from './packed.js';
import { inShard, type Shard } from './shard.js';
import { compareBytewise, walkDirectory } from './walk.js';

export { inShard, parseShard, type Shard } from './shard.js';

export interface ExpandOptions {
  /** Where relative paths, patterns and `--files-from` lists are resolved. */
  readonly cwd: string;
  /** `--include`: keep only walked or globbed files that match one of these. */
  readonly include?: readonly string[];
  /** `--exclude`: drop walked or globbed files that match any of these. */
  readonly exclude?: readonly string[];
  /** `--files-from`: lists of more inputs, one a line; `-` reads a list from `stdin`. */
  readonly filesFrom?: readonly string[];
  /** Where `--files-from -` reads; standard input by default. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** `--shard`: keep only this shard's inputs. */
  readonly shard?: Shard;
}

export interface ExpandedInputs {
  /**
   * Files, URLs and `-`, in order: arguments first, then `--files-from` lines; not yet checked. Held packed
   * outside the JavaScript heap (a folder may hold 100,000 files), read as an array.
   */
  readonly inputs: readonly string[];
  /** Arguments and lists that give nothing to upload; the same for every shard. */
  readonly problems: InputProblem[];
}

/** Decides which walked or globbed files to keep, given the path relative to the walked directory or cwd. */
type PathFilter = (path: string) => boolean;

interface Expansion {
  readonly cwd: string;
  readonly keep: PathFilter;
  readonly filtering: boolean;
  readonly inputs: PackedStrings;
  readonly problems: InputProblem[];
}

const GLOB_MAGIC = /[*?[{]/;
const STDIN_TWICE =
  'standard input can be read only once, but it is given both as an input (-) and as a list (--files-from -)';

/**
 * Turns command-line arguments and `--files-from` lists into the ordered inputs of a batch: directories are
 * walked, glob patterns expanded (both filtered by `--include`/`--exclude` and sorted byte-wise, so the same
 * tree gives the same list on every machine), URLs, `-` and other paths pass through for `checkInputs`.
 * Arguments that yield nothing become problems rather than errors, so all of them are reported together.
 *
 * @throws {UsageError} when `--files-from -` is given but standard input is a terminal.
 */
export async function expandInputs(args: readonly string[], options: ExpandOptions): Promise<ExpandedInputs> {
  const filesFrom = options.filesFrom ?? [];
  // process.stdin is touched only when asked for: creating it can hold a terminal open.
  const stdin = () => options.stdin ?? process.stdin;
  if (filesFrom.includes('-') && stdin().isTTY) {
    throw new UsageError('--files-from - reads the list of inputs from standard input, but standard input is a terminal.', [
      "Pipe or redirect the list in, for example: find captures -name '*.bin' | linkface upload --files-from -",
    ]);
  }
  const expansion: Expansion = {
    cwd: options.cwd,
    keep: await createPathFilter(options.include ?? [], options.exclude ?? []),
    filtering: Boolean(options.include?.length || options.exclude?.length),
    inputs: new PackedStrings(),
    problems: [],
  };
  for (const arg of args) await expandInput(expansion, arg, { globs: true });
  for (const line of await readLists(expansion, filesFrom, stdin, args.includes('-'))) {
    await expandInput(expansion, line, { globs: false });
  }
  let inputs = expansion.inputs;
  if (filesFrom.includes('-') && inputs.asArray().includes('-')) {
    // Neither use of standard input wins: guessing could upload a list of names as if it were liveness
    // data, even with --skip-invalid.
    inputs = only(inputs, (input) => input !== '-');
    expansion.problems.push({ input: '-', reason: STDIN_TWICE });
  }
  // Problems are kept whatever the shard: every job of a sharded batch then fails on a bad argument,
  // instead of only the one job that a hash happens to pick.
  const { shard } = options;
  if (shard) inputs = only(inputs, (input) => inShard(input, shard));
  return { inputs: inputs.asArray(), problems: expansion.problems };
}

function only(strings: PackedStrings, keep: (text: string) => boolean): PackedStrings {
  const kept = new PackedStrings();
  for (const text of strings) if (keep(text)) kept.push(text);
  return kept;
}

async function expandInput(expansion: Expansion, input: string, { globs }: { globs: boolean }): Promise<void> {
  if (input === '-' || isUrlInput(input)) {
    expansion.inputs.push(input);
    return;
  }
  const info = await stat(resolve(expansion.cwd, input)).catch(() => undefined);
  // An existing path is always literal, even when its name has `*` or `[` in it.
  if (info?.isDirectory()) await expandDirectory(expansion, input);
  else if (!info && globs && GLOB_MAGIC.test(portablePattern(input))) await expandGlob(expansion, input);
  // Files and paths that do not exist pass through as given: checkInputs explains what is wrong with them.
  else expansion.inputs.push(input);
}

async function expandDirectory(expansion: Expansion, directory: string): Promise<void> {
  const walk = await walkDirectory(resolve(expansion.cwd, directory));
  for (const { path, reason } of walk.unreadable) {
    expansion.problems.push({ input: path === '' ? directory : join(directory, path), reason });
  }
  const kept = walk.files.filter((file) => expansion.keep(file) && !isDesktopClutter(basename(file)));
  // The folder is joined once, then the walk's paths are put after it: a join for each file normalizes the
  // folder again, some 10 µs a file when a batch starts (1,000 files: 8–11 ms).
  const { folder, separator } = folderSpelling(directory);
  for (const file of kept) expansion.inputs.push(folder + (separator === '/' ? file : file.replaceAll('/', separator)));
  // An unreadable directory is already explained by its own problem.
  if (kept.length === 0 && walk.unreadable.length === 0) {
    expansion.problems.push({ input: directory, reason: nothingLeft('the directory has no files to upload', walk.files.length, expansion) });
  }
}

async function expandGlob(expansion: Expansion, pattern: string): Promise<void> {
  const { cwd } = expansion;
  // Loaded only for a pattern: most runs name files or folders, and start faster without it.
  const { glob } = await import('tinyglobby');
  const found = await glob(portablePattern(pattern), {
    cwd,
    onlyFiles: true,
    dot: false,
    expandDirectories: false,
    caseSensitiveMatch: !caseInsensitiveNames(),
    // Results of an absolute pattern stay absolute rather than becoming `../../…` from cwd.
    absolute: isAbsolute(pattern),
  });
  const matched = await dropRepeatedVisits(found.sort(compareBytewise), cwd);
  const kept = matched.filter((path) => expansion.keep(isAbsolute(path) ? relative(cwd, path) : path));
  for (const path of kept) expansion.inputs.push(path);
  if (kept.length === 0) {
    expansion.problems.push({ input: pattern, reason: nothingLeft('no files match this pattern', matched.length, expansion) });
  }
}

/**
 * tinyglobby (fdir) goes once more round a symlink loop, and lists a directory reached through a link
 * twice; the walk enters every directory once. To match it, a file whose real directory was already listed
 * is dropped, preferring a spelling with no symbolic link in it, then the byte-wise first.
 */
async function dropRepeatedVisits(sortedPaths: readonly string[], cwd: string): Promise<string[]> {
  const realCwd = await realpath(cwd).catch(() => cwd);
  const realDirectories = new Map<string, string>();
  const files: { path: string; realPath: string; direct: boolean }[] = [];
  for (const path of sortedPaths) {
    const directory = dirname(path);
    let real = realDirectories.get(directory);
    if (real === undefined) {
      real = await realpath(resolve(cwd, directory)).catch(() => resolve(cwd, directory));
      realDirectories.set(directory, real);
    }
    files.push({ path, realPath: join(real, basename(path)), direct: real === resolve(realCwd, directory) });
  }
  const listedDirectly = new Set(files.filter((file) => file.direct).map((file) => file.realPath));
  const listed = new Set<string>();
  return files
    .filter((file) => {
      if (listed.has(file.realPath) || (!file.direct && listedDirectly.has(file.realPath))) return false;
      listed.add(file.realPath);
      return true;
    })
    .map((file) => file.path);
}

/** Why a walk or pattern gave nothing, naming the filters when they removed everything it found. */
function nothingLeft(reason: string, foundBeforeFilters: number, expansion: Expansion): string {
  if (!expansion.filtering || foundBeforeFilters === 0) return reason;
  const files = foundBeforeFilters === 1 ? 'the 1 file' : `all ${foundBeforeFilters} files`;
  return `${reason}: --include/--exclude filtered out ${files} found`;
}

/**
 * `--include` and `--exclude` as one predicate. A pattern without `/` matches the base name at any depth
 * (`*.tmp` anywhere), others the whole relative path. picomatch's own `basename` option cannot do this: it
 * applies to every pattern, so `raw/**` would never match. Hidden names are matched like any other: the
 * walk and the glob already decided which of them to list.
 */
export async function createPathFilter(include: readonly string[], exclude: readonly string[]): Promise<PathFilter> {
  if (include.length === 0 && exclude.length === 0) return () => true;
  // picomatch is CommonJS (`export =`): its function is the default export of the ES module view.
  const picomatch = ((await import('picomatch')) as unknown as { default: typeof import('picomatch') }).default;
  const compile = (patterns: readonly string[]): PathFilter => {
    const matchers = patterns.map((pattern): PathFilter => {
      const portable = portablePattern(pattern);
      const matches = picomatch(portable, { dot: true, nocase: caseInsensitiveNames() });
      return portable.includes('/') ? matches : (path) => matches(basename(path));
    });
    // Paths are matched with `/` on every system (a walk on Windows gives `a\b.bin`).
    return (path) => matchers.some((matches) => matches(portablePattern(path)));
  };
  const included = include.length > 0 ? compile(include) : () => true;
  const excluded = exclude.length > 0 ? compile(exclude) : () => false;
  return (path) => included(path) && !excluded(path);
}

/** The lines of every `--files-from` list, in order; a list that cannot be read is a problem. */
async function readLists(
  expansion: Expansion,
  lists: readonly string[],
  stdin: () => NodeJS.ReadableStream,
  stdinIsAnInput: boolean,
): Promise<string[]> {
  const lines: string[] = [];
  let stdinRead = false;
  for (const list of lists) {
    // Standard input already spoken for is not read again (it might never end). Taken by a `-` input, it is
    // reported by expandInputs, which also drops that input.
    if (list === '-' && stdinIsAnInput) continue;
    if (list === '-' && stdinRead) {
      expansion.problems.push({ input: '-', reason: '--files-from - is given more than once; standard input can be read only once' });
      continue;
    }
    try {
      const text = decodeText(list === '-' ? await readAll(stdin()) : await readFile(resolve(expansion.cwd, list)));
      stdinRead ||= list === '-';
      lines.push(...parseList(text));
    } catch (error) {
      expansion.problems.push({ input: list, reason: `cannot read this --files-from list: ${describeFsError(error)}` });
    }
  }
  return lines;
}

/**
 * One input a line, taken literally (file names can start or end with spaces); only the line ending goes,
 * `\r\n` included. Blank lines and `#` comments are skipped, so a file whose name starts with `#` is listed
 * as `./#name`. A byte-order mark, as some Windows editors write, is not part of the first name.
 */
function parseList(text: string): string[] {
  return text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}
