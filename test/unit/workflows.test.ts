import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ValidationError, validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';

/**
 * The GitHub Actions workflows (.github/workflows/): CI on three operating systems and four Node.js versions,
 * and the release of the single executables and the npm package on a version tag.
 *
 * Each file is validated by @action-validator/core: a WebAssembly build of action-validator that carries
 * SchemaStore's github-workflow JSON schema inside it (nothing is downloaded) and also checks that every
 * `needs` names a job of the file. Then the properties the workflows must keep are asserted on their text;
 * the matrices are written in YAML flow style (`[a, b]`, `{ k: v }`) so that one line holds each of them.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const CI = readFileSync(join(WORKFLOWS, 'ci.yml'), 'utf8');
const RELEASE = readFileSync(join(WORKFLOWS, 'release.yml'), 'utf8');

const OSES = ['ubuntu-latest', 'macos-latest', 'windows-latest'];
const NODES = ['20', '22', '24', '26'];
/** Each release target, the GitHub-hosted runner of its own platform it is run on, and its file name. */
const TARGETS = [
  { target: 'linux-x64', runner: 'ubuntu-latest', exe: 'linkface-linux-x64' },
  { target: 'linux-arm64', runner: 'ubuntu-24.04-arm', exe: 'linkface-linux-arm64' },
  { target: 'darwin-x64', runner: 'macos-15-intel', exe: 'linkface-darwin-x64' },
  { target: 'darwin-arm64', runner: 'macos-latest', exe: 'linkface-darwin-arm64' },
  { target: 'win-x64', runner: 'windows-latest', exe: 'linkface-win-x64.exe' },
];

/** The validator's errors, flattened (a oneOf failure holds the errors of each branch) into `path: detail` lines. */
function problems(source: string): string[] {
  const flatten = (errors: ValidationError[]): string[] =>
    errors.flatMap((error) => [
      `${'path' in error ? error.path : ''}: ${error.code} ${error.detail ?? error.title}`,
      ...('states' in error && error.states ? error.states.flatMap((state) => flatten(state.errors)) : []),
    ]);
  return flatten(validateWorkflow(source).errors);
}

/** The lines of a top-level key's block (`permissions:` → its indented lines). */
function topLevel(source: string, key: string): string {
  const lines = source.split('\n');
  const start = lines.findIndex((line) => line === `${key}:`);
  if (start < 0) throw new Error(`no top-level ${key}:`);
  const end = lines.findIndex((line, index) => index > start && /^\S/.test(line) && !line.startsWith('#'));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

/** Each job's block of text, by job id. */
function jobs(source: string): Map<string, string> {
  const result = new Map<string, string>();
  let current: string | undefined;
  for (const line of topLevel(source, 'jobs').split('\n')) {
    const id = /^ {2}([\w-]+):\s*$/.exec(line)?.[1];
    if (id) result.set((current = id), '');
    else if (current) result.set(current, `${result.get(current)}${line}\n`);
  }
  return result;
}

function job(source: string, id: string): string {
  const block = jobs(source).get(id);
  if (block === undefined) throw new Error(`no job ${id}`);
  return block;
}

/** `key: [a, b, c]` → ['a', 'b', 'c']. */
function flowList(block: string, key: string): string[] {
  const items = new RegExp(`^\\s+${key}:\\s*\\[(.*)\\]\\s*$`, 'm').exec(block)?.[1];
  if (items === undefined) throw new Error(`no one-line list ${key}: [...]`);
  return items.split(',').map((item) => item.trim());
}

/** Every `- { k: v, … }` line → { k: 'v', … }. */
function flowMappings(block: string): Record<string, string>[] {
  return [...block.matchAll(/^\s*-\s*\{(.*)\}\s*$/gm)].map((match) =>
    Object.fromEntries((match[1] ?? '').split(',').map((pair) => pair.split(':').map((part) => part.trim()))),
  );
}

/** The `uses:` references of a text. */
function actions(source: string): string[] {
  return [...source.matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)/gm)].map((match) => match[1] ?? '');
}

describe('the workflow validator', () => {
  it('accepts a minimal workflow', () => {
    expect(problems('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n')).toEqual([]);
  });

  it('rejects an unknown key in a job', () => {
    const found = problems('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: echo hi\n');
    expect(found).toContain("/jobs/a: properties Additional property 'stepz' is not allowed");
  });

  it('rejects a needs naming a job the file does not have', () => {
    const source = 'on: push\njobs:\n  a:\n    needs: [build]\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n';
    expect(problems(source)).toEqual(['/jobs/a/needs: unresolved_job unresolved job build']);
  });

  it('rejects a permission that is not read, write or none', () => {
    const source = 'on: push\npermissions:\n  contents: writ\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n';
    expect(problems(source).join('\n')).toContain('/permissions/contents: enum');
  });

  it('rejects a file that is not YAML', () => {
    expect(problems('on: push\njobs: [\n')[0]).toMatch(/^: parse_error /);
  });

  it('rejects release.yml with its verify job renamed (the release job needs it)', () => {
    const broken = RELEASE.replace(/^ {2}verify:$/m, '  verifi:');
    expect(broken).not.toBe(RELEASE);
    expect(problems(broken)).toContain('/jobs/release/needs: unresolved_job unresolved job verify');
  });

  it('rejects ci.yml with a misspelt key', () => {
    const broken = CI.replace('fail-fast: false', 'fail_fast: false');
    expect(broken).not.toBe(CI);
    expect(problems(broken).join('\n')).toContain("Additional property 'fail_fast' is not allowed");
  });
});

