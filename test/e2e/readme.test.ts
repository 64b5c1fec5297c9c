import { spawn } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../src/sandbox/index.js';
import { BIN, FIXTURES, lines, parseRecords, sha256 } from './harness.js';

/**
 * Every shell example in README.md, run against a sandbox as a user would run it, so that an example that
 * cannot work fails the build.
 *
 * BLOCKS below is the table: every fenced block of README.md has an entry, found by its section heading and
 * its exact text (shell, YAML and unlabelled blocks) or by heading and language (JSON, TypeScript: no
 * commands). A block that is new or changed has no entry, and the first test fails, naming it.
 *
 * How lines run:
 * - `linkface` is a two-line shim on PATH that execs the built command (bin/linkface.js, as the e2e
 *   harness's BIN) with this very node. `npx linkface`, `npx linkface-cli` and `npx --yes linkface-cli` run
 *   that same shim (a stand-in `npx` on PATH; any other npx use fails). `curl` is a stand-in that records
 *   its arguments and contacts nothing.
 * - Each block runs in its own temporary folder, with `bash -euo pipefail` unless the block says otherwise
 *   (a shebang, GitHub Actions' `bash -e`, Kubernetes' `sh -c`), and a clean environment: PATH with the
 *   stand-ins first, HOME a temporary folder, NO_COLOR=1, and the settings the block needs,
 *   usually LINKFACE_ENDPOINT/LINKFACE_API_ID/LINKFACE_API_SECRET for a sandbox this test starts.
 * - Blocks of one command a line run line by line in one shell, each line's stdout and stderr kept apart
 *   (the line is wrapped in `{ …\n} >out 2>err`, in the same shell, so `export` and `|| exit` keep their
 *   meaning), and each line has its own assertions. Scripts run whole, once per input that matters.
 * - A line that cannot run here says why (`skip`); a substitution says what it replaces and why (`sub`).
 */

const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const FIXTURE_FILES = readdirSync(join(FIXTURES, 'liveness')).filter((name) => name.endsWith('.bin')).sort();

/** The ids the sandboxes hand out. */
const ID = /^[0-9a-f]{32}$/;

// ---------------------------------------------------------------------------------------------------------
// README fences

interface Fence {
  heading: string;
  info: string;
  text: string;
  line: number;
}

