import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ResolvedSettings,
  type SettingsFlags,
  SettingsError,
  type Source,
  describeSource,
  parseSize,
  resolveSettings,
} from '../../src/config/index.js';
import { jsonProblem } from '../../src/config/rcfiles.js';

/** Every secret in these tests; no message or warning may ever contain it, or even the word "canary". */
const CANARY = 'canary-secret-7f3e';
const leaksNothing = (text: string) => expect(text.toLowerCase()).not.toContain('canary');
const MiB = 1024 * 1024;
const posix = process.platform !== 'win32';

let root: string;
let home: string;
let project: string;

beforeEach(async () => {
  // Its real path: project rc files are found and named by the real path of cwd, and the temporary folder is
  // reached through a symbolic link on macOS (/var is /private/var) and a short name on Windows (RUNNER~1).
  root = await realpath(await mkdtemp(join(tmpdir(), 'linkface-settings-')));
  home = join(root, 'home');
  project = join(home, 'proj');
  await mkdir(project, { recursive: true });
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes a file under the temporary root; objects are written as JSON. Returns its absolute path. */
async function put(path: string, content: string | object, mode = 0o600): Promise<string> {
  const absolute = resolve(root, path);
  await mkdir(dirname(absolute), { recursive: true });
  await writeFile(absolute, typeof content === 'string' ? content : JSON.stringify(content));
  await chmod(absolute, mode);
  return absolute;
}

interface Run {
  cwd?: string;
  flags?: SettingsFlags;
  env?: Record<string, string | undefined>;
}

/** Resolves with a clean environment and the temporary home, checking that nothing shown holds the secret. */
async function settle({ cwd = project, flags = {}, env = {} }: Run = {}): Promise<ResolvedSettings> {
  try {
    const resolved = await resolveSettings({ flags, env, cwd, homeDir: home });
    for (const warning of resolved.warnings) leaksNothing(warning);
    return resolved;
  } catch (error) {
    if (error instanceof SettingsError) leaksNothing(`${error.message}\n${error.details.join('\n')}`);
    throw error;
  }
}

async function failure(run: Run = {}): Promise<SettingsError> {
  const error = await settle(run).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(SettingsError);
  return error as SettingsError;
}

const file = (name: string, key: string): Source => ({ kind: 'file', name, key });

describe('precedence', () => {
  it('takes each setting from the highest level that sets it: flag > env > project profile > project > user profile > user > default', async () => {
    const projectRc = await put('home/proj/.linkfacerc', {
      apiId: 'project-id',
      concurrency: 13,
      retries: 13,
      timeout: 13,
      profiles: { ci: { apiId: 'project-ci-id', concurrency: 12, retries: 12 } },
    });
    const userRc = await put('home/.linkfacerc', {
      apiId: 'user-id',
      apiSecret: CANARY,
      concurrency: 15,
      retries: 15,
      timeout: 15,
      maxSize: 15,
      profiles: { ci: { apiId: 'user-ci-id', concurrency: 14, retries: 14, timeout: 14, maxSize: 14 } },
    });
    const { settings, warnings } = await settle({
      flags: { apiId: 'flag-id', profile: 'ci' },
      env: { LINKFACE_API_ID: 'env-id', LINKFACE_CONCURRENCY: '11' },
    });

    expect(settings.apiId).toEqual({ value: 'flag-id', source: { kind: 'flag', name: '--api-id' } });
    expect(settings.concurrency).toEqual({ value: 11, source: { kind: 'env', name: 'LINKFACE_CONCURRENCY' } });
    expect(settings.retries).toEqual({ value: 12, source: file(projectRc, 'profiles.ci.retries') });
    expect(settings.timeout).toEqual({ value: 13, source: file(projectRc, 'timeout') });
    expect(settings.maxSize).toEqual({ value: 14, source: file(userRc, 'profiles.ci.maxSize') });
    expect(settings.apiSecret).toEqual({ value: CANARY, source: file(userRc, 'apiSecret') });
    expect(settings.endpoint).toEqual({ value: 'https://cloudapi.linkface.cn', source: { kind: 'default', name: 'default' } });
    expect(settings.profile).toEqual({ value: 'ci', source: { kind: 'flag', name: '--profile' } });
    expect(settings.files).toEqual([projectRc, userRc]);
    expect(warnings).toEqual([]);
  });

  it('uses the defaults when nothing is set', async () => {
    const { settings } = await settle();
    const byDefault = { kind: 'default', name: 'default' };
    expect(settings).toEqual({
      endpoint: { value: 'https://cloudapi.linkface.cn', source: byDefault },
      concurrency: { value: 4, source: byDefault },
      retries: { value: 3, source: byDefault },
      timeout: { value: 30, source: byDefault },
      maxSize: { value: 5 * MiB, source: byDefault },
      files: [],
    });
    expect(settings.apiId).toBeUndefined();
    expect(settings.apiSecret).toBeUndefined();
  });

  it.each<[string, Run, number]>([
    [
      'flag values',
      { flags: { concurrency: '8', retries: '0', timeout: '2.5', maxSize: '512KB', endpoint: 'https://x.test/lf//' } },
      512 * 1024,
    ],
    [
      'variables',
      {
        env: {
          LINKFACE_CONCURRENCY: '8',
          LINKFACE_RETRIES: '0',
          LINKFACE_TIMEOUT: '2.5',
          LINKFACE_ENDPOINT: 'https://x.test/lf//',
        },
      },
      5 * MiB,
    ],
  ])('parses %s', async (_, run, maxSize) => {
    const { settings } = await settle(run);
    expect(settings.concurrency.value).toBe(8);
    expect(settings.retries.value).toBe(0);
    expect(settings.timeout.value).toBe(2.5);
    expect(settings.endpoint.value).toBe('https://x.test/lf');
    expect(settings.maxSize.value).toBe(maxSize);
  });

  it('warns that --api-secret is visible in the process list', async () => {
    const { settings, warnings } = await settle({ flags: { apiSecret: CANARY } });
    expect(settings.apiSecret?.value).toBe(CANARY);
    expect(warnings).toEqual([expect.stringContaining('--api-secret is visible to other users')]);
  });
});

describe('rc file discovery', () => {
  it('finds the project rc file from a nested subfolder', async () => {
    const rc = await put('home/proj/.linkfacerc', { apiId: 'project-id' });
    const cwd = join(project, 'a', 'b', 'c');
    await mkdir(cwd, { recursive: true });
    const { settings } = await settle({ cwd });
    expect(settings.apiId).toEqual({ value: 'project-id', source: file(rc, 'apiId') });
    expect(settings.files).toEqual([rc]);
  });

  it('reads only the nearest project rc file', async () => {
    await put('home/proj/.linkfacerc', { apiId: 'outer', timeout: 9 });
    const inner = await put('home/proj/sub/.linkfacerc.json', { apiId: 'inner' });
    const { settings } = await settle({ cwd: join(project, 'sub') });
    expect(settings.apiId?.value).toBe('inner');
    expect(settings.timeout.value).toBe(30);
    expect(settings.files).toEqual([inner]);
  });

  it('does not search above the home directory when cwd is under it', async () => {
    await put('.linkfacerc', { apiId: 'above-home' });
    const { settings } = await settle();
    expect(settings.apiId).toBeUndefined();
    expect(settings.files).toEqual([]);
  });

  it('reads ~/.linkfacerc once, at the user level, when cwd is under home', async () => {
    const rc = await put('home/.linkfacerc', 'apiId: user-id\n');
    const { settings } = await settle();
    expect(settings.files).toEqual([rc]);
    expect(settings.apiId?.source).toEqual(file(rc, 'apiId'));
  });

  it('still finds ~/.linkfacerc when cwd is outside home, and searches up to the root there', async () => {
    const userRc = await put('home/.linkfacerc', { apiId: 'user-id', timeout: 7 });
    const projectRc = await put('outside/.linkfacerc', { apiId: 'outside-id' });
    const cwd = join(root, 'outside', 'deep', 'er');
    await mkdir(cwd, { recursive: true });
    const { settings } = await settle({ cwd });
    expect(settings.files).toEqual([projectRc, userRc]);
    expect(settings.apiId?.value).toBe('outside-id');
    expect(settings.timeout.value).toBe(7);
  });

  it('reads the XDG user config before ~/.linkfacerc, at the user level', async () => {
    const projectRc = await put('home/proj/.linkfacerc', { apiId: 'project-id' });
    const xdg = await put('home/.config/linkface/config.yaml', 'apiId: xdg-id\ntimeout: 12\n');
    await put('home/.linkfacerc', { timeout: 99 });
    const { settings } = await settle();
    expect(settings.files).toEqual([projectRc, xdg]);
    expect(settings.apiId?.value).toBe('project-id');
    expect(settings.timeout).toEqual({ value: 12, source: file(xdg, 'timeout') });
  });

  it('honours XDG_CONFIG_HOME from the given environment', async () => {
    const xdg = await put('xdg/linkface/config', 'apiId: custom-xdg\n');
    const { settings } = await settle({ env: { XDG_CONFIG_HOME: join(root, 'xdg') } });
    expect(settings.files).toEqual([xdg]);
    expect(settings.apiId?.value).toBe('custom-xdg');
  });

  it.each([
    ['.linkfacerc', '{"apiId": "from-file"}'],
    ['.linkfacerc', 'apiId: from-file\n'],
    ['.linkfacerc.json', '{"apiId": "from-file"}'],
    ['.linkfacerc.yaml', 'apiId: from-file\n'],
    ['.linkfacerc.yml', 'apiId: from-file\n'],
    ['.linkfacerc.js', "module.exports = { apiId: 'from-file' };\n"],
    ['.linkfacerc.cjs', "module.exports = { apiId: 'from-file' };\n"],
    ['.linkfacerc.mjs', "export default { apiId: 'from-file' };\n"],
    ['linkface.config.js', "module.exports = { apiId: 'from-file' };\n"],
    ['linkface.config.cjs', "module.exports = { apiId: 'from-file' };\n"],
    ['linkface.config.mjs', "export default { apiId: 'from-file' };\n"],
    ['package.json', '{"name": "p", "linkface": {"apiId": "from-file"}}'],
  ])('reads %s (%s)', async (name, content) => {
    const rc = await put(join('home/proj', name), content);
    const { settings } = await settle();
    expect(settings.apiId).toEqual({ value: 'from-file', source: file(rc, 'apiId') });
  });

  it('passes over a package.json without a linkface key', async () => {
    await put('home/proj/package.json', { name: 'p' });
    const rc = await put('home/proj/.linkfacerc.yml', 'apiId: from-rc\n');
    const { settings } = await settle();
    expect(settings.files).toEqual([rc]);
  });

  it('still reports a package.json that is not valid JSON', async () => {
    const manifest = await put('home/proj/package.json', '{"name": "p",\n');
    const error = await failure();
    expect(error.message).toMatch(new RegExp(`^${manifest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid JSON`));
    expect(error.file).toBe(manifest);
  });
});

describe('--config and LINKFACE_CONFIG', () => {
  it('reads exactly the named file instead of the project and user files', async () => {
    await put('home/proj/.linkfacerc', { apiId: 'project-id' });
    await put('home/.linkfacerc', { apiId: 'user-id', timeout: 5 });
    const named = await put('home/proj/conf/lf.yaml', 'apiId: named-id\n');
    const { settings } = await settle({ flags: { config: 'conf/lf.yaml' } });
    expect(settings.files).toEqual([named]);
    expect(settings.apiId?.value).toBe('named-id');
    expect(settings.timeout.source.kind).toBe('default');
  });

  it('takes --config over LINKFACE_CONFIG', async () => {
    const fromFlag = await put('a.json', { apiId: 'a' });
    await put('b.json', { apiId: 'b' });
    const { settings } = await settle({ flags: { config: fromFlag }, env: { LINKFACE_CONFIG: join(root, 'b.json') } });
    expect(settings.apiId?.value).toBe('a');
  });

  it('reads a file with any extension as YAML or JSON', async () => {
    const named = await put('ci.conf', '{"apiId": "conf-id"}');
    const { settings } = await settle({ env: { LINKFACE_CONFIG: named } });
    expect(settings.apiId).toEqual({ value: 'conf-id', source: file(named, 'apiId') });
  });

  it.each([
    ['--config', { flags: { config: 'missing.yaml' } }],
    ['LINKFACE_CONFIG', { env: { LINKFACE_CONFIG: 'missing.yaml' } }],
  ])('names the path and %s when the file is missing', async (via, run) => {
    const error = await failure(run);
    expect(error.message).toBe(`${join(project, 'missing.yaml')} (from ${via}) does not exist`);
  });

  it('names the path and its origin when the file is malformed', async () => {
    const named = await put('bad.json', `{"apiSecret": "${CANARY}",}`);
    const error = await failure({ env: { LINKFACE_CONFIG: named } });
    expect(error.message).toMatch(`${named} (from LINKFACE_CONFIG) is not valid JSON`);
  });

  it('validates the shipped .linkfacerc.example', async () => {
    await put('home/.config/linkface/secret', 'example-secret\n');
    const example = resolve('.linkfacerc.example');
    const top = await settle({ flags: { config: example } });
    expect(top.settings.apiSecret).toEqual({ value: 'example-secret', source: file(example, 'apiSecretFile') });
    expect(top.settings.maxSize.value).toBe(5 * MiB);
    const sandbox = await settle({ flags: { config: example, profile: 'sandbox' } });
    expect(sandbox.settings.endpoint.value).toBe('http://127.0.0.1:8470');
    expect(sandbox.settings.apiSecret?.source).toEqual(file(example, 'profiles.sandbox.apiSecret'));
  });
});

describe('profiles', () => {
  it('takes the profile from LINKFACE_PROFILE, falling back to the top level for keys it does not set', async () => {
    const rc = await put('home/proj/.linkfacerc', { apiId: 'top', timeout: 8, profiles: { prod: { apiId: 'prod' } } });
    const { settings } = await settle({ env: { LINKFACE_PROFILE: 'prod' } });
    expect(settings.profile).toEqual({ value: 'prod', source: { kind: 'env', name: 'LINKFACE_PROFILE' } });
    expect(settings.apiId?.source).toEqual(file(rc, 'profiles.prod.apiId'));
    expect(settings.timeout.source).toEqual(file(rc, 'timeout'));
  });

  it('accepts a profile defined in only one of the files read', async () => {
    const projectRc = await put('home/proj/.linkfacerc', { timeout: 9 });
    const userRc = await put('home/.linkfacerc', { timeout: 99, profiles: { ci: { apiId: 'user-ci', timeout: 999 } } });
    const { settings } = await settle({ flags: { profile: 'ci' } });
    expect(settings.apiId).toEqual({ value: 'user-ci', source: file(userRc, 'profiles.ci.apiId') });
    expect(settings.timeout).toEqual({ value: 9, source: file(projectRc, 'timeout') });
  });

  it('rejects an unknown profile, listing those that exist', async () => {
    const projectRc = await put('home/proj/.linkfacerc', { profiles: { ci: {}, prod: {} } });
    const userRc = await put('home/.linkfacerc', { profiles: { dev: {} } });
    const error = await failure({ flags: { profile: 'cj' } });
    expect(error.message).toBe(
      `profile 'cj' (from --profile) is not defined in ${projectRc} or ${userRc}; defined profiles: ci, prod, dev; did you mean 'ci'?`,
    );
  });

  it('rejects a profile when no rc file was found', async () => {
    const error = await failure({ env: { LINKFACE_PROFILE: 'ci' } });
    expect(error.message).toBe("profile 'ci' (from LINKFACE_PROFILE) is not defined: no rc file was found");
  });
});

describe('secrets', () => {
  it('reads LINKFACE_API_SECRET_FILE, relative to cwd, without its trailing newline', async () => {
    const secretFile = await put('home/proj/secret.txt', `${CANARY}\n`);
    const { settings } = await settle({ env: { LINKFACE_API_SECRET_FILE: 'secret.txt' } });
    expect(settings.apiSecret).toEqual({
      value: CANARY,
      source: { kind: 'env', name: 'LINKFACE_API_SECRET_FILE', key: secretFile },
    });
  });

  it("reads an rc apiSecretFile relative to the rc file's directory, not cwd", async () => {
    const rc = await put('home/proj/.linkfacerc', { profiles: { ci: { apiSecretFile: 'keys/lf' } } });
    await put('home/proj/keys/lf', `${CANARY}  \n`);
    const cwd = join(project, 'keys');
    const { settings } = await settle({ cwd, flags: { profile: 'ci' } });
    expect(settings.apiSecret).toEqual({ value: CANARY, source: file(rc, 'profiles.ci.apiSecretFile') });
  });

  it('reads only the winning secret file', async () => {
    const { settings } = await settle({ flags: { apiSecret: CANARY }, env: { LINKFACE_API_SECRET_FILE: '/nonexistent/lf' } });
    expect(settings.apiSecret?.source).toEqual({ kind: 'flag', name: '--api-secret' });
  });

  it('lets a profile apiSecretFile override a top-level apiSecret', async () => {
    await put('home/proj/.linkfacerc', { apiSecret: 'top-level', profiles: { ci: { apiSecretFile: 's' } } });
    await put('home/proj/s', CANARY);
    const { settings } = await settle({ flags: { profile: 'ci' } });
    expect(settings.apiSecret?.value).toBe(CANARY);
  });

  it('rejects a missing file named by LINKFACE_API_SECRET_FILE', async () => {
    const error = await failure({ env: { LINKFACE_API_SECRET_FILE: '/nonexistent/lf' } });
    // resolve: on Windows /nonexistent/lf is on the drive of cwd (C:\nonexistent\lf).
    expect(error.message).toBe(`LINKFACE_API_SECRET_FILE points to ${resolve(project, '/nonexistent/lf')}, which does not exist`);
  });

  it('rejects an empty secret file', async () => {
    const empty = await put('home/proj/empty', ' \n');
    const error = await failure({ env: { LINKFACE_API_SECRET_FILE: empty } });
    expect(error.message).toBe(`LINKFACE_API_SECRET_FILE points to ${empty}, which is empty`);
  });

  it('rejects a missing apiSecretFile, naming the rc file, the key and the path', async () => {
    const rc = await put('home/proj/.linkfacerc', { apiSecretFile: 'nope' });
    const error = await failure();
    expect(error.message).toBe(`${rc}: apiSecretFile points to ${join(project, 'nope')}, which does not exist`);
    expect([error.file, error.key]).toEqual([rc, 'apiSecretFile']);
  });

  it('rejects both LINKFACE_API_SECRET and LINKFACE_API_SECRET_FILE', async () => {
    const error = await failure({ env: { LINKFACE_API_SECRET: CANARY, LINKFACE_API_SECRET_FILE: '/run/secrets/lf' } });
    expect(error.message).toBe('set only one of LINKFACE_API_SECRET and LINKFACE_API_SECRET_FILE');
  });

  it.each([
    ['the top level', { apiSecret: CANARY, apiSecretFile: 's' }, 'apiSecret and apiSecretFile'],
    ['a profile', { profiles: { ci: { apiSecret: CANARY, apiSecretFile: 's' } } }, 'profiles.ci.apiSecret and profiles.ci.apiSecretFile'],
  ])('rejects apiSecret and apiSecretFile together at %s of one file', async (_, content, keys) => {
    const rc = await put('home/proj/.linkfacerc', content);
    const error = await failure();
    expect(error.message).toBe(`${rc}: set only one of ${keys}`);
  });
});

describe('rc file validation', () => {
  it.each([
    ['api_secret', { api_secret: CANARY }, "unknown key 'api_secret'; did you mean 'apiSecret'?"],
    ['apiSecert', { apiSecert: CANARY }, "unknown key 'apiSecert'; did you mean 'apiSecret'?"],
    ['API-ID in a profile', { profiles: { ci: { 'API-ID': 'x' } } }, "unknown key 'profiles.ci.API-ID'; did you mean 'profiles.ci.apiId'?"],
    ['a key with no near match', { colour: 'red' }, "unknown key 'colour'"],
  ])('rejects %s', async (_, content, problem) => {
    const rc = await put('home/proj/.linkfacerc.json', content);
    const error = await failure();
    expect(error.message).toBe(`${rc}: ${problem}`);
    expect(error.file).toBe(rc);
    expect(error.hint).toMatch(/^Valid keys.*: apiId, apiSecret, apiSecretFile, endpoint/);
  });

  it.each([
    ['concurrency: lots\n', "concurrency must be an integer from 1 to 256, got 'lots'"],
    ['concurrency: true\n', 'concurrency must be an integer from 1 to 256, got true'],
    ['apiId: 12345\n', 'apiId must be a non-empty string, got a number (in YAML, put it in quotes)'],
    [`apiSecret: [${CANARY}]\n`, 'apiSecret must be a non-empty string, got a list'],
    ['retries: 2.5\n', 'retries must be an integer from 0 to 20, got 2.5'],
    ['timeout: 0\n', 'timeout must be a number of seconds > 0 and at most 3600, got 0'],
    ['endpoint: ftp://files.test\n', "endpoint must be an http:// or https:// URL without query or fragment, got 'ftp://files.test'"],
    ['maxSize: 5 parsecs\n', "maxSize must be a size such as 5MB, 512KB or a number of bytes, got '5 parsecs'"],
    ['profiles: [ci]\n', 'profiles must be an object of profile names to settings, got a list'],
    ['profiles:\n  ci: fast\n', 'profiles.ci must be an object of settings, got a string'],
    ['profiles:\n  ci:\n    timeout: -1\n', 'profiles.ci.timeout must be a number of seconds > 0 and at most 3600, got -1'],
    ['profiles:\n  unused:\n    profiles: {}\n', "unknown key 'profiles.unused.profiles'"],
  ])('rejects %j', async (content, problem) => {
    const rc = await put('home/proj/.linkfacerc.yaml', content);
    const error = await failure();
    expect(error.message).toBe(`${rc}: ${problem}`);
  });

  it.each([
    ['.linkfacerc.json', `{\n  "apiSecret": "${CANARY}",\n}\n`, 'is not valid JSON: Expected double-quoted property name in JSON at line 3, column 1'],
    ['.linkfacerc.json', `{"apiSecret": ${CANARY}}`, "is not valid JSON: Unexpected token 'c'"],
    ['.linkfacerc', `apiSecret: ${CANARY}\n  apiId: x\n`, 'is not valid YAML: bad indentation of a mapping entry at line 2, column 8'],
    ['.linkfacerc.yaml', '- a list\n', 'must hold an object of settings, got a list'],
    ['.linkfacerc.cjs', "throw new Error('no config for you');\n", 'could not be loaded: no config for you'],
  ])('rejects a malformed %s without quoting it', async (name, content, problem) => {
    const rc = await put(join('home/proj', name), content);
    const error = await failure();
    expect(error.message).toBe(`${rc} ${problem}`);
    expect(error.file).toBe(rc);
  });

  // Node 22 and newer add their own "(line 3 column 1)" to JSON.parse's message; Node 20 does not. Both shapes are
  // checked here, whichever Node runs the tests.
  const content = `{\n  "apiSecret": "${CANARY}",\n}\n`;
  it.each([
    ['Node 20', 'Expected double-quoted property name in JSON at line 3, column 1', 'Expected double-quoted property name in JSON at position 39'],
    ['Node 22+', 'Expected double-quoted property name in JSON at line 3, column 1', 'Expected double-quoted property name in JSON at position 39 (line 3 column 1)'],
    ['Node 20', 'Unterminated string in JSON at line 2, column 15', 'Unterminated string in JSON at position 16'],
    ['Node 22+', 'Unterminated string in JSON at line 2, column 15', 'Unterminated string in JSON at position 16 (line 2 column 15)'],
    ['any Node', "Unexpected token 'c'", `Unexpected token 'c', ..."iSecret": ${CANARY}}" is not valid JSON`],
    ['any Node', 'Unexpected end of JSON input', 'Unexpected end of JSON input'],
  ])('reads a JSON.parse message in the shape of %s as: %s', (_, problem, message) => {
    expect(jsonProblem(message, content)).toBe(problem);
    leaksNothing(jsonProblem(message, content));
  });
});

describe('flags and variables', () => {
  it.each([
    [{ flags: { timeout: 'abc' } }, "--timeout must be a number of seconds > 0 and at most 3600, got 'abc'"],
    [{ flags: { concurrency: '0' } }, "--concurrency must be an integer from 1 to 256, got '0'"],
    [{ flags: { retries: '21' } }, "--retries must be an integer from 0 to 20, got '21'"],
    [{ flags: { maxSize: '5XB' } }, "--max-size must be a size such as 5MB, 512KB or a number of bytes, got '5XB'"],
    [{ flags: { apiId: '' } }, '--api-id must be a non-empty string, got an empty string'],
    [{ flags: { apiSecret: '' } }, '--api-secret must be a non-empty string, got an empty string'],
    [{ env: { LINKFACE_ENDPOINT: 'cloudapi.linkface.cn' } }, "LINKFACE_ENDPOINT must be an http:// or https:// URL without query or fragment, got 'cloudapi.linkface.cn'"],
    [{ env: { LINKFACE_CONCURRENCY: '4x' } }, "LINKFACE_CONCURRENCY must be an integer from 1 to 256, got '4x'"],
    [{ env: { LINKFACE_TIMEOUT: '3601' } }, "LINKFACE_TIMEOUT must be a number of seconds > 0 and at most 3600, got '3601'"],
  ])('rejects %j', async (run, message) => {
    const error = await failure(run);
    expect(error.message).toBe(message);
  });

  it.each([
    ['surrounding whitespace', ' env-id \n', 'env-id', []],
    ['double quotes', '"env-id"', 'env-id', ['LINKFACE_API_ID is wrapped in quotes']],
    ["single quotes, after trimming", "  'env-id'  ", 'env-id', ['LINKFACE_API_ID is wrapped in quotes']],
    ['unmatched quotes', '"env-id\'', '"env-id\'', []],
  ])('cleans %s from a variable', async (_, raw, value, warnings) => {
    const result = await settle({ env: { LINKFACE_API_ID: raw } });
    expect(result.settings.apiId?.value).toBe(value);
    expect(result.warnings).toEqual(warnings.map((start) => expect.stringContaining(start)));
  });

  it('warns about a quoted secret without showing it', async () => {
    const { settings, warnings } = await settle({ env: { LINKFACE_API_SECRET: `'${CANARY}'` } });
    expect(settings.apiSecret?.value).toBe(CANARY);
    expect(warnings).toEqual([expect.stringContaining('LINKFACE_API_SECRET is wrapped in quotes')]);
  });

  it.each(['', '   ', '""'])('treats %j as unset', async (raw) => {
    await put('home/.linkfacerc', { timeout: 9 });
    const { settings } = await settle({ env: { LINKFACE_TIMEOUT: raw, LINKFACE_PROFILE: raw, LINKFACE_CONFIG: raw } });
    expect(settings.timeout.value).toBe(9);
  });

  it('warns about a mistyped LINKFACE_ variable', async () => {
    const { warnings } = await settle({ env: { LINKFACE_API_SECERT: CANARY, LINKFACE_UNRELATED_THING: 'x' } });
    expect(warnings).toEqual([
      'LINKFACE_API_SECERT is not a linkface variable and is ignored; did you mean LINKFACE_API_SECRET?',
    ]);
  });
});

describe.runIf(posix)('rc file permissions', () => {
  it.each([
    ['a secret readable by others', 0o644, { apiSecret: CANARY }, true],
    ['a profile secret readable by the group', 0o640, { profiles: { ci: { apiSecret: CANARY } } }, true],
    ['a secret readable only by its owner', 0o600, { apiSecret: CANARY }, false],
    ['a read-only secret', 0o400, { apiSecret: CANARY }, false],
    ['no secret', 0o644, { apiId: 'id', apiSecretFile: 'elsewhere' }, false],
  ])('%s', async (_, mode, content, warned) => {
    const rc = await put('home/.linkfacerc', content, mode);
    await put('home/elsewhere', CANARY);
    const { warnings } = await settle();
    const octal = mode.toString(8).padStart(4, '0');
    const expected = [`Permissions ${octal} for '${rc}' are too open: it holds apiSecret, which other users can read. Run: chmod 600 ${rc}`];
    expect(warnings).toEqual(warned ? expected : []);
  });
});

describe('parseSize', () => {
  it.each([
    ['1048576', 1048576],
    ['5MB', 5 * MiB],
    ['5MiB', 5 * MiB],
    ['5mb', 5 * MiB],
    ['5M', 5 * MiB],
    ['512KB', 512 * 1024],
    ['512k', 512 * 1024],
    ['512 KiB', 512 * 1024],
    ['1.5k', 1536],
    ['100B', 100],
    ['1GB', 1024 ** 3],
    ['0', 0],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'MB', '5XB', '-5MB', '5 M B', '1e6', '99999999999999999999'])('rejects %j', (text) => {
    expect(() => parseSize(text)).toThrow(SettingsError);
    expect(() => parseSize(text)).toThrow(`'${text}' is not a size`);
  });
});

describe('describeSource', () => {
  it.each<[Source, string]>([
    [{ kind: 'flag', name: '--api-id' }, 'flag --api-id'],
    [{ kind: 'env', name: 'LINKFACE_API_ID' }, 'env LINKFACE_API_ID'],
    [{ kind: 'env', name: 'LINKFACE_API_SECRET_FILE', key: '/run/secrets/lf' }, 'env LINKFACE_API_SECRET_FILE (/run/secrets/lf)'],
    [{ kind: 'env', name: 'LINKFACE_API_SECRET_FILE', key: '/home/u/.lf-secret' }, 'env LINKFACE_API_SECRET_FILE (~/.lf-secret)'],
    [{ kind: 'file', name: '/home/u/proj/.linkfacerc', key: 'profiles.ci.apiId' }, 'file ~/proj/.linkfacerc (profiles.ci.apiId)'],
    [{ kind: 'file', name: '/home/uv/.linkfacerc', key: 'apiId' }, 'file /home/uv/.linkfacerc (apiId)'],
    [{ kind: 'file', name: '/etc/linkface.yaml' }, 'file /etc/linkface.yaml'],
    [{ kind: 'default', name: 'default' }, 'default'],
    [{ kind: 'sandbox', name: '--sandbox' }, 'sandbox'],
  ])('%j is "%s"', (source, text) => {
    // Read with / for \: on Windows the part under home is joined with its separator (~/proj\.linkfacerc).
    const slashed = (shown: string) => (process.platform === 'win32' ? shown.replaceAll('\\', '/') : shown);
    expect(slashed(describeSource(source, '/home/u'))).toBe(text);
  });

  it('shows absolute paths when no home directory is given', () => {
    expect(describeSource({ kind: 'file', name: '/home/u/.linkfacerc', key: 'apiId' })).toBe('file /home/u/.linkfacerc (apiId)');
  });
});