describe.each([
  ['ci.yml', CI],
  ['release.yml', RELEASE],
])('%s', (_name, source) => {
  it('is a valid workflow', () => {
    expect(problems(source)).toEqual([]);
  });

  it('grants only contents: read at the top; jobs raise what they need', () => {
    expect(topLevel(source, 'permissions').trim()).toBe('contents: read');
  });

  it('pins every action by its major version tag', () => {
    expect(actions(source).length).toBeGreaterThan(0);
    for (const action of actions(source)) expect(action).toMatch(/^[\w-]+\/[\w-]+@v\d+$/);
  });
});

describe('ci.yml', () => {
  const test = job(CI, 'test');

  it('runs on pushes and pull requests', () => {
    expect(topLevel(CI, 'on')).toMatch(/^ {2}push:/m);
    expect(topLevel(CI, 'on')).toMatch(/^ {2}pull_request:/m);
  });

  it('tests on Node.js 20, 22, 24 and 26 on Linux, macOS and Windows, every combination to the end', () => {
    expect(flowList(test, 'os')).toEqual(OSES);
    expect(flowList(test, 'node')).toEqual(NODES);
    expect(test).toMatch(/^\s+runs-on: \$\{\{ matrix\.os \}\}$/m);
    expect(test).toMatch(/^\s+node-version: \$\{\{ matrix\.node \}\}$/m);
    expect(test).toMatch(/^\s+fail-fast: false$/m);
    expect(test).not.toMatch(/^\s+(exclude|include):/m);
  });

  it('runs npm ci, then npm test, in bash, with CI set and npm cached', () => {
    const ci = test.indexOf('- run: npm ci');
    expect(ci).toBeGreaterThan(0);
    expect(test.indexOf('- run: npm test')).toBeGreaterThan(ci);
    expect(test).toMatch(/^\s+shell: bash\b/m);
    expect(test).toMatch(/^\s+cache: npm$/m);
    expect(topLevel(CI, 'env')).toMatch(/^\s+CI: true$/m);
  });
});

describe('release.yml', () => {
  it('runs on version tags only', () => {
    expect(topLevel(RELEASE, 'on').trim()).toBe("push:\n    tags: ['v*']");
  });

  it('has the jobs test, build, verify, release and publish', () => {
    expect([...jobs(RELEASE).keys()]).toEqual(['test', 'build', 'verify', 'release', 'publish']);
  });

  it('tests on Ubuntu with Node.js 26', () => {
    const test = job(RELEASE, 'test');
    expect(test).toMatch(/^\s+runs-on: ubuntu-latest$/m);
    expect(test).toMatch(/^\s+node-version: 26$/m);
    expect(test).toContain('- run: npm test');
  });

  it('builds every target once, on Ubuntu, and uploads the five executables with SHA256SUMS', () => {
    const build = job(RELEASE, 'build');
    expect(build).toMatch(/^\s+runs-on: ubuntu-latest$/m);
    expect(build).toContain('- run: npm run build:exe -- --target all');
    const paths = [...build.matchAll(/^\s+(release\/\S+)$/gm)].map((match) => match[1]);
    expect(paths).toEqual([...TARGETS.map(({ exe }) => `release/${exe}`), 'release/SHA256SUMS']);
    expect(build).toMatch(/^\s+if-no-files-found: error$/m);
  });

  it('verifies each of the five targets on a runner of its own platform', () => {
    expect(flowMappings(job(RELEASE, 'verify'))).toEqual(TARGETS);
  });

  it('verifies with the checksum, --version and a sandbox upload, and with no Node.js set up', () => {
    const verify = job(RELEASE, 'verify');
    expect(verify).toMatch(/^\s+needs: build$/m);
    expect(verify).toMatch(/^\s+fail-fast: false$/m);
    expect(verify).toContain('sha256sum -c SHA256SUMS --ignore-missing');
    expect(verify).toContain('shasum -a 256 -c SHA256SUMS --ignore-missing');
    expect(verify).toContain('Get-FileHash -Path $env:EXE -Algorithm SHA256');
    // Once in bash (Linux, macOS), once in PowerShell (Windows).
    expect(verify.match(/EXE" --version/g)).toHaveLength(2);
    expect(verify.match(/EXE" upload --sandbox /g)).toHaveLength(2);
    expect(verify).toContain('test -n "$id"');
    expect(verify).toContain('env -i HOME=');
    expect(verify).not.toContain('setup-node');
    expect(verify.replace('Get-Command node ', '')).not.toMatch(/\b(node|npm|npx)\b/);
  });

  it('releases on GitHub only after every target is verified, with write access there alone', () => {
    const release = job(RELEASE, 'release');
    expect(release).toMatch(/^\s+needs: \[test, verify\]$/m);
    expect(release).toMatch(/^\s+permissions:\n\s+contents: write$/m);
    expect(release).toContain('gh release create "$GITHUB_REF_NAME" release/* --verify-tag --generate-notes');
    for (const [id, block] of jobs(RELEASE)) {
      const writes = [...block.matchAll(/^\s+([\w-]+): write\b/gm)].map((match) => match[1]);
      expect(writes, id).toEqual(id === 'release' ? ['contents'] : id === 'publish' ? ['id-token'] : []);
    }
  });

  it('publishes to npm with provenance after the GitHub release', () => {
    const publish = job(RELEASE, 'publish');
    expect(publish).toMatch(/^\s+needs: \[test, release\]$/m);
    expect(publish).toMatch(/^\s+- run: npm publish --provenance --access public\b/m);
    expect(publish).toMatch(/^\s+id-token: write\b/m);
    expect(publish).toMatch(/^\s+contents: read$/m);
    expect(publish).toMatch(/^\s+registry-url: https:\/\/registry\.npmjs\.org$/m);
    expect(publish).toContain('NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}');
  });
});