/** Every fenced block of a Markdown text, with the heading it sits under and its info string's first word. */
function fencedBlocks(markdown: string): Fence[] {
  const blocks: Fence[] = [];
  let heading = '';
  let open: { marker: string; info: string; line: number; body: string[] } | undefined;
  markdown.split('\n').forEach((line, index) => {
    if (open) {
      const close = /^ {0,3}(`{3,}|~{3,})\s*$/.exec(line);
      if (close?.[1] && close[1][0] === open.marker[0] && close[1].length >= open.marker.length) {
        blocks.push({ heading, info: open.info, text: open.body.join('\n'), line: open.line });
        open = undefined;
      } else {
        open.body.push(line);
      }
      return;
    }
    const fence = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/.exec(line);
    if (fence?.[1]) {
      open = { marker: fence[1], info: fence[2] ?? '', line: index + 1, body: [] };
      return;
    }
    const title = /^#{1,6}\s+(.*?)\s*$/.exec(line);
    if (title?.[1]) heading = title[1];
  });
  if (open) throw new Error(`README.md:${open.line}: fence never closed`);
  return blocks;
}

const SHELL_INFOS = new Set(['sh', 'bash', 'shell', 'zsh', 'console', 'shell-session']);
/** Blocks found by their exact text: shell, YAML (CI configurations hold shell scripts) and unlabelled ones. */
const pinned = (info: string) => SHELL_INFOS.has(info) || info === 'yaml' || info === 'yml' || info === '';

/** A line of a command block that runs: not blank, not only a comment. */
const isCommand = (line: string) => line.trim() !== '' && !line.trimStart().startsWith('#');

interface YamlScript {
  /** `run` (a GitHub Actions step), `args` (a container's `sh -c` argument) or `script` (a GitLab job's line). */
  key: 'run' | 'args' | 'script';
  text: string;
}

/**
 * The shell scripts inside a CI configuration: GitHub Actions `run:` values (`|` blocks or one line) and
 * Kubernetes `args:` items given to `command: ["sh", "-c"]` (plain scalars, folded onto one line).
 */
function yamlScripts(yaml: string): YamlScript[] {
  const rows = yaml.split('\n');
  const indent = (line: string) => line.length - line.trimStart().length;
  const scripts: YamlScript[] = [];
  rows.forEach((row, i) => {
    const run = /^(\s*)(- )?run:\s*(.*)$/.exec(row);
    if (run) {
      const keyIndent = (run[1] ?? '').length + (run[2] ? 2 : 0);
      if (run[3] !== '|') {
        scripts.push({ key: 'run', text: run[3] ?? '' });
        return;
      }
      const body: string[] = [];
      for (let j = i + 1; j < rows.length; j++) {
        const next = rows[j] ?? '';
        if (next.trim() !== '' && indent(next) <= keyIndent) break;
        body.push(next);
      }
      while (body.length && body.at(-1)?.trim() === '') body.pop();
      const cut = Math.min(...body.filter((line) => line.trim()).map(indent));
      scripts.push({ key: 'run', text: body.map((line) => line.slice(cut)).join('\n') });
      return;
    }
    // GitLab: `script:` followed by one command an item.
    if (/^\s*script:\s*$/.test(row)) {
      for (let j = i + 1; j < rows.length; j++) {
        const item = /^\s*- (.*)$/.exec(rows[j] ?? '');
        if (!item) break;
        scripts.push({ key: 'script', text: item[1] ?? '' });
      }
      return;
    }
    const args = /^(\s*)args:\s*$/.exec(row);
    if (args && /command:\s*\["sh",\s*"-c"\]/.test(rows[i - 1] ?? '')) {
      const item = /^(\s*)- (.*)$/.exec(rows[i + 1] ?? '');
      if (!item) return;
      const parts = [item[2] ?? ''];
      const dash = (item[1] ?? '').length;
      for (let j = i + 2; j < rows.length && indent(rows[j] ?? '') > dash && (rows[j] ?? '').trim() !== ''; j++) {
        parts.push((rows[j] ?? '').trim());
      }
      scripts.push({ key: 'args', text: parts.join(' ') });
    }
  });
  return scripts;
}

// ---------------------------------------------------------------------------------------------------------
// The table

/** One block's run: its folder, its HOME, its environment, the test's sandbox and what setup made. */
interface Ctx {
  root: string;
  dir: string;
  home: string;
  bin: string;
  env: Record<string, string>;
  sandbox: Sandbox;
  /** Values for `{NAME}` in substitutions: ports, URLs. */
  vars: Record<string, string>;
  /** Files setup wrote, by path relative to `dir`, with their content. */
  files: Map<string, Buffer>;
  /** Arguments each `curl` call received. */
  curlCalls: () => string[][];
}

interface LineRun {
  stdout: string;
  stderr: string;
  /** When it started and ended, ms since the epoch (to tell which uploads it made). */
  from?: number;
  to?: number;
}

interface LineSpec {
  /** The line exactly as in the README. */
  line: string;
  /** Not run here, and why. */
  skip?: string;
  /** Replacements before the line runs: README text, what runs (`{NAME}` from Ctx.vars), why. */
  sub?: ReadonlyArray<readonly [from: string, to: string, why: string]>;
  /** Runs in the background, as in a second terminal; the block goes on once it printed a line. Why. */
  background?: string;
  /** Runs twice in a row, and why. */
  twice?: string;
  /** Assertions on what a user sees: one run, or two with `twice`. All line results are given too. */
  check?: (runs: LineRun[], ctx: Ctx, all: LineRun[][]) => void | Promise<void>;
}

interface Base {
  heading: string;
  info: string;
  /** How the block is run, in a sentence (or why it has nothing to run). */
  how: string;
  /** Systems where the block cannot run as written, and why (Windows: see WINDOWS). */
  skipOn?: Partial<Record<NodeJS.Platform, string>>;
}

/** A block of one command a line, run line by line. */
interface CommandsBlock extends Base {
  kind: 'commands';
  lines: readonly LineSpec[];
  /** Sandbox options for the test's sandbox (default: accepts `sandbox`/`sandbox`). */
  sandbox?: SandboxOptions;
  /** Settings on top of the clean environment; default: the test's sandbox with its account. */
  env?: (ctx: Ctx) => Record<string, string>;
  /** Inputs to run the block with, each in a fresh folder; default one. */
  cases?: readonly { name: string; setup: (ctx: Ctx) => void | Promise<void> }[];
  /** Checks after the block, on the whole. */
  after?: (ctx: Ctx, all: LineRun[][]) => void | Promise<void>;
}

/** A script (shell or CI configuration) run whole by its own test. */
interface ScriptBlock extends Base {
  kind: 'script' | 'yaml';
  text: string;
  /** Lines of the block that are not run, and why. */
  skip?: Readonly<Record<string, string>>;
  /** For YAML: the shell scripts the configuration holds, exactly (checked against the block). */
  scripts?: readonly string[];
  test: (ctx: Ctx, entry: ScriptBlock) => Promise<void>;
}

/** A block with no command in it. */
interface Inert extends Base {
  kind: 'inert';
  /** Exact text, for languages that could hold commands; absent for JSON and TypeScript. */
  text?: string;
}

type Entry = CommandsBlock | ScriptBlock | Inert;

const textOf = (entry: Entry): string | undefined => (entry.kind === 'commands' ? entry.lines.map((spec) => spec.line).join('\n') : entry.text);

/** `npm ci`: not run anywhere here, for the same reason. */
const NPM_CI = 'npm ci installs from the registry (no network here) and rebuilds dist/ under the tests that are running';

const BLOCKS: readonly Entry[] = [
  {
    heading: 'linkface',
    info: 'sh',
    kind: 'commands',
    how: 'in a clone-like folder (package.json, bin/, dist/, node_modules/ of this checkout, a copy of fixtures/), with no settings at all',
    env: () => ({}),
    cases: [{ name: 'a clone', setup: (ctx) => cloneInto(ctx) }],
    lines: [
      {
        line: 'npm ci && npm run demo     # install, build, and upload the sample files to the embedded sandbox',
        sub: [['npm ci && ', '', `${NPM_CI}; this checkout is installed and built already`]],
        check: ([run]) => expectDemo(run),
      },
      {
        line: 'npm test                   # the whole test suite (unit, engine, end to end)',
        skip: 'runs the whole suite, this file included, and rebuilds dist/ first',
      },
    ],
  },
  {
    heading: 'Install',
    info: 'sh',
    kind: 'commands',
    how: 'against the test sandbox; the shim stands for the installed command',
    cases: [{ name: 'f.bin', setup: (ctx) => void put(ctx, 'f.bin', 'install example capture\n') }],
    lines: [
      {
        line: 'npm install -g linkface-cli       # then: linkface --help',
        sub: [
          [
            'npm install -g linkface-cli',
            'linkface --help',
            'installing from the registry needs the network: the shim on PATH is the installed command, and the line runs ' +
              'what the comment says to run next',
          ],
        ],
        check: ([run]) => {
          expect(run?.stdout).toMatch(/^Usage: linkface /);
          expect(run?.stdout).toMatch(/Examples:/);
        },
      },
      {
        line: 'npx linkface-cli upload f.bin     # without installing',
        check: ([run], ctx) => void expectBareId(run, ctx, 'f.bin'),
      },
      {
        line: 'npm ci && npm run build:exe       # from a clone: release/linkface-linux-x64, runs where Node is not installed',
        skip: `${NPM_CI}; build:exe takes minutes, and test/e2e/exe.test.ts builds the executable and runs it`,
      },
    ],
  },
  {
    heading: 'Single executable',
    info: 'sh',
    kind: 'commands',
    how: 'not run: every line needs the executable that npm run build:exe takes minutes to build; test/e2e/exe.test.ts builds it and runs line 3',
    lines: [
      {
        line: 'npm ci && npm run build:exe',
        skip: `${NPM_CI}; build:exe takes minutes (test/e2e/exe.test.ts runs it)`,
      },
      {
        line: 'cd release && sha256sum -c SHA256SUMS     # linkface-linux-x64: OK',
        skip: 'needs the output of line 1; release/ is rewritten in place by test/e2e/exe.test.ts while the suite runs, so reading it here would race',
      },
      {
        line: 'env -i ./linkface-linux-x64 upload --sandbox ../fixtures/liveness/alice.bin',
        skip: 'needs the output of line 1; test/e2e/exe.test.ts runs this command (env -i, upload --sandbox alice.bin) on the executable it builds',
      },
    ],
  },
  {
    heading: 'Quick start',
    info: 'sh',
    kind: 'commands',
    how: 'against a test sandbox that accepts the api id your-api-id (so the export runs as written) with the key sandbox in ~/.config/linkface/secret (mode 600)',
    sandbox: { apiId: 'your-api-id' },
    env: (ctx) => ({ LINKFACE_ENDPOINT: ctx.sandbox.url }),
    cases: [{ name: 'captures', setup: quickStartFiles }],
    lines: [
      { line: 'export LINKFACE_API_ID=your-api-id' },
      { line: 'export LINKFACE_API_SECRET_FILE=~/.config/linkface/secret   # a file holding the key, mode 600' },
      { line: '' },
      {
        line: 'linkface upload ./liveness.bin              # prints the liveness_data_id, nothing else, on stdout',
        check: ([run], ctx) => {
          const id = expectBareId(run, ctx, 'liveness.bin');
          expect(stored(ctx.sandbox, id).fields).toMatchObject({ api_id: 'your-api-id', api_secret: 'sandbox' });
        },
      },
      {
        line: 'ID=$(linkface upload ./liveness.bin) || exit $?',
        check: ([run], ctx) => {
          expect(run?.stdout, 'the id went into $ID').toBe('');
          const uploads = uploadsDuring(ctx.sandbox, run);
          expect(uploads.map((upload) => upload.file?.sha256)).toEqual([sha256(ctx.files.get('liveness.bin') ?? '')]);
        },
      },
      {
        line: 'linkface upload a.bin b.bin c.bin           # one "<id><TAB><input>" line per upload',
        check: ([run], ctx) => void expectIdLines(run, ctx, ['a.bin', 'b.bin', 'c.bin']),
      },
      {
        line: 'linkface upload ./captures/                 # a whole folder, recursively, 4 uploads in parallel',
        check: ([run], ctx) => void expectIdLines(run, ctx, captureFiles(ctx)),
      },
      {
        line: "linkface upload 'captures/**/*.bin' -c 16   # a glob, expanded by linkface (quote it)",
        check: ([run], ctx) => void expectIdLines(run, ctx, captureFiles(ctx).filter((path) => path.endsWith('.bin'))),
      },
      {
        line: 'linkface upload ./captures/ --manifest done.ndjson --resume   # re-run safely: uploads only what is missing',
        twice: 'the comment promises a safe re-run',
        check: (runs, ctx) => expectResumedBatch(runs, ctx, 'done.ndjson'),
      },
      {
        line: 'linkface upload https://files.example.com/liveness.bin   # the server downloads the URL',
        sub: [['https://files.example.com/liveness.bin', '{FILES}/liveness.bin', 'no internet here: a static server the test starts on 127.0.0.1 serves the file']],
        check: ([run], ctx) => {
          expect(run?.stdout).toMatch(/^\S+\n$/);
          expect(stored(ctx.sandbox, (run?.stdout ?? '').trim()).url).toBe(`${ctx.vars.FILES}/liveness.bin`);
          expect(ctx.vars.SERVED).toBeDefined();
        },
      },
      {
        line: 'cat liveness.bin | linkface upload -        # the file\'s bytes on standard input',
        check: ([run], ctx) => void expectBareId(run, ctx, 'liveness.bin'),
      },
      {
        line: 'linkface upload --sandbox ./liveness.bin    # try it: an embedded sandbox, no account needed',
        check: ([run], ctx) => {
          expect(run?.stdout).toMatch(/^[0-9a-f]{32}\n$/);
          expect(ctx.sandbox.uploads().map((upload) => upload.livenessDataId)).not.toContain(run?.stdout.trim());
          // The key in force is `sandbox` (the secret file): redacting it must not blank out the word.
          expect(run?.stderr, 'stderr says the embedded sandbox is used').toMatch(/Using the embedded sandbox at /);
        },
      },
      {
        line: 'linkface explain UNAUTHORIZED               # what an error code means and what to do',
        check: ([run]) => {
          expect(run?.stdout).toMatch(/^UNAUTHORIZED \(HTTP 401\)\n/);
          expect(run?.stdout).toMatch(/next step: /);
        },
      },
      {
        line: 'linkface config show                        # the settings in force and where each came from',
        check: ([run], ctx) => {
          expect(run?.stdout).toMatch(/^apiId\s+your-api-id\s+env LINKFACE_API_ID$/m);
          expect(run?.stdout).toMatch(/^apiSecret\s+\(set, redacted\)\s+env LINKFACE_API_SECRET_FILE \(~\/\.config\/linkface\/secret\)$/m);
          expect(run?.stdout).toContain(`endpoint     ${ctx.sandbox.url}`);
        },
      },
    ],
  },
  {
    heading: 'Credentials and settings',
    info: 'yaml',
    kind: 'inert',
    how: 'an rc file (.linkfacerc.example), no commands',
    text: [
      'apiId: your-api-id',
      'apiSecretFile: ~/.config/linkface/secret   # or apiSecret: … (then chmod 600 the rc file)',
      'concurrency: 8',
      'profiles:',
      '  staging:',
      '    apiId: staging-api-id',
      '    endpoint: https://staging.example.com',
    ].join('\n'),
  },
  {
    heading: 'Batches, resume and many machines',
    info: 'sh',
    kind: 'commands',
    how: 'against the test sandbox, twice in a row (a re-run), with a folder of several captures and with a folder of one',
    cases: [
      { name: 'several files', setup: (ctx) => captures(ctx, 'captures', 5) },
      { name: 'one file', setup: (ctx) => captures(ctx, 'captures', 1) },
    ],
    lines: [
      {
        line: 'linkface upload ./captures/ -c 16 --manifest uploaded.ndjson --resume',
        twice: 're-running the batch must upload only what is missing (nothing)',
        check: (runs, ctx) => expectResumedBatch(runs, ctx, 'uploaded.ndjson'),
      },
    ],
  },
  {
    heading: 'Splitting one batch across machines',
    info: 'yaml',
    kind: 'yaml',
    how:
      "the step's run: line once per matrix value, each in its own copy of the checkout (a runner each), " +
      "${{ }} expanded as Actions does with the sandbox's account; uses: steps are not shell",
    text: [
      'jobs:',
      '  upload:',
      '    runs-on: ubuntu-latest',
      '    strategy:',
      '      matrix:',
      '        shard: [1, 2, 3, 4]',
      '    steps:',
      '      - uses: actions/checkout@v4',
      '      - run: npx --yes linkface-cli upload captures/ --shard ${{ matrix.shard }}/4 --manifest shard-${{ matrix.shard }}.ndjson --resume',
      '        env:',
      '          LINKFACE_API_ID: ${{ vars.LINKFACE_API_ID }}',
      '          LINKFACE_API_SECRET: ${{ secrets.LINKFACE_API_SECRET }}',
      '      - uses: actions/upload-artifact@v4',
      '        if: always()',
      '        with:',
      '          name: manifest-${{ matrix.shard }}',
      '          path: shard-${{ matrix.shard }}.ndjson',
    ].join('\n'),
    scripts: ['npx --yes linkface-cli upload captures/ --shard ${{ matrix.shard }}/4 --manifest shard-${{ matrix.shard }}.ndjson --resume'],
    test: async (ctx, entry) => {
      const [script = ''] = entry.scripts ?? [];
      const shards = ['1', '2', '3', '4'];
      const runs = await Promise.all(
        shards.map(async (shard) => {
          const job = join(ctx.dir, `runner-${shard}`);
          captures(ctx, join(`runner-${shard}`, 'captures'), 9);
          const run = await runProcess('bash', ['-e', '-c', githubExpressions(script, { 'matrix.shard': shard, ...GITHUB_ACCOUNT })], {
            cwd: job,
            env: { ...ctx.env, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' },
          });
          return { shard, job, run };
        }),
      );
      const ids = new Set<string>();
      for (const { shard, job, run } of runs) {
        expect(run.code, run.stderr).toBe(0);
        const records = manifestRecords(join(job, `shard-${shard}.ndjson`));
        expect(records.every((record) => record.ok)).toBe(true);
        expectBatchStdout(run.stdout, records);
        for (const record of records) ids.add(record.liveness_data_id ?? '');
      }
      expectEachStoredOnce(ctx.sandbox, runs.map(({ shard }) => `runner-${shard}/captures`), ctx, 9);
      expect(ids.size).toBe(9);
    },
  },
  {
    heading: 'Splitting one batch across machines',
    info: 'yaml',
    kind: 'yaml',
    how: "the job's script line once per parallel job (CI_NODE_INDEX 1..4, CI_NODE_TOTAL 4, as GitLab sets them), each in its own copy of the checkout",
    text: [
      'upload:',
      '  parallel: 4',
      '  script:',
      '    - npx --yes linkface-cli upload captures/ --shard auto --manifest "shard-$CI_NODE_INDEX.ndjson" --resume',
    ].join('\n'),
    scripts: ['npx --yes linkface-cli upload captures/ --shard auto --manifest "shard-$CI_NODE_INDEX.ndjson" --resume'],
    test: async (ctx, entry) => {
      const [script = ''] = entry.scripts ?? [];
      const jobs = ['1', '2', '3', '4'];
      const runs = await Promise.all(
        jobs.map(async (index) => {
          const job = join(ctx.dir, `gitlab-${index}`);
          captures(ctx, join(`gitlab-${index}`, 'captures'), 9);
          const run = await runProcess('bash', ['-e', '-c', script], {
            cwd: job,
            env: { ...ctx.env, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox', CI_NODE_INDEX: index, CI_NODE_TOTAL: '4' },
          });
          return { index, job, run };
        }),
      );
      for (const { index, job, run } of runs) {
        expect(run.code, run.stderr).toBe(0);
        const records = manifestRecords(join(job, `shard-${index}.ndjson`));
        expect(records.every((record) => record.ok)).toBe(true);
        expectBatchStdout(run.stdout, records);
      }
      expectEachStoredOnce(ctx.sandbox, runs.map(({ index }) => `gitlab-${index}/captures`), ctx, 9);
    },
  },
  {
    heading: 'Splitting one batch across machines',
    info: 'yaml',
    kind: 'yaml',
    how:
      "the container's sh -c argument, four pods at once (JOB_COMPLETION_INDEX 0..3) on one shared volume, " +
      "then again (restartPolicy: OnFailure); /data and /secrets are the test's folders for those mounts",
    text: [
      'apiVersion: batch/v1',
      'kind: Job',
      'metadata:',
      '  name: linkface-upload',
      'spec:',
      '  completions: 4',
      '  parallelism: 4',
      '  completionMode: Indexed',
      '  template:',
      '    spec:',
      '      restartPolicy: OnFailure',
      '      containers:',
      '        - name: upload',
      '          image: node:20-slim',
      '          command: ["sh", "-c"]',
      '          args:',
      '            - mkdir -p /data/manifests &&',
      '              npx --yes linkface-cli upload /data/captures --shard $((JOB_COMPLETION_INDEX + 1))/4',
      '              --manifest /data/manifests/shard-$JOB_COMPLETION_INDEX.ndjson --resume',
      '          env:',
      '            - name: LINKFACE_API_ID',
      '              valueFrom: { secretKeyRef: { name: linkface, key: api-id } }',
      '            - name: LINKFACE_API_SECRET_FILE',
      '              value: /secrets/api-secret',
      '          volumeMounts:',
      '            - { name: data, mountPath: /data }',
      '            - { name: secret, mountPath: /secrets, readOnly: true }',
      '      volumes:',
      '        - name: data',
      '          persistentVolumeClaim: { claimName: captures }',
      '        - name: secret',
      "          secret: { secretName: linkface, items: [{ key: api-secret, path: api-secret }] }",
    ].join('\n'),
    scripts: [
      'mkdir -p /data/manifests && npx --yes linkface-cli upload /data/captures --shard $((JOB_COMPLETION_INDEX + 1))/4 --manifest /data/manifests/shard-$JOB_COMPLETION_INDEX.ndjson --resume',
    ],
    test: async (ctx, entry) => {
      const [args = ''] = entry.scripts ?? [];
      // The volumes: captures on the data volume (no manifests folder yet), the key in the secret volume.
      captures(ctx, 'data/captures', 9);
      put(ctx, 'secrets/api-secret', 'sandbox');
      const script = substitute(args, [['/data/', `${ctx.dir}/data/`]]);
      const pods = () =>
        Promise.all(
          ['0', '1', '2', '3'].map((index) =>
            runProcess('sh', ['-c', script], {
              cwd: ctx.home,
              env: {
                ...baseEnv(ctx),
                LINKFACE_ENDPOINT: ctx.sandbox.url,
                JOB_COMPLETION_INDEX: index,
                LINKFACE_API_ID: 'sandbox',
                LINKFACE_API_SECRET_FILE: join(ctx.dir, 'secrets/api-secret'),
              },
            }),
          ),
        );
      const first = await pods();
      const manifests = ['0', '1', '2', '3'].map((index) => join(ctx.dir, 'data/manifests', `shard-${index}.ndjson`));
      first.forEach((run, index) => {
        expect(run.code, run.stderr).toBe(0);
        expectBatchStdout(run.stdout, manifestRecords(manifests[index] ?? ''));
      });
      expectEachStoredOnce(ctx.sandbox, ['data/captures'], ctx, 9);
      // A pod restarted: --resume finds every file in its manifest and uploads nothing.
      const again = await pods();
      again.forEach((run, index) => {
        expect(run.code, run.stderr).toBe(0);
        expectResumedStdout(run.stdout, manifestRecords(manifests[index] ?? ''));
      });
      expect(ctx.sandbox.uploads()).toHaveLength(9);
    },
  },
  {
    heading: 'Watching a folder',
    info: 'sh',
    kind: 'commands',
    how: 'against the test sandbox: the watcher runs in the background (as a service would) over a folder holding one file, a writer renames a second one in, and the next program waits for its record; the watcher is stopped with SIGTERM after the block',
    cases: [
      {
        name: 'a folder with a file',
        setup: (ctx) => {
          put(ctx, 'incoming/first.bin', 'watched capture already there\n');
          put(ctx, 'capture.bin.tmp', 'watched capture renamed in\n');
        },
      },
    ],
    lines: [
      {
        line: 'linkface watch ./incoming/ --manifest uploaded.ndjson --on-success move:./uploaded/ --on-failure move:./failed/',
        background: 'it runs until stopped; the block goes on once it printed the id of the file that was there at start',
        check: ([run], ctx) => {
          const [first = ''] = lines(run?.stdout ?? '');
          const [id = '', input] = first.split('\t');
          expect(input).toBe('incoming/first.bin');
          expect(stored(ctx.sandbox, id).file?.sha256).toBe(sha256('watched capture already there\n'));
          expect(readFileSync(join(ctx.dir, 'uploaded', 'first.bin'), 'utf8')).toBe('watched capture already there\n');
        },
      },
      { line: 'mv capture.bin.tmp incoming/capture.bin    # a writer: write under a temporary or hidden name, then rename in' },
      {
        line: 'until [ -e uploaded/capture.bin.json ]; do sleep 1; done; cat uploaded/capture.bin.json   # the next program in line',
        check: ([run], ctx) => {
          const record = JSON.parse(run?.stdout ?? '') as { input: string; ok: boolean; liveness_data_id: string; sha256: string };
          expect(record).toMatchObject({ input: 'incoming/capture.bin', ok: true, sha256: sha256('watched capture renamed in\n') });
          expect(stored(ctx.sandbox, record.liveness_data_id).file?.sha256).toBe(record.sha256);
          expect(ctx.sandbox.uploads()).toHaveLength(2);
        },
      },
    ],
  },
  {
    heading: 'Watching a folder',
    info: 'ini',
    kind: 'inert',
    how: 'a systemd unit: there is no systemd here; its ExecStart is the command the sh block of this section runs, with absolute paths and --grace',
  },
  {
    heading: 'Watching a folder',
    info: 'yaml',
    kind: 'yaml',
    how:
      "the sidecar's sh -c argument, on the test's folder for the shared volume; a file is renamed into the incoming folder as the " +
      'backend would drop it, the record appears beside the moved file, and SIGTERM (as the kubelet sends) stops the watcher with exit 0',
    text: [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: liveness-backend',
      'spec:',
      '  replicas: 1',
      '  strategy: { type: Recreate }',
      '  selector:',
      '    matchLabels: { app: liveness-backend }',
      '  template:',
      '    metadata:',
      '      labels: { app: liveness-backend }',
      '    spec:',
      '      terminationGracePeriodSeconds: 30',
      '      containers:',
      '        - name: backend',
      '          image: registry.example.com/liveness-backend:1.4.2',
      '          volumeMounts:',
      '            - { name: shared, mountPath: /shared }',
      '        - name: linkface-watch',
      '          image: node:20-slim',
      '          command: ["sh", "-c"]',
      '          args:',
      '            - mkdir -p /shared/incoming /shared/state &&',
      '              exec npx --yes linkface-cli watch /shared/incoming --manifest /shared/state/uploaded.ndjson',
      '              --on-success move:/shared/uploaded --on-failure move:/shared/failed --grace 20s',
      '          env:',
      '            - name: LINKFACE_API_ID',
      '              valueFrom: { secretKeyRef: { name: linkface, key: api-id } }',
      '            - name: LINKFACE_API_SECRET_FILE',
      '              value: /secrets/api-secret',
      '          volumeMounts:',
      '            - { name: shared, mountPath: /shared }',
      '            - { name: secret, mountPath: /secrets, readOnly: true }',
      '      volumes:',
      '        - name: shared',
      '          persistentVolumeClaim: { claimName: liveness-shared }',
      '        - name: secret',
      "          secret: { secretName: linkface, items: [{ key: api-secret, path: api-secret }] }",
    ].join('\n'),
    scripts: [
      'mkdir -p /shared/incoming /shared/state && exec npx --yes linkface-cli watch /shared/incoming --manifest /shared/state/uploaded.ndjson --on-success move:/shared/uploaded --on-failure move:/shared/failed --grace 20s',
    ],
    test: async (ctx, entry) => {
      const [args = ''] = entry.scripts ?? [];
      put(ctx, 'secrets/api-secret', 'sandbox');
      const shared = join(ctx.dir, 'shared');
      const script = substitute(args, [['/shared/', `${shared}/`]]);
      const child = spawn('sh', ['-c', script], {
        cwd: ctx.home,
        env: { ...baseEnv(ctx), LINKFACE_ENDPOINT: ctx.sandbox.url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET_FILE: join(ctx.dir, 'secrets/api-secret') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<number | null>((resolvePromise) => child.on('close', (code) => resolvePromise(code)));
      try {
        // The backend writes aside, then renames the complete file in.
        const deadline = Date.now() + 10_000;
        while (!existsSync(join(shared, 'incoming')) && Date.now() < deadline) await new Promise((next) => setTimeout(next, 50));
        put(ctx, 'shared/.capture.bin.part', 'sidecar capture\n');
        renameSync(join(shared, '.capture.bin.part'), join(shared, 'incoming', 'capture.bin'));
        const record = join(shared, 'uploaded', 'capture.bin.json');
        while (!existsSync(record) && Date.now() < deadline + 10_000) await new Promise((next) => setTimeout(next, 50));
        expect(existsSync(record), stderr).toBe(true);
        const written = JSON.parse(readFileSync(record, 'utf8')) as { liveness_data_id: string };
        expect(stored(ctx.sandbox, written.liveness_data_id).file?.sha256).toBe(sha256('sidecar capture\n'));
      } finally {
        // The kubelet's SIGTERM: exec made the watcher the container's process.
        child.kill('SIGTERM');
      }
      expect(await exited, stderr).toBe(0);
      expect(stdout).toMatch(/^[0-9a-f]{32}\t.*\/shared\/incoming\/capture\.bin\n$/);
      expect(manifestRecords(join(shared, 'state', 'uploaded.ndjson')).filter((record) => record.ok)).toHaveLength(1);
    },
  },
  {
    heading: 'Output',
    info: 'json',
    kind: 'inert',
    how: 'a result record, no commands (test/e2e/upload.test.ts checks the fields)',
  },
  {
    heading: 'Errors and `linkface explain`',
    info: '',
    kind: 'inert',
    how: 'what a failure prints, no commands (test/e2e/upload.test.ts checks these lines)',
    text: [
      '✖ liveness.bin: UNAUTHORIZED (HTTP 401)',
      '  The API account or key is wrong.',
      '  server said: wrong api_id or api_secret',
      '  request id: TID8bf47ab6eda64476973cc5f5b6ebf57e',
      '  next step: Check the api id and secret: --api-id / LINKFACE_API_ID / apiId and LINKFACE_API_SECRET(_FILE) / apiSecret(File).',
      '  now set by: api id: env LINKFACE_API_ID; api secret: file ~/.linkfacerc',
    ].join('\n'),
  },
  {
    heading: 'Diagnosing the connection: `linkface doctor`',
    info: 'sh',
    kind: 'commands',
    how: 'against the test sandbox (plain http on loopback) with its account in the environment, and a staging profile in ~/.linkfacerc',
    cases: [
      {
        name: 'a staging profile',
        setup: (ctx) => {
          writeFileSync(join(ctx.home, '.linkfacerc'), JSON.stringify({ profiles: { staging: { concurrency: 2 } } }));
          chmodSync(join(ctx.home, '.linkfacerc'), 0o600);
        },
      },
    ],
    lines: [
      {
        line: 'linkface doctor                                   # every check, and the fix for each that fails',
        check: ([run]) => {
          expect(run?.stdout).toMatch(/^✔ account +the credentials were not rejected: INVALID_ARGUMENT \(HTTP 400\)/m);
          expect(run?.stdout).toMatch(/^- TLS +not checked: plain http: no TLS$/m);
          expect(run?.stdout).toMatch(/No problems found \(8 checks passed\)\.\n$/);
        },
      },
      {
        line: 'linkface doctor --profile staging                 # what an upload with --profile staging would use',
        check: ([run]) => {
          expect(run?.stdout).toMatch(/^ +profile: staging, from flag --profile$/m);
          expect(run?.stdout).toMatch(/^ +concurrency: 2, from file ~\/\.linkfacerc \(profiles\.staging\.concurrency\)$/m);
        },
      },
      {
        line: `linkface doctor --json | jq -r '.checks[] | select(.status == "fail") | "\\(.id): \\(.fix)"'`,
        // Nothing fails here (and with pipefail, a failing doctor would fail the line).
        check: ([run]) => expect(run?.stdout).toBe(''),
      },
    ],
    after: (ctx) => {
      // One call with the credentials a line, none of them an upload.
      expect(ctx.sandbox.requests).toHaveLength(3);
      expect(ctx.sandbox.uploads()).toHaveLength(0);
      for (const request of ctx.sandbox.requests) expect(request.file).toBeUndefined();
    },
  },
  {
    heading: 'Diagnosing the connection: `linkface doctor`',
    info: 'text',
    kind: 'inert',
    how: 'what doctor prints behind a proxy that inspects TLS, no commands (test/e2e/doctor.test.ts checks the lines of each kind)',
  },
  {
    heading: 'The sandbox',
    info: 'sh',
    kind: 'commands',
    how: 'with no settings at all; `linkface sandbox` runs in the background as in a second terminal, on a free port instead of 8470, and is stopped after the block',
    env: () => ({}),
    cases: [{ name: 'f.bin', setup: (ctx) => void put(ctx, 'f.bin', 'sandbox example capture\n') }],
    lines: [
      {
        line: 'linkface upload --sandbox f.bin                  # in-process, for a quick try',
        check: ([run]) => {
          expect(run?.stdout).toMatch(/^[0-9a-f]{32}\n$/);
          expect(run?.stderr).toMatch(/embedded sandbox/);
        },
      },
      {
        line: 'linkface sandbox --port 8470                     # in the foreground; prints its URL on stdout',
        sub: [['8470', '{PORT}', 'a free port: 8470 may be taken on the machine running the tests']],
        background: 'it serves until stopped; a user runs the next line in another terminal',
        check: ([run], ctx) => expect(run?.stdout).toBe(`http://127.0.0.1:${ctx.vars.PORT}\n`),
      },
      {
        line: 'LINKFACE_ENDPOINT=http://127.0.0.1:8470 LINKFACE_API_ID=sandbox LINKFACE_API_SECRET=sandbox linkface upload f.bin',
        sub: [['8470', '{PORT}', 'the port the sandbox of the line before listens on']],
        check: ([run], _ctx, all) => {
          expect(run?.stdout).toMatch(/^[0-9a-f]{32}\n$/);
          // The foreground sandbox logs one line per request on stderr.
          expect(all[1]?.[0]?.stderr).toMatch(/POST \/resources\/upload_liveness_data .*OK/);
        },
      },
    ],
    after: (ctx) => expect(ctx.sandbox.requests).toHaveLength(0),
  },
  {
    heading: 'In a shell script',
    info: 'sh',
    kind: 'script',
    how:
      'saved as ./upload-and-verify.sh and run by its shebang with a file as $1: one that uploads, one the ' +
      'sandbox answers WRONG_LIVENESS_DATA, a missing one, and one with a wrong key; curl is the recording ' +
      'stand-in',
    text: [
      '#!/usr/bin/env bash',
      'set -euo pipefail',
      'ID=$(linkface upload --quiet "$1")          # exit code 1, 2 or 3 stops the script; the reason is on stderr',
      'curl -s "https://internal.example.com/verify?liveness_data_id=$ID"',
    ].join('\n'),
    test: async (ctx, entry) => {
      const script = put(ctx, 'upload-and-verify.sh', `${entry.text}\n`);
      chmodSync(script, 0o755);
      put(ctx, 'capture.bin', 'a capture that uploads\n');
      put(ctx, 'damaged.bin', 'LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA\n');
      const run = (file: string, env: Record<string, string> = {}) => runProcess(script, [file], { cwd: ctx.dir, env: { ...ctx.env, ...env } });

      const ok = await run('capture.bin');
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stderr).toBe('');
      const [upload] = ctx.sandbox.uploads();
      expect(upload?.file?.sha256).toBe(sha256(ctx.files.get('capture.bin') ?? ''));
      expect(ctx.curlCalls()).toEqual([['-s', `https://internal.example.com/verify?liveness_data_id=${upload?.livenessDataId}`]]);
      expect(ok.stdout).toBe(CURL_ANSWER);

      for (const [file, env, code, reason] of [
        ['damaged.bin', {}, 1, /damaged\.bin: WRONG_LIVENESS_DATA \(HTTP 400\)/],
        ['missing.bin', {}, 2, /missing\.bin: no such file/],
        ['capture.bin', { LINKFACE_API_SECRET: 'wrong' }, 3, /capture\.bin: UNAUTHORIZED \(HTTP 401\)/],
      ] as const) {
        const failed = await run(file, env);
        expect(failed.code, `${file}: ${failed.stderr}`).toBe(code);
        expect(failed.stdout).toBe('');
        expect(failed.stderr).toMatch(reason);
        expect(ctx.curlCalls(), 'the script stops before curl').toEqual([]);
      }
    },
  },
  {
    heading: 'In a shell script',
    info: 'sh',
    kind: 'script',
    how:
      'with bash -euo pipefail and $F set to a file that uploads (exit 0), one the sandbox answers ' +
      'WRONG_LIVENESS_DATA (1), a missing one (2), and a good one with a wrong key (3); each must take its ' +
      'own branch',
    text: [
      '# keep going on failure and decide per code',
      'if ID=$(linkface upload "$F"); then',
      '  echo "uploaded $F: $ID"',
      'else',
      "  status=$?        # linkface's exit code (after `if !`, $? would always be 0)",
      '  case $status in',
      '    1) echo "upload failed after retries" ;;',
      '    2) echo "fix the input or the configuration" ;;',
      '    3) echo "the account cannot upload: stop everything" ;;',
      '    *) echo "interrupted or not run (exit $status)" ;;',
      '  esac',
      'fi',
    ].join('\n'),
    test: async (ctx, entry) => {
      const script = join(ctx.root, 'keep-going.sh');
      writeFileSync(script, `${entry.text}\n`);
      put(ctx, 'capture.bin', 'a capture that uploads\n');
      put(ctx, 'damaged.bin', 'LINKFACE-SANDBOX-STATUS:WRONG_LIVENESS_DATA\n');
      const cases: { code: number; F: string; env: Record<string, string>; branch: (id: string) => string }[] = [
        { code: 0, F: 'capture.bin', env: {}, branch: (id: string) => `uploaded capture.bin: ${id}` },
        { code: 1, F: 'damaged.bin', env: {}, branch: () => 'upload failed after retries' },
        { code: 2, F: 'missing.bin', env: {}, branch: () => 'fix the input or the configuration' },
        { code: 3, F: 'capture.bin', env: { LINKFACE_API_SECRET: 'wrong' }, branch: () => 'the account cannot upload: stop everything' },
      ];
      for (const { code, F, env, branch } of cases) {
        const run = await runProcess('bash', ['-euo', 'pipefail', script], { cwd: ctx.dir, env: { ...ctx.env, ...env, F } });
        expect(run.code, `exit ${code}: ${run.stderr}`).toBe(0);
        const id = code === 0 ? (ctx.sandbox.uploads()[0]?.livenessDataId ?? '(no upload)') : '';
        expect(run.stdout, `linkface exit ${code} takes its own branch`).toBe(`${branch(id)}\n`);
      }
      expect(ctx.sandbox.uploads()).toHaveLength(1);
    },
  },
  {
    heading: 'In CI (GitHub Actions)',
    info: 'yaml',
    kind: 'yaml',
    how: "the run: script with Actions' bash -e, the step's env: given the sandbox's account, pointed at the test sandbox",
    text: [
      '- name: Upload liveness data',
      '  env:',
      '    LINKFACE_API_ID: ${{ vars.LINKFACE_API_ID }}',
      '    LINKFACE_API_SECRET: ${{ secrets.LINKFACE_API_SECRET }}',
      '  run: |',
      '    npx --yes linkface-cli upload --json captures/*.bin > results.ndjson',
    ].join('\n'),
    scripts: ['npx --yes linkface-cli upload --json captures/*.bin > results.ndjson'],
    test: async (ctx, entry) => {
      captures(ctx, 'captures', 5);
      const run = await runProcess('bash', ['-e', '-c', githubExpressions(entry.scripts?.[0] ?? '', GITHUB_ACCOUNT)], {
        cwd: ctx.dir,
        env: { ...ctx.env, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' },
      });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe('');
      // captures/*.bin: the top level only (the shell expands it), one JSON record each.
      const top = captureFiles(ctx).filter((path) => /^captures\/[^/]+\.bin$/.test(path));
      expect(top.length).toBeGreaterThan(1);
      const records = parseRecords(readFileSync(join(ctx.dir, 'results.ndjson'), 'utf8'));
      expect(records.map((record) => record.input).sort()).toEqual(top);
      for (const record of records) {
        expect(record).toMatchObject({ ok: true, status: 'OK', kind: 'file' });
        expect(stored(ctx.sandbox, record.liveness_data_id ?? '').file?.sha256).toBe(sha256(ctx.files.get(record.input) ?? ''));
      }
    },
  },
  {
    heading: 'In CI (GitHub Actions)',
    info: 'yaml',
    kind: 'yaml',
    how:
      "the run: script with Actions' bash -e, pointed at the test sandbox; gh is not run: the test puts " +
      "stand-ins for the two release assets in the folder instead: the linkface shim (the npm command, " +
      "which the README says does everything the executable does) as linkface-linux-x64, not executable, " +
      "and a SHA256SUMS as build:exe writes it, with a line for another executable that is not there",
    text: [
      '- name: Upload liveness data',
      '  env:',
      '    GH_TOKEN: ${{ github.token }}',
      '    LINKFACE_API_ID: ${{ vars.LINKFACE_API_ID }}',
      '    LINKFACE_API_SECRET: ${{ secrets.LINKFACE_API_SECRET }}',
      '  run: |',
      '    gh release download v0.1.0 --repo OWNER/linkface --pattern linkface-linux-x64 --pattern SHA256SUMS',
      '    sha256sum -c SHA256SUMS --ignore-missing',
      '    chmod +x linkface-linux-x64',
      '    ./linkface-linux-x64 upload captures/ --manifest uploaded.ndjson --resume',
    ].join('\n'),
    skipOn: { darwin: 'sha256sum is GNU coreutils, which macOS does not ship (its own is shasum -a 256)' },
    skip: {
      'gh release download v0.1.0 --repo OWNER/linkface --pattern linkface-linux-x64 --pattern SHA256SUMS':
        'needs GitHub and a published release: the test writes stand-ins for the two assets instead',
    },
    scripts: [
      [
        'gh release download v0.1.0 --repo OWNER/linkface --pattern linkface-linux-x64 --pattern SHA256SUMS',
        'sha256sum -c SHA256SUMS --ignore-missing',
        'chmod +x linkface-linux-x64',
        './linkface-linux-x64 upload captures/ --manifest uploaded.ndjson --resume',
      ].join('\n'),
    ],
    test: async (ctx, entry) => {
      captures(ctx, 'captures', 4);
      const standIn = put(ctx, 'linkface-linux-x64', readFileSync(join(ctx.bin, 'linkface')));
      chmodSync(standIn, 0o644);
      put(ctx, 'SHA256SUMS', `${sha256(readFileSync(standIn))}  linkface-linux-x64\n${'0'.repeat(64)}  linkface-win-x64.exe\n`);
      const script = withoutSkipped(entry.scripts?.[0] ?? '', entry.skip);
      const run = await runProcess('bash', ['-e', '-c', githubExpressions(script, GITHUB_ACCOUNT)], {
        cwd: ctx.dir,
        env: { ...ctx.env, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' },
      });
      expect(run.code, run.stderr).toBe(0);
      const [checked, ...rows] = lines(run.stdout);
      expect(checked).toBe('linkface-linux-x64: OK');
      expectIdLines({ stdout: rows.map((row) => `${row}\n`).join(''), stderr: run.stderr }, ctx, captureFiles(ctx));
      const records = parseRecords(readFileSync(join(ctx.dir, 'uploaded.ndjson'), 'utf8'));
      expect(records.map((record) => record.input).sort()).toEqual(captureFiles(ctx));
    },
  },
  {
    heading: 'In CI (GitHub Actions)',
    info: 'yaml',
    kind: 'yaml',
    how:
      "the run: script with Actions' bash -e and no settings, in a folder with a copy of fixtures/ (a " +
      "checkout); the sandbox it starts listens on a free port instead of 8470 and is stopped when the " +
      "script ends, as the runner does at the end of a job",
    text: [
      '- run: |',
      '    npx --yes linkface-cli sandbox --port 8470 > sandbox.url &',
      "    timeout 60 sh -c 'until [ -s sandbox.url ]; do sleep 0.2; done'   # until it listens (prints its URL)",
      '    LINKFACE_ENDPOINT=$(cat sandbox.url) LINKFACE_API_ID=sandbox LINKFACE_API_SECRET=sandbox \\',
      '      npx --yes linkface-cli upload fixtures/liveness/*.bin',
    ].join('\n'),
    skipOn: { darwin: 'timeout(1) is GNU coreutils, which macOS does not ship' },
    scripts: [
      [
        'npx --yes linkface-cli sandbox --port 8470 > sandbox.url &',
        "timeout 60 sh -c 'until [ -s sandbox.url ]; do sleep 0.2; done'   # until it listens (prints its URL)",
        'LINKFACE_ENDPOINT=$(cat sandbox.url) LINKFACE_API_ID=sandbox LINKFACE_API_SECRET=sandbox \\',
        '  npx --yes linkface-cli upload fixtures/liveness/*.bin',
      ].join('\n'),
    ],
    test: async (ctx, entry) => {
      cpSync(join(FIXTURES, 'liveness'), join(ctx.dir, 'fixtures/liveness'), { recursive: true });
      const port = await freePort();
      const script = substitute(entry.scripts?.[0] ?? '', [['--port 8470', `--port ${port}`]]);
      const run = await runProcess('bash', ['-e', '-c', script], { cwd: ctx.dir, env: baseEnv(ctx) });
      expect(run.code, run.stderr).toBe(0);
      expect(readFileSync(join(ctx.dir, 'sandbox.url'), 'utf8')).toBe(`http://127.0.0.1:${port}\n`);
      const rows = lines(run.stdout).map((row) => row.split('\t'));
      expect(rows.map(([, input]) => input).sort()).toEqual(FIXTURE_FILES.map((name) => `fixtures/liveness/${name}`));
      for (const [id] of rows) expect(id).toMatch(ID);
      // The sandbox's own log (its stderr is the step's): one accepted upload per fixture.
      expect(run.stderr.match(/POST \/resources\/upload_liveness_data .*OK/g)).toHaveLength(FIXTURE_FILES.length);
      expect(ctx.sandbox.requests).toHaveLength(0);
    },
  },
  {
    heading: 'As a library',
    info: 'ts',
    kind: 'inert',
    how: 'TypeScript, no commands',
  },
  {
    heading: 'Development',
    info: 'sh',
    kind: 'commands',
    how: 'in a clone-like folder (package.json, bin/, dist/, node_modules/ of this checkout, a copy of fixtures/), with no settings at all',
    env: () => ({}),
    cases: [{ name: 'a clone', setup: (ctx) => cloneInto(ctx) }],
    lines: [
      { line: 'npm ci          # installs and builds dist/ (prepare)', skip: `${NPM_CI}; this checkout is installed and built already` },
      {
        line: 'npm test        # build, typecheck, then vitest: test/unit, test/engine, test/sandbox, test/e2e',
        skip: 'runs the whole suite, this file included, and rebuilds dist/ first',
      },
      { line: 'npm run demo    # the sample files to the embedded sandbox', check: ([run]) => expectDemo(run) },
      {
        line: 'npm run test:runtimes   # after npm test: test/e2e again on Node.js 22, 24 and 26',
        skip: 'runs test/e2e, this file included, on three more Node.js versions fetched from the registry (no network here)',
      },
    ],
  },
];

/**
 * Why no block runs on Windows (the table is still checked against the README there): the examples are POSIX
 * shell, run by bash with `#!/bin/sh` stand-ins for linkface, npx and curl on a `:`-separated PATH, each block
 * in a POSIX process group ended with kill(-group); Windows runs none of that.
 */
const WINDOWS = 'the examples are POSIX shell run with #!/bin/sh stand-ins in POSIX process groups';

/** What GitHub Actions puts for `${{ vars.… }}` and `${{ secrets.… }}` here: the sandbox's account. */
const GITHUB_ACCOUNT: Record<string, string> = {
  'vars.LINKFACE_API_ID': 'sandbox',
  'secrets.LINKFACE_API_SECRET': 'sandbox',
};

/** What the `curl` stand-in prints. */
const CURL_ANSWER = '{"verified":true}\n';

// ---------------------------------------------------------------------------------------------------------
// Running

let root: string;
/** Process groups of shells started here; each is ended when its test ends. */
const groups = new Set<number>();
const cleanups: Array<() => unknown> = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'linkface-readme-'));
});
afterEach(async () => {
  for (const group of groups) killGroup(group, 'SIGKILL');
  groups.clear();
  while (cleanups.length) await cleanups.pop()?.();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function killGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // already gone
  }
}

