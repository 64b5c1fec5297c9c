import { readCaFile } from '../api/dispatcher.js';
import { labelOf } from '../config/describe.js';
import type { Settings } from '../config/index.js';
import { planUploads, previewPlan, type UploadPlan, uploadPlan } from '../engine/batch.js';
import { ManifestStore } from '../engine/manifest.js';
import { failureBudget } from '../engine/stop.js';
import { InvalidInputsError } from '../errors.js';
import type { SettingName } from '../explain/statuses.js';
import { parseShard } from '../inputs/shard.js';
import { ExitCode, exitCodeFor } from './exit.js';
import { type Interruption, watchInterrupts } from './interrupts.js';
import { printDryRun, reportInvalidInputs } from './messages.js';
import { checkUploadOptions, type UploadCommandOptions } from './upload-options.js';
import { reportOptionsFrom, UploadReport } from './report.js';
import { loadSettings } from './settings.js';
import { openEndpoint } from './endpoint.js';
import { keepWebAssemblyAtBaselineTier } from './wasm-tier.js';
import { createTerminal, redact, type Terminal } from './terminal.js';

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
  if (!checkUploadOptions(args, options, settings, terminal)) return ExitCode.Usage;

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

/** Opens the endpoint (the account's, or the embedded sandbox with --sandbox), uploads the plan and reports it. */
async function uploadWithClient(
  plan: BatchPlan,
  options: UploadCommandOptions,
  settings: Settings,
  origins: Partial<Record<SettingName, string>>,
  ca: string | undefined,
  terminal: Terminal,
  interruption: Interruption,
): Promise<number> {
  const budget = options.maxFailures === undefined ? undefined : failureBudget(options.maxFailures, plan.jobs.length + plan.invalid.length);
  keepWebAssemblyAtBaselineTier();
  const endpoint = await openEndpoint(settings, options, origins, ca, terminal);
  try {
    const report = new UploadReport(terminal, reportOptionsFrom(options, origins, endpoint.client.uploadUrl));
    await report.begin(plan.jobs, plan.invalid.length);
    const batch = {
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
    };
    await uploadPlan(plan, endpoint.client, batch, { onAttempt: (event) => report.attempt(event), onResult: (result) => report.result(result) });
    report.finish(interruption.interrupted());
    return exitCodeFor(report.tally, interruption.interrupted());
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
