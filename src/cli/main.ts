import { Argument, Command, CommanderError, Option } from 'commander';
import { VERSION } from '../version.js';
import { ExitCode } from './exit.js';

/**
 * The command-line program. Only this file and what it loads lazily know about argv, the terminal and exit
 * codes; every command's work is imported when that command runs, so `--help` and `--version` stay fast.
 */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  // An error escaping every await (a stray callback, a rejected promise nobody holds) would otherwise be
  // printed by Node with the objects around it; it goes through the same redacted report as any crash.
  const crash = (error: unknown) => {
    void import('./crash.js').then(({ reportCrash }) => process.exit(reportCrash(error)));
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
  // `linkface --help | head -1`: the reader is gone, so stop quietly, as command-line tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // Windows may report the closed pipe as EOF rather than EPIPE.
    if (error.code === 'EPIPE' || error.code === 'EOF') process.exit(ExitCode.Ok);
    crash(error);
  });
  let exitCode: number = ExitCode.Ok;
  const program = buildProgram((code) => {
    exitCode = code;
  }, argv.slice(2));
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const { reportCrash } = await import('./crash.js');
    return reportCrash(error);
  }
  return exitCode;
}

type SetExit = (code: number) => void;

/** Each command's definition (its arguments, options and help), in the order help lists them. */
const COMMANDS = {
  upload: defineUpload,
  watch: defineWatch,
  explain: defineExplain,
  config: defineConfig,
  doctor: defineDoctor,
  sandbox: defineSandbox,
  completion: defineCompletion,
} satisfies Record<string, (program: Command, setExit: SetExit) => void>;
type CommandName = keyof typeof COMMANDS;
const ALL_COMMANDS = Object.keys(COMMANDS) as CommandName[];

/**
 * The commands to define for these arguments: the one being run alone, so that a command does not first build
 * every other command's options (commander has no lazy definitions); none for a bare `--version`; all of them
 * where they are listed or looked through: help, `completion`, a word that is no command (the suggestion), no
 * command at all. The root takes no option with a value, so the first word not starting with `-` is the
 * command. Measured on Node.js 26: `--version` takes 0.93x the time it took with every command defined
 * (README, "Start-up").
 */
export function commandsFor(args: readonly string[]): CommandName[] {
  const word = args.find((arg) => !arg.startsWith('-'));
  if (word === undefined) return args.some((arg) => arg === '-V' || arg === '--version') ? [] : ALL_COMMANDS;
  return word !== 'completion' && Object.hasOwn(COMMANDS, word) ? [word as CommandName] : ALL_COMMANDS;
}

