import { setMaxListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { EndpointClient } from '../api/client.js';
import { readCaFile } from '../api/dispatcher.js';
import type { Settings, SettingsFlags } from '../config/index.js';
import { ManifestStore } from '../engine/manifest.js';
import { planUploads, previewPlan, type UploadPlan, uploadPlan } from '../engine/batch.js';
import { InvalidInputsError, type InputProblem, UsageError } from '../errors.js';
import type { Lang, SettingName } from '../explain/statuses.js';
import { parseShard } from '../inputs/shard.js';
import { formatBytes } from '../units.js';
import { ExitCode, exitCodeFor } from './exit.js';
import { UploadReport } from './report.js';
import { shown, shownName } from '../untrusted.js';
import { createTerminal, redact, type Terminal } from './terminal.js';
import { labelOf } from '../config/describe.js';
import { loadSettings } from './settings.js';
import { failureBudget } from '../engine/stop.js';

export interface UploadCommandOptions extends SettingsFlags {
  filesFrom?: string[];
  include?: string[];
  exclude?: string[];
  manifest?: string;
  resume?: boolean;
  dryRun?: boolean;
  shard?: string;
  allowHttp?: boolean;
  ca?: string;
  sandbox?: boolean;
  skipInvalid?: boolean;
  maxFailures?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  lang?: Lang;
}

/** Up to this many uploads, a quick exit matters more than the fastest HTTP parser; see below. */
const FEW_UPLOADS = 32;

/**
 * undici parses HTTP with a WebAssembly module. V8 recompiles it with its optimizing tier in the background,
 * and a process waits for that before it can exit: some 80 ms added to a run of one or a few uploads, which
 * scripts make thousands of times a day. For those, this process keeps WebAssembly at the baseline tier (set
 * before the first request compiles the parser). Large batches keep the faster parser: there it is worth it.
 */
function keepWebAssemblyAtBaselineTier(): void {
  setFlagsFromString('--liftoff-only');
}

/** How long uploads in flight may go on after Ctrl-C / SIGTERM before they are abandoned. */
const GRACE_MS = 2000;

/** What a run will do, and the manifest (--manifest): where results go and, with --resume, what was uploaded before. */
interface BatchPlan extends UploadPlan {
  readonly store?: ManifestStore;
}

/** `linkface upload`: settings → inputs (expanded, checked, resumed) → engine → report → exit code. */
export async function runUploadCommand(args: string[], options: UploadCommandOptions): Promise<number> {
  const terminal = await createTerminal(options);
  // Watched from the start: a signal while a large batch is still being checked exits 130 too, with nothing sent.
  const interruption = watchInterrupts(terminal);
  try {
    return await uploadCommand(args, options, terminal, interruption);
  } finally {
    interruption.dispose();
  }
}

type Interruption = ReturnType<typeof watchInterrupts>;

async function uploadCommand(args: string[], options: UploadCommandOptions, terminal: Terminal, interruption: Interruption): Promise<number> {
  // With --sandbox the configured secret is not sent anywhere, so nothing can echo it back; redacting it would
  // only blank ordinary words in output when it is short (the sandbox's own `sandbox`, say).
  const { settings, origins } = await loadSettings(options, terminal, { redactSecret: !options.sandbox });
  if (options.resume && !options.manifest) {
    throw new UsageError('--resume needs --manifest <file>: the manifest is where linkface records what it uploaded.');
  }
  // Checked before anything is planned: a mistyped budget is a usage error, as a bad flag is.
  if (options.maxFailures !== undefined) failureBudget(options.maxFailures, 0);
  if (args.length === 0 && !options.filesFrom?.length) {
    throw new UsageError('No input given.', ['Name files, directories, glob patterns or URLs, or use --files-from.']);
  }
  const needsAccount = !options.sandbox && !options.dryRun;
  if (needsAccount && (!settings.apiId || !settings.apiSecret)) {
    missingCredentials(terminal, !settings.apiId, !settings.apiSecret);
    return ExitCode.Usage;
  }

  // Extra CAs to trust: read and checked once, before anything is planned or sent.
  const ca = settings.caFile && readCaFile(settings.caFile.value, labelOf(settings.caFile.source));

  const plan = await planBatch(args, options, settings, terminal);
  if (interruption.interrupted()) return ExitCode.Interrupted;
  if (!plan) return ExitCode.Usage;
  try {
    if (options.dryRun) return await printDryRun(plan, options, terminal);
    return await uploadWithClient(plan, options, settings, origins, ca, terminal, interruption);
  } finally {
    plan.store?.close();
  }
}

/** Starts the sandbox if asked, opens the connection pool, and uploads the plan. */
async function uploadWithClient(
  plan: BatchPlan,
  options: UploadCommandOptions,
  settings: Settings,
  origins: Partial<Record<SettingName, string>>,
  ca: string | undefined,
  terminal: Terminal,
  interruption: Interruption,
): Promise<number> {
  if (plan.jobs.length <= FEW_UPLOADS) keepWebAssemblyAtBaselineTier();

  let endpoint = settings.endpoint.value;
  let apiId = settings.apiId?.value as string;
  let apiSecret = settings.apiSecret?.value as string;
  let sandbox: { url: string; close(): Promise<void> } | undefined;
  if (options.sandbox) {
    const { startSandbox } = await import('../sandbox/index.js');
    sandbox = await startSandbox();
    ({ url: endpoint } = sandbox);
    apiId = apiSecret = 'sandbox';
    origins.endpoint = origins.apiId = origins.apiSecret = 'the embedded sandbox (--sandbox)';
    if (!options.json && !options.quiet) {
      terminal.err(terminal.color.dim(`Using the embedded sandbox at ${sandbox.url} (no account, nothing leaves this machine)`));
    }
  }
  try {
    const client = new EndpointClient({
      endpoint,
      apiId,
      apiSecret,
      timeoutMs: settings.timeout.value * 1000,
      allowHttp: options.allowHttp,
      connections: settings.concurrency.value,
      ca,
      // The embedded sandbox is in this process: a proxy could not reach it.
      direct: Boolean(sandbox),
    });
    const report = new UploadReport(terminal, {
      json: Boolean(options.json),
      quiet: Boolean(options.quiet),
      verbose: Boolean(options.verbose),
      lang: options.lang ?? 'en',
      origins,
      host: new URL(client.uploadUrl).host,
    });
    try {
      return await uploadAll(plan, client, settings, report, interruption, options.maxFailures);
    } finally {
      await client.close();
    }
  } finally {
    await sandbox?.close();
  }
}

/**
 * Expands the arguments and checks every input (nothing is sent when one is invalid, unless --skip-invalid),
 * then opens the manifest. Undefined when the run must stop (exit 2).
 */
async function planBatch(
  args: string[],
  options: UploadCommandOptions,
  settings: Settings,
  terminal: Terminal,
): Promise<BatchPlan | undefined> {
  let plan: UploadPlan;
  try {
    plan = await planUploads(args, {
      include: options.include,
      exclude: options.exclude,
      filesFrom: options.filesFrom,
      shard: options.shard ? parseShard(options.shard) : undefined,
      maxSizeBytes: settings.maxSize.value,
      skipInvalid: options.skipInvalid,
    });
  } catch (error) {
    if (!(error instanceof InvalidInputsError)) throw error;
    reportInvalidInputs(terminal, error.problems);
    return undefined;
  }
  if (!options.manifest) return plan;
  // Opened once the inputs are known to be good: a run that uploads nothing leaves no manifest behind.
  const store = await ManifestStore.open(options.manifest, { resume: options.resume, write: !options.dryRun, redact });
  if (store.unreadableLines > 0) {
    terminal.err(terminal.color.yellow(`warning: ${store.unreadableLines} line(s) of ${options.manifest} are not result records (or hold an id that cannot be printed) and were ignored.`));
  }
  return { ...plan, store };
}

async function uploadAll(
  plan: BatchPlan,
  client: EndpointClient,
  settings: Settings,
  report: UploadReport,
  interruption: Interruption,
  maxFailures: string | undefined,
): Promise<number> {
  const budget = maxFailures === undefined ? undefined : failureBudget(maxFailures, plan.jobs.length + plan.invalid.length);
  await report.begin(plan.jobs, plan.invalid.length);
  await uploadPlan(
    plan,
    client,
    {
      retries: settings.retries.value,
      concurrency: settings.concurrency.value,
      stopSignal: interruption.stop,
      cancelSignal: interruption.cancel,
      // Each result is written to the manifest (the store), then printed and counted as it comes: no list is kept.
      keepResults: false,
      // The report reads each attempt's job as it happens and keeps nothing of it.
      reuseFileBuffers: true,
      store: plan.store,
      maxFailures: budget,
    },
    {
      onAttempt: (event) => report.attempt(event),
      onResult: (result) => report.result(result),
    },
  );
  report.finish(interruption.interrupted());
  return exitCodeFor(report.tally, interruption.interrupted());
}

/** --dry-run: what would be uploaded and what skipped, on stdout; nothing is sent. */
async function printDryRun(plan: BatchPlan, options: UploadCommandOptions, terminal: Terminal): Promise<number> {
  const { toUpload, skipped } = await previewPlan(plan, options.resume ? plan.store : undefined);
  if (options.json) {
    for (const job of toUpload) {
      terminal.outRecord({ input: job.input, kind: job.kind, sha256: job.sha256, bytes: job.bytes, action: 'upload' });
    }
    for (const r of skipped) {
      terminal.outRecord({ input: r.input, kind: r.kind, sha256: r.sha256, bytes: r.bytes, action: 'skip', reason: r.reason });
    }
  } else {
    for (const job of toUpload) terminal.out(`upload\t${shownName(job.input)}`);
    for (const r of skipped) terminal.out(`skip\t${shownName(r.input)}\t${shown(r.reason ?? '')}`);
  }
  if (!options.quiet) {
    const bytes = toUpload.reduce((sum, job) => sum + (job.bytes ?? 0), 0);
    terminal.err(`Dry run: ${toUpload.length} would be uploaded (${formatBytes(bytes)}), ${skipped.length} skipped; nothing was sent.`);
  }
  return ExitCode.Ok;
}

/**
 * The signals that stop a run as Ctrl-C does: SIGTERM (a service manager, `kill`), SIGHUP (the terminal or
 * console closed: Windows kills the process about 10 s later) and, on Windows, SIGBREAK (Ctrl-Break).
 */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', ...(process.platform === 'win32' ? (['SIGBREAK'] as const) : [])];

/**
 * First Ctrl-C / SIGTERM: start nothing new, let uploads in flight finish for up to 2 s, then abandon them.
 * A second one exits at once.
 */
function watchInterrupts(terminal: Terminal) {
  const stop = new AbortController();
  const cancel = new AbortController();
  // Each upload in flight listens on these; a batch has many more than Node's default warning level.
  setMaxListeners(0, stop.signal, cancel.signal);
  let timer: NodeJS.Timeout | undefined;
  const onSignal = () => {
    if (stop.signal.aborted) {
      terminal.err('linkface: interrupted again; exiting now.');
      process.exit(ExitCode.Interrupted);
    }
    terminal.err(`linkface: interrupted; finishing uploads in flight (at most ${GRACE_MS / 1000} s). Press Ctrl-C again to quit at once.`);
    stop.abort();
    timer = setTimeout(() => cancel.abort(), GRACE_MS);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    stop: stop.signal,
    cancel: cancel.signal,
    interrupted: () => stop.signal.aborted,
    dispose: () => {
      clearTimeout(timer);
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
    },
  };
}

function missingCredentials(terminal: Terminal, noId: boolean, noSecret: boolean): void {
  const missing = noId && noSecret ? 'the API id and secret are' : noId ? 'the API id is' : 'the API secret is';
  terminal.err(
    [
      terminal.color.red(`linkface: ${missing} not set; both are needed to upload.`),
      'Give them in one of three ways:',
      '  1. flags:        --api-id ID (the secret through the environment or a file: --api-secret shows in the process list)',
      '  2. environment:  LINKFACE_API_ID=ID and LINKFACE_API_SECRET=SECRET (or LINKFACE_API_SECRET_FILE=/path/to/secret)',
      '  3. an rc file:   .linkfacerc in this project or your home folder, with mode 600:',
      '                   {"apiId": "ID", "apiSecret": "SECRET"}   (see .linkfacerc.example)',
      'To try linkface without an account: linkface upload --sandbox FILE',
    ].join('\n'),
  );
}

function reportInvalidInputs(terminal: Terminal, problems: readonly InputProblem[]): void {
  const { color } = terminal;
  const noun = problems.length === 1 ? 'input is' : 'inputs are';
  terminal.err(color.red(`linkface: ${problems.length} ${noun} not valid; nothing was uploaded.`));
  for (const problem of problems) terminal.err(`  ${shownName(problem.input)}: ${shown(problem.reason)}`);
  terminal.err('Fix them, or pass --skip-invalid to upload the rest.');
}
