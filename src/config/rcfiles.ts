import { readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { isSea } from 'node:sea';
import type { Loader, LoaderSync, PublicExplorer } from 'cosmiconfig';
import { labelOf } from './describe.js';
import { SettingsError, describeIoError } from './errors.js';
import { shellQuote } from './paths.js';
import type { Source } from './types.js';
import { kindOf } from './values.js';
import { caseInsensitiveNames } from '../inputs/portable.js';

/** An rc file's contents as loaded: validated later, by `parseRcFile`. */
export interface RcFile {
  path: string;
  config: Record<string, unknown>;
}

const RC_NAMES = ['.linkfacerc', ...['json', 'yaml', 'yml', 'js', 'cjs', 'mjs'].map((ext) => `.linkfacerc.${ext}`)];
const PROJECT_NAMES = ['package.json', ...RC_NAMES, 'linkface.config.js', 'linkface.config.cjs', 'linkface.config.mjs'];
const XDG_NAMES = ['config', 'config.json', 'config.yaml', 'config.yml', 'config.js', 'config.cjs', 'config.mjs'];

/**
 * The nearest project rc file and the user's rc file, highest precedence first.
 *
 * The walk is ours rather than cosmiconfig's `searchStrategy: 'global'`, which takes the home directory and
 * `$XDG_CONFIG_HOME` from the process (tests need a temporary home), treats the XDG file as a project file,
 * and never looks in the home directory when cwd is outside it. cosmiconfig still loads every file.
 */
export async function findRcFiles(
  cwd: string,
  homeDir: string,
  env: Record<string, string | undefined>,
): Promise<RcFile[]> {
  const explorer = lazyExplorer();
  const project = await findFirst(explorer, projectDirs(resolve(cwd), resolve(homeDir)), PROJECT_NAMES);
  const user =
    (await findFirst(explorer, userConfigDirs(homeDir, env), XDG_NAMES)) ?? (await findFirst(explorer, [homeDir], RC_NAMES));
  return [project, user].filter((file): file is RcFile => file !== undefined);
}

/** Reads exactly the file named by `--config` or `LINKFACE_CONFIG`; `via` is where the path came from. */
export async function loadRcFile(path: string, via: Source): Promise<RcFile> {
  const label = `${path} (from ${labelOf(via)})`;
  const config = await load(lazyExplorer(), path, label);
  if (config === null) {
    const problem = basename(path) === 'package.json' ? 'has no "linkface" key' : 'holds no settings';
    throw new SettingsError(`${label} ${problem}`, { file: path });
  }
  return { path, config: config ?? {} };
}

/** The ssh-style warning for an rc file holding a secret that other users may read; none on Windows. */
export async function permissionWarning(path: string): Promise<string | undefined> {
  if (process.platform === 'win32') return undefined;
  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  const octal = mode.toString(8).padStart(4, '0');
  return (
    `Permissions ${octal} for '${path}' are too open: it holds apiSecret, which other users can read. ` +
    `Run: chmod 600 ${shellQuote(path)}`
  );
}

/**
 * Directories searched for a project rc file, nearest first. The home directory is not one of them: an rc file
 * there is the user's, read once at that level. Outside home, the walk goes up to the root.
 */
function projectDirs(cwd: string, homeDir: string): string[] {
  // Compared as real paths (macOS's /var is /private/var; Windows has 8.3 short names), without regard to
  // case where the file system ignores it: the home folder must be recognised however it is spelt.
  const home = comparable(homeDir);
  const dirs: string[] = [];
  for (let dir = realPath(cwd); comparable(dir) !== home; dir = dirname(dir)) {
    dirs.push(dir);
    if (dirname(dir) === dir) break;
  }
  return dirs;
}

function realPath(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

function comparable(path: string): string {
  return caseInsensitiveNames() ? realPath(path).toLowerCase() : realPath(path);
}

/** Where the user's own config folder may be: `$XDG_CONFIG_HOME/linkface`, and on Windows `%APPDATA%\linkface`. */
function userConfigDirs(homeDir: string, env: Record<string, string | undefined>): string[] {
  const dirs = [join(xdgConfigHome(homeDir, env), 'linkface')];
  if (process.platform === 'win32' && env.APPDATA && isAbsolute(env.APPDATA)) dirs.push(join(env.APPDATA, 'linkface'));
  return dirs;
}

function xdgConfigHome(homeDir: string, env: Record<string, string | undefined>): string {
  const configured = env.XDG_CONFIG_HOME;
  // The XDG spec says to ignore a relative value.
  return configured && isAbsolute(configured) ? configured : join(homeDir, '.config');
}

/**
 * The first file in `dirs` × `names` that holds settings. As in cosmiconfig's own search, empty files and a
 * package.json without a `linkface` key are passed over.
 */
async function findFirst(explorer: LazyExplorer, dirs: string[], names: string[]): Promise<RcFile | undefined> {
  for (const dir of dirs) {
    for (const name of names) {
      const path = join(dir, name);
      if (!isFile(path) || isPackageJsonWithoutSettings(path)) continue;
      const config = await load(explorer, path, path);
      if (config !== null && config !== undefined) return { path, config };
    }
  }
  return undefined;
}

/**
 * Synchronous on purpose: a search is a few dozen stats of names that mostly do not exist, well under a
 * millisecond in all, while each asynchronous one would wait its turn on the thread pool (start-up matters).
 */
function isFile(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/**
 * Most projects have a package.json, and few of them a `linkface` key: told apart here without loading
 * cosmiconfig, which costs some 10 ms of a short command's start-up. A file that does not parse is left to
 * cosmiconfig, which reports it.
 */
function isPackageJsonWithoutSettings(path: string): boolean {
  if (basename(path) !== 'package.json') return false;
  try {
    const manifest: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof manifest === 'object' && manifest !== null && !Object.hasOwn(manifest, 'linkface');
  } catch {
    return false;
  }
}

/** The file's settings object; undefined when the file is empty, null when it holds nothing for us. */
async function load(
  explorer: LazyExplorer,
  path: string,
  label: string,
): Promise<Record<string, unknown> | null | undefined> {
  let result: Awaited<ReturnType<PublicExplorer['load']>>;
  try {
    result = await (await explorer()).load(path);
  } catch (error) {
    throw new SettingsError(`${label} ${loadProblem(error)}`, { file: path });
  }
  if (result === null || result.isEmpty) return result === null ? null : undefined;
  const config: unknown = result.config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new SettingsError(`${label} must hold an object of settings, got ${kindOf(config)}`, { file: path });
  }
  return config as Record<string, unknown>;
}

function loadProblem(error: unknown): string {
  if (error instanceof ParseProblem) return error.message;
  return describeIoError(error) ?? `could not be loaded: ${error instanceof Error ? error.message : String(error)}`;
}

/** A JSON or YAML syntax error, described without quoting the file (which may hold the secret). */
class ParseProblem extends Error {}

/** cosmiconfig, loaded only when there is a file to read: most runs have none, and start faster for it. */
type LazyExplorer = () => Promise<PublicExplorer>;

function lazyExplorer(): LazyExplorer {
  let explorer: Promise<PublicExplorer> | undefined;
  return () => {
    explorer ??= createExplorer();
    return explorer;
  };
}

async function createExplorer(): Promise<PublicExplorer> {
  // cosmiconfig is CommonJS: its exports are the default export of the ES module view (and only that, once
  // bundled), so take them from there.
  const imported = await import('cosmiconfig');
  const { cosmiconfig, defaultLoaders } = (imported as unknown as { default?: typeof imported }).default ?? imported;
  const loadYaml = yamlLoader(defaultLoaders['.yaml']);
  const loadJs = jsLoader(defaultLoaders['.js']);
  return cosmiconfig('linkface', {
    // Every call may come from a different directory or home (tests, library use); always read afresh.
    cache: false,
    loaders: {
      '.json': loadJson,
      '.yaml': loadYaml,
      '.yml': loadYaml,
      noExt: loadYaml,
      default: loadYaml,
      '.js': loadJs,
      '.mjs': loadJs,
      '.cjs': loadJs,
      // cosmiconfig's own would need the TypeScript compiler, which linkface does not ship.
      '.ts': refuseTypeScript,
      '.mts': refuseTypeScript,
      '.cts': refuseTypeScript,
    },
  });
}

/**
 * A JavaScript rc file, loaded as cosmiconfig loads it (`import()`), except in the single executable: there
 * `import()` reaches built-in modules only, so the file is `require`d (the executable's Node.js requires ES
 * modules too) and its default export taken, as `import()` would.
 */
function jsLoader(viaImport: Loader): Loader {
  return (path, content) => {
    if (!isSea()) return viaImport(path, content);
    const exported = createRequire(path)(path) as { __esModule?: boolean; default?: unknown } | null;
    const isModule = exported !== null && typeof exported === 'object' && (Object.prototype.toString.call(exported) === '[object Module]' || exported.__esModule === true);
    return isModule ? exported.default : exported;
  };
}

const loadJson: LoaderSync = (_path, content) => {
  try {
    return JSON.parse(content);
  } catch (error) {
    throw new ParseProblem(`is not valid JSON: ${jsonProblem((error as Error).message, content)}`);
  }
};

/**
 * JSON.parse's reason, the same on every Node.js, with linkface's line and column in place of V8's position.
 * V8 quotes part of the input in some messages (`Unexpected token 'c', "{…" is not valid JSON`); it may be the
 * secret. Its own wording has no double quotes, so everything from the first one on is dropped. Node 22 and newer
 * follow `at position 22` with their own `(line 3 column 1)`, dropped too.
 */
export function jsonProblem(message: string, content: string): string {
  const reason = (message.split('"')[0] ?? '').replace(/\s*\(line \d+ column \d+\)/, '').replace(/[,.\s]+$/, '');
  const place = (_: string, index: string) => `at ${lineAndColumn(content, Number(index))}`;
  return reason.replace(/at position (\d+)/, place);
}

const refuseTypeScript: LoaderSync = () => {
  throw new ParseProblem('is a TypeScript file, which linkface cannot load: use .json, .yaml, .js, .cjs or .mjs');
};

const yamlLoader = (parseYaml: LoaderSync): LoaderSync => (path, content) => {
  try {
    return parseYaml(path, content);
  } catch (error) {
    // js-yaml's message carries a snippet of the file; its reason and mark do not.
    const { reason, mark } = error as { reason?: string; mark?: { line: number; column: number } };
    const place = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
    throw new ParseProblem(`is not valid YAML: ${reason ?? 'syntax error'}${place}`);
  }
};

function lineAndColumn(text: string, index: number): string {
  const before = text.slice(0, index).split('\n');
  return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
}