function buildProgram(setExit: SetExit, args: readonly string[]): Command {
  const program = new Command('linkface')
    .description('Upload Linkface liveness data and print the liveness_data_id.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .exitOverride()
    .showSuggestionAfterError()
    .configureOutput({ outputError: (text, write) => write(text) })
    .addHelpText(
      'after',
      `
Examples:
  $ linkface upload ./liveness.bin                 prints the liveness_data_id
  $ ID=$(linkface upload "$FILE") || exit $?       in a shell script
  $ linkface upload --sandbox fixtures/liveness    try it against the embedded sandbox
  $ linkface watch ./incoming/ --manifest m.ndjson  upload each file dropped into a folder, once
  $ linkface explain RATE_LIMIT_EXCEEDED           what an error code means and what to do
  $ linkface doctor                                why an upload cannot reach the endpoint

Credentials: --api-id, LINKFACE_API_ID / LINKFACE_API_SECRET(_FILE), or an rc file (.linkfacerc).
Exit codes: 0 uploaded, 1 some uploads failed, 2 usage or input error, 3 account cannot upload, 130 interrupted.`,
    );

  for (const name of commandsFor(args)) COMMANDS[name](program, setExit);
  return program;
}

function defineUpload(program: Command, setExit: SetExit): void {
  const upload = program
    .command('upload')
    .description('upload liveness files or URLs and print each liveness_data_id')
    .argument('[input...]', "files, directories, quoted glob patterns, http(s) URLs, or '-' for standard input");
  addSettingsOptions(upload)
    .option('--files-from <path>', "read more inputs from a file, one a line ('-' for standard input)", collect, [])
    .option('--include <glob>', 'only upload walked or globbed files that match (repeatable)', collect, [])
    .option('--exclude <glob>', 'skip walked or globbed files that match (repeatable)', collect, [])
    .option('--manifest <file>', 'append one result record (NDJSON) per finished input to this file')
    .option('--resume', 'skip inputs the manifest shows uploaded (by SHA-256 for files, by URL for URLs)')
    .option('--dry-run', 'check every input and print what would be uploaded or skipped; send nothing')
    .option('--shard <i/n|auto>', 'take only shard i of n (stable, by input path), to split one batch across machines; auto reads the CI\'s variables')
    .option('--allow-http', 'allow a plain http:// endpoint that is not loopback (the secret travels in clear)')
    .option('--sandbox', 'upload to an embedded sandbox started in-process: no account, no network')
    .option('--skip-invalid', 'report invalid inputs and upload the rest instead of stopping')
    .option('--max-failures <n|p%>', 'once more inputs than this failed (a number, or a share of the batch), start no new upload')
    .option('--json', 'print one JSON object per input on stdout (NDJSON)')
    .option('-q, --quiet', 'no progress or summary; errors still go to stderr')
    .option('-v, --verbose', 'one stderr line per HTTP attempt (secrets redacted)')
    .option('--no-color', 'no colour in messages')
    .addOption(langOption())
    .addHelpText(
      'after',
      `
Examples:
  $ linkface upload ./liveness.bin
  $ linkface upload a.bin b.bin https://example.com/c.bin     prints <id><TAB><input> per upload
  $ linkface upload ./captures/ --manifest uploaded.ndjson --resume
  $ linkface upload 'captures/**/*.bin' --exclude '*.tmp' -c 16
  $ find . -name '*.bin' | linkface upload --files-from -
  $ linkface upload ./captures/ --shard 2/4 --manifest shard-2.ndjson
  $ cat liveness.bin | linkface upload -
  $ linkface upload --json ./liveness.bin | jq -r .liveness_data_id
  $ LINKFACE_API_SECRET_FILE=/run/secrets/linkface linkface upload --api-id ID ./liveness.bin`,
    )
    .action(async (inputs: string[], options: Record<string, unknown>) => {
      const { runUploadCommand } = await import('./upload.js');
      setExit(await runUploadCommand(inputs, options));
    });
}

function defineWatch(program: Command, setExit: SetExit): void {
  const watch = program
    .command('watch')
    .description('upload each file that lands in a folder once it is complete, and print its liveness_data_id; runs until stopped')
    .argument('<dir>', 'the folder to watch (recursively)');
  addSettingsOptions(watch)
    .option('--manifest <file>', 'required: where every result is recorded, so that a restart sends nothing twice and misses nothing')
    .option('--settle <duration>', 'a file unchanged (size and modification time) this long is complete; renamed-in files are taken at once', '2s')
    .option('--rescan <duration>', 'list the whole folder this often, besides file-system events', '30s')
    .option('--on-success <action>', 'after an upload: keep, delete or move:<dir> (with <name>.json beside the file)', 'keep')
    .option('--on-failure <action>', 'after a failed upload: keep (not taken again until it changes) or move:<dir>', 'keep')
    .option('--include <glob>', 'only take files that match (repeatable)', collect, [])
    .option('--exclude <glob>', 'never take files that match (repeatable)', collect, [])
    .option('--grace <duration>', 'on SIGTERM/Ctrl-C, how long uploads in flight may take to finish', '10s')
    .option('--status <duration>', 'a status line this often on stderr when it is not a terminal', '1m')
    .option('--allow-http', 'allow a plain http:// endpoint that is not loopback (the secret travels in clear)')
    .option('--sandbox', 'upload to an embedded sandbox started in-process: no account, no network')
    .option('--json', 'print one JSON object per file on stdout (NDJSON)')
    .option('-q, --quiet', 'no status lines; errors still go to stderr')
    .option('-v, --verbose', 'one stderr line per HTTP attempt (secrets redacted)')
    .option('--no-color', 'no colour in messages')
    .addOption(langOption())
    .addHelpText(
      'after',
      `
Hidden and temporary names are never taken: .*, *.tmp, *.part, *.partial, *.crdownload, ~*.
Account errors (wrong or expired key, no permission, quota) pause uploading and re-check with backoff.
SIGTERM or Ctrl-C: nothing new starts, uploads in flight finish (--grace), exit 0.

Examples:
  $ linkface watch ./incoming/ --manifest uploaded.ndjson
  $ linkface watch ./incoming/ --manifest uploaded.ndjson --on-success move:./uploaded/ --on-failure move:./failed/
  $ linkface watch /data/in --manifest /data/uploaded.ndjson --on-success delete --include '*.bin' --json`,
    )
    .action(async (dir: string, options: Record<string, unknown>) => {
      const { runWatchCommand } = await import('./watch.js');
      setExit(await runWatchCommand(dir, options as unknown as import('./watch.js').WatchCommandOptions));
    });
}

function defineExplain(program: Command, setExit: SetExit): void {
  program
    .command('explain')
    .description('explain an error code and what to do about it; without a code, list them all')
    .argument('[status]', 'an error code, e.g. RATE_LIMIT_EXCEEDED')
    .addOption(langOption())
    .addHelpText('after', '\nExamples:\n  $ linkface explain\n  $ linkface explain OUT_OF_QUOTA\n  $ linkface explain --lang zh UNAUTHORIZED')
    .action(async (status: string | undefined, options: { lang: 'en' | 'zh' }) => {
      const { runExplainCommand } = await import('./explain.js');
      setExit(runExplainCommand(status, options));
    });
}

function defineConfig(program: Command, setExit: SetExit): void {
  const config = program.command('config').description('inspect the settings linkface uses');
  addSettingsOptions(
    config
      .command('show')
      .description('print the settings in force and where each came from (the secret redacted)')
      .addHelpText('after', '\nExamples:\n  $ linkface config show\n  $ linkface config show --profile ci'),
  ).action(async (options: Record<string, unknown>) => {
    const { runConfigShowCommand } = await import('./config-show.js');
    setExit(await runConfigShowCommand(options));
  });
}

function defineDoctor(program: Command, setExit: SetExit): void {
  const doctorCommand = program
    .command('doctor')
    .description('check the whole path to the endpoint (settings, proxy, DNS, TCP, TLS, clock, credentials) and say what to fix');
  addSettingsOptions(doctorCommand)
    .option('--allow-http', 'allow a plain http:// endpoint that is not loopback (as for upload)')
    .option('--json', 'print the checks as one JSON object on stdout')
    .addHelpText(
      'after',
      `
Examples:
  $ linkface doctor
  $ linkface doctor --profile staging --ca corp-ca.pem
  $ HTTPS_PROXY=http://proxy.example.com:3128 linkface doctor
  $ linkface doctor --json | jq '.checks[] | select(.status == "fail")'

It sends one request with the credentials and no file: it uploads nothing. The whole run takes at most about
10 s. Exit codes: 0 no check failed, 1 some check failed, 2 usage error.`,
    )
    .action(async (options: Record<string, unknown>) => {
      const { runDoctorCommand } = await import('./doctor.js');
      setExit(await runDoctorCommand(options));
    });
}

function defineSandbox(program: Command, setExit: SetExit): void {
  program
    .command('sandbox')
    .description('run the local sandbox server (a contract emulator of the endpoint) in the foreground')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8470')
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--api-id <id>', 'the api id the sandbox accepts', 'sandbox')
    .option('--api-secret <secret>', 'the api secret the sandbox accepts', 'sandbox')
    .option('--latency <ms>', 'answer each request this many milliseconds after it arrived', '0')
    .option('--fail-rate <0..1>', 'share of requests answered 500 INTERNAL_ERROR', '0')
    .option('--rate-limit <per-second>', 'answer 403 RATE_LIMIT_EXCEEDED (with Retry-After) above this rate')
    .option('--reset-rate <0..1>', 'share of requests whose connection is dropped without an answer', '0')
    .addOption(new Option('--id-field <field>', 'which id field success answers carry').choices(['liveness_data_id', 'image_id', 'both']).default('liveness_data_id'))
    .addHelpText(
      'after',
      `
Examples:
  $ linkface sandbox --port 8470
  $ LINKFACE_ENDPOINT=http://127.0.0.1:8470 LINKFACE_API_ID=sandbox LINKFACE_API_SECRET=sandbox linkface upload f.bin
  $ linkface sandbox --latency 50 --fail-rate 0.1 --rate-limit 20

A file whose content starts with LINKFACE-SANDBOX-STATUS:<CODE> is answered with that error code.`,
    )
    .action(async (options: Record<string, string>) => {
      const { runSandboxCommand } = await import('./sandbox.js');
      setExit(await runSandboxCommand(options));
    });
}

function defineCompletion(program: Command, setExit: SetExit): void {
  program
    .command('completion')
    .description('print a shell completion script for commands and flags')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      `
Examples:
  $ source <(linkface completion bash)                 # in ~/.bashrc
  $ linkface completion zsh > "\${fpath[1]}/_linkface"
  $ linkface completion fish > ~/.config/fish/completions/linkface.fish`,
    )
    .action(async (shell: 'bash' | 'zsh' | 'fish') => {
      const { runCompletionCommand } = await import('./completion.js');
      setExit(runCompletionCommand(shell, program));
    });
}