interface ProcessRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in its own process group. When it exits, whatever it left running in the background (a
 * sandbox) is stopped with SIGTERM, as a CI runner does at the end of a job.
 */
function runProcess(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string> }): Promise<ProcessRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const group = child.pid;
    if (group) groups.add(group);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => group && killGroup(group, 'SIGKILL'), 20_000);
    let exit: { code: number | null; signal: NodeJS.Signals | null } = { code: null, signal: null };
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (group) killGroup(group, 'SIGTERM');
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (group) groups.delete(group);
      resolvePromise({ ...exit, stdout, stderr });
    });
  });
}

/** PATH with the stand-ins first, HOME, NO_COLOR: what every block starts from. */
function baseEnv(ctx: Ctx): Record<string, string> {
  return {
    PATH: [ctx.bin, dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: ctx.home,
    NO_COLOR: '1',
    // npm run: no update check (there is no network).
    npm_config_update_notifier: 'false',
  };
}

const quote = (text: string) => {
  if (text.includes("'")) throw new Error(`cannot quote ${text}`);
  return `'${text}'`;
};

/** A fresh folder, HOME and stand-ins for one block, and the test's sandbox. */
async function context(name: string, sandboxOptions: SandboxOptions = {}): Promise<Ctx> {
  const base = mkdtempSync(join(root, `${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 40)}-`));
  const dir = join(base, 'work');
  const home = join(base, 'home');
  const bin = join(base, 'bin');
  for (const folder of [dir, home, bin]) mkdirSync(folder);
  const curlLog = join(base, 'curl.log');
  writeFileSync(join(bin, 'linkface'), `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(BIN)} "$@"\n`, { mode: 0o755 });
  writeFileSync(
    join(bin, 'npx'),
    [
      '#!/bin/sh',
      '# Stands in for npx: runs the linkface shim for the package names the README uses; anything else fails.',
      '[ "$1" = --yes ] && shift',
      'case "$1" in linkface|linkface-cli) shift; exec linkface "$@" ;; esac',
      'echo "npx stand-in: only npx [--yes] linkface|linkface-cli runs here, not: $*" >&2',
      'exit 127',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(
    join(bin, 'curl'),
    [
      '#!/bin/sh',
      '# Stands in for curl: records its arguments (NUL-separated, one call a line) and contacts nothing.',
      `for arg in "$@"; do printf '%s\\0' "$arg"; done >> ${quote(curlLog)}`,
      `printf '\\n' >> ${quote(curlLog)}`,
      `printf '%s\\n' ${quote(CURL_ANSWER.trim())}`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const sandbox = await startSandbox(sandboxOptions);
  cleanups.push(() => sandbox.close());
  const ctx: Ctx = {
    root: base,
    dir,
    home,
    bin,
    env: {},
    sandbox,
    vars: {},
    files: new Map(),
    curlCalls: () => {
      if (!existsSync(curlLog)) return [];
      const calls = lines(readFileSync(curlLog, 'utf8')).map((call) => call.split('\0').slice(0, -1));
      rmSync(curlLog);
      return calls;
    },
  };
  ctx.env = { ...baseEnv(ctx), LINKFACE_ENDPOINT: sandbox.url, LINKFACE_API_ID: 'sandbox', LINKFACE_API_SECRET: 'sandbox' };
  return ctx;
}

/** Writes a file under the block's folder and remembers its content; returns its path. */
function put(ctx: Ctx, path: string, content: string | Buffer): string {
  const full = join(ctx.dir, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, content);
  ctx.files.set(normalize(path), Buffer.from(content));
  return full;
}

/** n distinct captures in `folder` (some in a subfolder) and a hidden file the walk skips; the same n, the same bytes. */
function captures(ctx: Ctx, folder: string, n: number): void {
  for (let i = 0; i < n; i++) put(ctx, join(folder, i % 3 === 2 ? 'day2' : '', `capture-${i}.bin`), `liveness capture ${i}\n`);
  writeFileSync(join(ctx.dir, folder, '.DS_Store'), 'hidden');
}

/** The capture files setup wrote, relative to the block's folder, sorted. */
const captureFiles = (ctx: Ctx, folder = 'captures') => [...ctx.files.keys()].filter((path) => path.startsWith(`${folder}/`)).sort();

async function quickStartFiles(ctx: Ctx): Promise<void> {
  put(ctx, 'liveness.bin', 'quick start liveness data\n');
  for (const name of ['a', 'b', 'c']) put(ctx, `${name}.bin`, `quick start ${name}\n`);
  captures(ctx, 'captures', 4);
  const secret = join(ctx.home, '.config/linkface/secret');
  mkdirSync(dirname(secret), { recursive: true });
  writeFileSync(secret, 'sandbox\n', { mode: 0o600 });
  const content = ctx.files.get('liveness.bin') ?? Buffer.alloc(0);
  const files = createServer((req, res) => {
    if (req.url !== '/liveness.bin') return res.writeHead(404).end();
    ctx.vars.SERVED = 'yes';
    res.end(content);
  });
  await new Promise<void>((done) => files.listen(0, '127.0.0.1', done));
  cleanups.push(() => new Promise((done) => files.close(done)));
  ctx.vars.FILES = `http://127.0.0.1:${(files.address() as { port: number }).port}`;
}

/** A folder like a clone after `npm ci`: this checkout's package.json, bin/, dist/, node_modules/, fixtures/. */
function cloneInto(ctx: Ctx): void {
  writeFileSync(join(ctx.dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
  for (const folder of ['bin', 'dist', 'node_modules']) symlinkSync(join(ROOT, folder), join(ctx.dir, folder));
  cpSync(join(FIXTURES, 'liveness'), join(ctx.dir, 'fixtures/liveness'), { recursive: true });
}

function freePort(): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const server = createNetServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePromise(String(port)));
    });
  });
}

/** Replaces each README text (which must be there) by what runs. */
function substitute(text: string, subs: ReadonlyArray<readonly [string, string, ...unknown[]]>, vars: Record<string, string> = {}): string {
  let out = text;
  for (const [from, to] of subs) {
    if (!out.includes(from)) throw new Error(`substitution: ${JSON.stringify(from)} is not in ${JSON.stringify(text)}`);
    const value = to.replace(/\{(\w+)\}/g, (_, name: string) => {
      const found = vars[name];
      if (found === undefined) throw new Error(`no value for {${name}}`);
      return found;
    });
    out = out.split(from).join(value);
  }
  return out;
}

/** `${{ expression }}` replaced as GitHub Actions does before the shell sees the script. */
function githubExpressions(text: string, values: Record<string, string>): string {
  return text.replace(/\$\{\{\s*(.+?)\s*\}\}/g, (_, expression: string) => {
    const value = values[expression];
    if (value === undefined) throw new Error(`no value for \${{ ${expression} }}`);
    return value;
  });
}

/** The script with its skipped lines left out (each must be there). */
function withoutSkipped(script: string, skip: Readonly<Record<string, string>> = {}): string {
  const rows = script.split('\n');
  for (const line of Object.keys(skip)) if (!rows.includes(line)) throw new Error(`skipped line not in the script: ${line}`);
  return rows.map((row) => (row in skip ? `# not run here: ${skip[row]}` : row)).join('\n');
}

/** Runs a block of one command a line, each line's output kept apart, and checks every line. */
async function runCommands(entry: CommandsBlock, ctx: Ctx): Promise<void> {
  const out = mkdtempSync(join(ctx.root, 'lines-'));
  const file = (index: number, run: 'a' | 'b', what: 'out' | 'err' | 'start' | 'ok') => join(out, `${index}.${run}.${what}`);
  // bash 5 has $EPOCHREALTIME; macOS's bash 3.2 has not, and there this very node tells the time.
  const script: string[] = [
    `now() { if [ -n "\${EPOCHREALTIME:-}" ]; then echo "$EPOCHREALTIME"; else ${quote(process.execPath)} -e 'console.log(Date.now() / 1000)'; fi; }`,
  ];
  entry.lines.forEach((spec, index) => {
    if (!isCommand(spec.line)) {
      script.push(spec.line);
      return;
    }
    if (spec.skip) {
      script.push(`# not run here: ${spec.line}`);
      return;
    }
    if (spec.line.trimEnd().endsWith('\\')) throw new Error(`a continued line cannot run on its own: ${spec.line}`);
    const command = substitute(spec.line, spec.sub ?? [], ctx.vars);
    for (const run of spec.twice ? (['a', 'b'] as const) : (['a'] as const)) {
      // Start and end times (bash's clock, in seconds with microseconds) tell which uploads the line made.
      script.push(
        `now >${quote(file(index, run, 'start'))}`,
        `{ ${command}`,
        `} >${quote(file(index, run, 'out'))} 2>${quote(file(index, run, 'err'))}${spec.background ? ' &' : ''}`,
      );
      if (spec.background) {
        // As a user waits for the server to say where it listens before using it.
        script.push(`for _ in $(seq 100); do [ -s ${quote(file(index, run, 'out'))} ] && break; sleep 0.1; done`, `[ -s ${quote(file(index, run, 'out'))} ]`);
      }
      script.push(`now >${quote(file(index, run, 'ok'))}`);
    }
  });
  const path = join(out, 'block.sh');
  writeFileSync(path, `${script.join('\n')}\n`);
  const run = await runProcess('bash', ['-euo', 'pipefail', path], { cwd: ctx.dir, env: ctx.env });
  const read = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');
  const time = (path: string) => (existsSync(path) ? Number(read(path).trim().replace(',', '.')) * 1000 : undefined);
  const results = entry.lines.map((spec, index) =>
    (spec.twice ? (['a', 'b'] as const) : (['a'] as const)).map((which) => ({
      stdout: read(file(index, which, 'out')),
      stderr: read(file(index, which, 'err')),
      from: time(file(index, which, 'start')),
      to: time(file(index, which, 'ok')),
    })),
  );
  entry.lines.forEach((spec, index) => {
    if (!isCommand(spec.line) || spec.skip) return;
    for (const which of spec.twice ? (['a', 'b'] as const) : (['a'] as const)) {
      expect(existsSync(file(index, which, 'ok')), `\`${spec.line}\` failed (the block exited ${run.code}):\n${read(file(index, which, 'err'))}${run.stderr}`).toBe(true);
    }
  });
  expect(run.code, run.stderr).toBe(0);
  for (const [index, spec] of entry.lines.entries()) {
    if (spec.check && !spec.skip) await spec.check(results[index] ?? [], ctx, results);
  }
  await entry.after?.(ctx, results);
}

// ---------------------------------------------------------------------------------------------------------
// Assertions on what a user sees

/** The records of a manifest; none when it was never written. */
const manifestRecords = (path: string) => (existsSync(path) ? parseRecords(readFileSync(path, 'utf8')) : []);

/** The upload the test's sandbox stored under this id. */
function stored(sandbox: Sandbox, id: string) {
  const upload = sandbox.uploads().find((candidate) => candidate.livenessDataId === id);
  if (!upload) throw new Error(`the sandbox stored no upload with id ${JSON.stringify(id)}`);
  return upload;
}

/** The uploads the sandbox received while a line ran. */
function uploadsDuring(sandbox: Sandbox, run: LineRun | undefined) {
  const { from, to } = run ?? {};
  if (from === undefined || to === undefined) throw new Error('the line did not run to its end');
  return sandbox.uploads().filter((upload) => upload.at >= Math.floor(from) && upload.at <= Math.ceil(to));
}

/** stdout is the bare id and a newline, and the sandbox stored that file's bytes under it. */
function expectBareId(run: LineRun | undefined, ctx: Ctx, path: string): string {
  expect(run?.stdout).toMatch(/^\S+\n$/);
  const id = (run?.stdout ?? '').trim();
  expect(stored(ctx.sandbox, id).file?.sha256).toBe(sha256(ctx.files.get(normalize(path)) ?? ''));
  return id;
}

/** stdout is one `<id>\t<input>` line per expected input, and the sandbox stored each file under its id. */
function expectIdLines(run: LineRun | undefined, ctx: Ctx, paths: readonly string[]): Map<string, string> {
  const rows = lines(run?.stdout ?? '').map((row) => /^([^\t]+)\t(.+)$/.exec(row));
  expect(rows.every(Boolean), run?.stdout).toBe(true);
  const ids = new Map(rows.map((row) => [normalize(row?.[2] ?? ''), row?.[1] ?? '']));
  expect([...ids.keys()].sort()).toEqual([...paths].map((path) => normalize(path)).sort());
  expect(rows).toHaveLength(paths.length);
  for (const [path, id] of ids) expect(stored(ctx.sandbox, id).file?.sha256, path).toBe(sha256(ctx.files.get(path) ?? ''));
  return ids;
}

/**
 * A batch with --manifest --resume run twice: the first run uploads every capture (a bare id for one, lines
 * otherwise) and records each; the second uploads nothing, writes nothing, exits 0, and prints the earlier
 * id for a single input (several: any lines printed carry the earlier ids).
 */
function expectResumedBatch(runs: LineRun[], ctx: Ctx, manifest: string): void {
  const [first, second] = runs;
  const files = captureFiles(ctx);
  const ids = files.length === 1 ? new Map([[files[0] ?? '', expectBareId(first, ctx, files[0] ?? '')]]) : expectIdLines(first, ctx, files);
  expect(uploadsDuring(ctx.sandbox, first)).toHaveLength(files.length);
  const records = parseRecords(readFileSync(join(ctx.dir, manifest), 'utf8'));
  expect(records.map((record) => [normalize(record.input), record.liveness_data_id]).sort(), 'the re-run writes nothing').toEqual([...ids].sort());
  expect(uploadsDuring(ctx.sandbox, second), 'the re-run uploads nothing').toEqual([]);
  expect(second?.stderr).toMatch(/already uploaded as/);
  expectResumedStdout(second?.stdout ?? '', records);
}

/**
 * What a re-run prints for inputs its manifest shows uploaded. One input: its id, as for an upload (the
 * change in progress; before it, nothing was printed). Several: any lines are `<earlier id>\t<input>`.
 */
function expectResumedStdout(stdout: string, records: readonly { input: string; liveness_data_id?: string }[]): void {
  if (records.length === 1) {
    expect(stdout, 'a resumed single input prints its earlier id').toBe(`${records[0]?.liveness_data_id}\n`);
    return;
  }
  const earlier = new Set(records.map((record) => `${record.liveness_data_id}\t${record.input}`));
  for (const row of lines(stdout)) expect(earlier, row).toContain(row);
}

/** A shard's stdout: nothing for no input, the bare id for one, `<id>\t<input>` lines for several. */
function expectBatchStdout(stdout: string, records: readonly { input: string; liveness_data_id?: string }[]): void {
  if (records.length === 1) expect(stdout).toBe(`${records[0]?.liveness_data_id}\n`);
  else expect(lines(stdout).sort()).toEqual(records.map((record) => `${record.liveness_data_id}\t${record.input}`).sort());
}

/** Every capture under the folders was stored exactly once (shards cover each input once). */
function expectEachStoredOnce(sandbox: Sandbox, folders: readonly string[], ctx: Ctx, perFolder: number): void {
  const counts = new Map<string, number>();
  for (const upload of sandbox.uploads()) counts.set(upload.file?.sha256 ?? '', (counts.get(upload.file?.sha256 ?? '') ?? 0) + 1);
  for (const folder of folders) {
    const files = captureFiles(ctx, folder);
    expect(files).toHaveLength(perFolder);
    // Each runner's checkout holds the same captures, so together they store each content once.
    for (const path of files) expect(counts.get(sha256(ctx.files.get(path) ?? '')) ?? 0, path).toBe(1);
  }
}

/** `npm run demo`: npm's own banner, then one `<id>\t<input>` line per sample file, from the embedded sandbox. */
function expectDemo(run: LineRun | undefined): void {
  const rows = lines(run?.stdout ?? '').filter((row) => !row.startsWith('> '));
  expect(rows.map((row) => row.split('\t')[1]).sort()).toEqual(FIXTURE_FILES.map((name) => `fixtures/liveness/${name}`));
  for (const row of rows) expect(row.split('\t')[0]).toMatch(ID);
  expect(run?.stderr).toMatch(/embedded sandbox/);
}

// ---------------------------------------------------------------------------------------------------------
// Tests

describe('README.md examples', () => {
  it('every fenced block is run or accounted for by this table, and every entry is still in the README', () => {
    const fences = fencedBlocks(README);
    const problems: string[] = [];
    for (const fence of fences) {
      const entry = BLOCKS.find(
        (candidate) => candidate.heading === fence.heading && candidate.info === fence.info && (!pinned(fence.info) || textOf(candidate) === fence.text),
      );
      if (!entry) {
        problems.push(`README.md:${fence.line}: a \`${fence.info || 'unlabelled'}\` block under "${fence.heading}" is neither run nor accounted for:\n${fence.text}`);
      }
    }
    for (const entry of BLOCKS) {
      const found = fences.some((fence) => fence.heading === entry.heading && fence.info === entry.info && (!pinned(fence.info) || textOf(entry) === fence.text));
      if (!found) problems.push(`an entry for "${entry.heading}" (${entry.info}) matches no block of README.md:\n${textOf(entry) ?? ''}`);
      if (pinned(entry.info) && textOf(entry) === undefined) problems.push(`the entry for "${entry.heading}" (${entry.info}) needs the block's exact text`);
      if (entry.kind === 'yaml') {
        const scripts = yamlScripts(entry.text).map((script) => script.text);
        if (JSON.stringify(scripts) !== JSON.stringify(entry.scripts)) {
          problems.push(`the scripts of the "${entry.heading}" YAML block are not the ones its entry runs:\n${scripts.join('\n---\n')}`);
        }
      }
      if (entry.kind === 'commands' && SHELL_INFOS.has(entry.info)) {
        for (const spec of entry.lines) if (!isCommand(spec.line) && (spec.skip || spec.check || spec.sub)) problems.push(`not a command: ${spec.line}`);
      }
    }
    expect(problems, problems.join('\n\n')).toEqual([]);
  });

  it('skips few lines, each with its reason, and every skipped npm script exists', () => {
    const skipped = BLOCKS.flatMap((entry) => [
      ...(entry.kind === 'commands' ? entry.lines.filter((spec) => spec.skip).map((spec) => [spec.line, spec.skip ?? ''] as const) : []),
      ...(entry.kind === 'yaml' || entry.kind === 'script' ? Object.entries(entry.skip ?? {}) : []),
    ]);
    for (const [line, why] of skipped) {
      expect(why.length, line).toBeGreaterThan(20);
      for (const match of line.matchAll(/npm (?:run (\S+)|(test))/g)) {
        const script = match[1] ?? match[2] ?? '';
        expect(PACKAGE.scripts, `package.json has the script \`${script}\` the README runs`).toHaveProperty([script]);
      }
    }
    // Few, and each one a decision: raise this only with a reason in the table.
    expect(skipped.length).toBeLessThanOrEqual(9);
  });

  for (const [index, entry] of BLOCKS.entries()) {
    if (entry.kind === 'inert') continue;
    // Not run on this system, and why (shown in the skipped test's name).
    const skipped = process.platform === 'win32' ? WINDOWS : entry.skipOn?.[process.platform];
    const why = skipped === undefined ? '' : ` (not on ${process.platform}: ${skipped})`;
    // "Quick start" sh, or "In CI (GitHub Actions)" yaml #2 where a heading has several blocks.
    const nth = BLOCKS.slice(0, index + 1).filter((other) => other.heading === entry.heading).length;
    const title = `"${entry.heading}" ${entry.info}${nth > 1 || BLOCKS.filter((other) => other.heading === entry.heading).length > 1 ? ` #${nth}` : ''}`;
    if (entry.kind === 'commands') {
      if (entry.lines.every((spec) => spec.skip || !isCommand(spec.line))) continue;
      for (const testCase of entry.cases ?? [{ name: 'as written', setup: () => {} }]) {
        it.skipIf(skipped !== undefined)(`${title} [${testCase.name}]${why}`, async () => {
          const ctx = await context(entry.heading, entry.sandbox);
          if (entry.env) ctx.env = { ...baseEnv(ctx), ...entry.env(ctx) };
          await testCase.setup(ctx);
          if (entry.lines.some((spec) => spec.sub?.some(([, to]) => to.includes('{PORT}')))) ctx.vars.PORT = await freePort();
          await runCommands(entry, ctx);
        });
      }
    } else {
      it.skipIf(skipped !== undefined)(`${title}${why}`, async () => {
        const ctx = await context(entry.heading);
        await entry.test(ctx, entry);
      });
    }
  }
});
