import { setFlagsFromString } from 'node:v8';
import type { EndpointClient } from '../api/client.js';
import { readCaFile } from '../api/dispatcher.js';
import { labelOf } from '../config/describe.js';
import type { Settings, SettingsFlags } from '../config/index.js';
import { planUploads, previewPlan, type UploadPlan, uploadPlan } from '../engine/batch.js';
import { ManifestStore } from '../engine/manifest.js';
import { failureBudget } from '../engine/stop.js';
import { InvalidInputsError, UsageError } from '../errors.js';
import type { Lang, SettingName } from '../explain/statuses.js';
import { parseShard } from '../inputs/shard.js';
import { ExitCode, exitCodeFor } from './exit.js';
import { type Interruption, watchInterrupts } from './interrupts.js';
import { missingCredentials, printDryRun, reportInvalidInputs } from './messages.js';
import { reportOptionsFrom, UploadReport } from './report.js';
import { loadSettings } from './settings.js';
import { openEndpoint } from './endpoint.js';
import { createTerminal, redact, type Terminal } from './terminal.js';

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
    if (options.dryRun) {
      printDryRun(await previewPlan(plan, options.resume ? plan.store : undefined), options, terminal);
      return ExitCode.Ok;
    }
    return await uploadWithClient(plan, options, settings, origins, ca, terminal, interruption);
  } finally {
    plan.store?.close();
  }
}

/** Opens the endpoint (the account's, or the embedded sandbox with --sandbox) and uploads the plan. */
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
  const endpoint = await openEndpoint(settings, options, origins, ca, terminal);
  try {
    const report = new UploadReport(terminal, reportOptionsFrom(options, origins, endpoint.client.uploadUrl));
    return await uploadAll(plan, endpoint.client, settings, report, interruption, options.maxFailures);
  } finally {
    await endpoint.close();
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