/** The flags every command that resolves settings shares (SPEC "Credentials and settings"). */
function addSettingsOptions(command: Command): Command {
  return command
    .option('--api-id <id>', 'API account (env LINKFACE_API_ID, rc apiId)')
    .option('--api-secret <secret>', 'API key; visible to other users in the process list, prefer LINKFACE_API_SECRET_FILE')
    .option('--endpoint <url>', 'service root (env LINKFACE_ENDPOINT; default https://cloudapi.linkface.cn)')
    .option('--profile <name>', 'use profiles.<name> from the rc files (env LINKFACE_PROFILE)')
    .option('--config <path>', 'read this rc file instead of searching (env LINKFACE_CONFIG)')
    .option('-c, --concurrency <n>', 'uploads in flight at once (env LINKFACE_CONCURRENCY; default 4)')
    .option('--retries <n>', 'retries after the first attempt (env LINKFACE_RETRIES; default 3)')
    .option('--timeout <seconds>', 'per-attempt timeout (env LINKFACE_TIMEOUT; default 30)')
    .option('--max-size <size>', 'largest file accepted: 5MB, 512KB or bytes (default 5MB)')
    .option('--ca <file>', 'PEM file of extra certificate authorities to trust, e.g. a private CA (env LINKFACE_CA_FILE, rc caFile)');
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function langOption(): Option {
  return new Option('--lang <lang>', 'language of explanations').choices(['en', 'zh']).default('en');
}
