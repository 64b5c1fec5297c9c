import { readCaFile } from '../api/dispatcher.js';
import { labelOf } from '../config/describe.js';
import type { SettingsFlags } from '../config/index.js';
import { ManifestStore } from '../engine/manifest.js';
import type { AccountPauseEvent } from '../engine/pause.js';
import { UsageError } from '../errors.js';
import { explainFailure } from '../explain/render.js';
import type { Lang } from '../explain/statuses.js';
import { formatDuration, parseDuration } from '../units.js';
import { shown, shownName } from '../untrusted.js';
import { parseAfterUpload } from '../watch/actions.js';
import { FolderWatch, type WatchResult } from '../watch/watch.js';
import { openEndpoint } from './endpoint.js';
import { ExitCode } from './exit.js';
import { watchInterrupts } from './interrupts.js';
import { missingCredentials } from './messages.js';
import { reportOptionsFrom, UploadReport } from './report.js';
import { loadSettings } from './settings.js';
import { createTerminal, redact, type Terminal } from './terminal.js';

export interface WatchCommandOptions extends SettingsFlags {
  manifest?: string;
  settle: string;
  rescan: string;
  onSuccess: string;
  onFailure: string;
  include?: string[];
  exclude?: string[];
  grace: string;
  status: string;
  allowHttp?: boolean;
  ca?: string;
  sandbox?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  lang?: Lang;
}

/** A wall-clock time for people, in the machine's time zone: 14:03:27. */
const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

function duration(text: string, flag: string, least = 0): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms < least) {
    throw new UsageError(`${flag} must be a duration such as 2s, 500ms or 1m${least ? ` (at least ${formatDuration(least)})` : ''}, got '${text}'.`);
  }
  return ms;
}

/**
 * `linkface watch <dir>`: settings → manifest (what earlier runs uploaded) → the watch, rendered as it goes →
 * exit 0 once stopped by a signal (a stopped service is not a failure).
 */
export async function runWatchCommand(dir: string, options: WatchCommandOptions): Promise<number> {
  const terminal = await createTerminal(options);
  const graceMs = duration(options.grace, '--grace');
  const interruption = watchInterrupts(terminal, { graceMs, stopping: 'stopping: nothing new starts' });
  try {
    return await watchCommand(dir, options, terminal, interruption);
  } finally {
    interruption.dispose();
  }
}

async function watchCommand(dir: string, options: WatchCommandOptions, terminal: Terminal, interruption: ReturnType<typeof watchInterrupts>): Promise<number> {
  const { settings, origins } = await loadSettings(options, terminal, { redactSecret: !options.sandbox });
  if (!options.manifest) {
    throw new UsageError('linkface watch needs --manifest <file>: it records every upload there, so that a restart sends nothing twice and misses nothing.');
  }
  const settleMs = duration(options.settle, '--settle');
  const rescanMs = duration(options.rescan, '--rescan', 100);
  const statusMs = duration(options.status, '--status', 1000);
  const onSuccess = parseAfterUpload(options.onSuccess, '--on-success', true);
  const onFailure = parseAfterUpload(options.onFailure, '--on-failure', false) as 'keep' | { moveTo: string };
  if (!options.sandbox && (!settings.apiId || !settings.apiSecret)) {
    missingCredentials(terminal, !settings.apiId, !settings.apiSecret);
    return ExitCode.Usage;
  }
  const ca = settings.caFile && readCaFile(settings.caFile.value, labelOf(settings.caFile.source));
  const store = await ManifestStore.open(options.manifest, { resume: true, journal: true, redact });
  try {
    warnAboutManifest(terminal, store);
    const endpoint = await openEndpoint(settings, options, origins, ca, terminal);
    try {
      return await watchWith(dir, options, { settleMs, rescanMs, statusMs, onSuccess, onFailure }, store, endpoint.client, settings, origins, terminal, interruption);
    } finally {
      await endpoint.close();
    }
  } finally {
    store.close();
  }
}

/** Lines the manifest could not use, and uploads an earlier run sent and never recorded an answer for. */
function warnAboutManifest(terminal: Terminal, store: ManifestStore): void {
  const { yellow } = terminal.color;
  if (store.unreadableLines > 0) {
    terminal.err(yellow(`warning: ${store.unreadableLines} line(s) of ${store.path} are not result records (or hold an id that cannot be printed) and were ignored.`));
  }
  if (store.unfinished.length === 0) return;
  const n = store.unfinished.length;
  terminal.err(
    yellow(
      `warning: ${n} upload${n === 1 ? ' was' : 's were'} in flight when linkface last stopped, and no answer was recorded: the server may have stored ${n === 1 ? 'it' : 'them'}. ` +
        'Those still in the folder are sent again, which may store them twice:',
    ),
  );
  for (const unfinished of store.unfinished) {
    terminal.err(`  may have been stored: ${shownName(unfinished.input)}${unfinished.sha256 ? ` (sha256 ${unfinished.sha256})` : ''}${unfinished.at ? `, sent ${unfinished.at}` : ''}`);
  }
}

interface Timing {
  settleMs: number;
  rescanMs: number;
  statusMs: number;
  onSuccess: ReturnType<typeof parseAfterUpload>;
  onFailure: 'keep' | { moveTo: string };
}

async function watchWith(
  dir: string,
  options: WatchCommandOptions,
  timing: Timing,
  store: ManifestStore,
  sender: import('../api/client.js').EndpointClient,
  settings: Awaited<ReturnType<typeof loadSettings>>['settings'],
  origins: Awaited<ReturnType<typeof loadSettings>>['origins'],
  terminal: Terminal,
  interruption: ReturnType<typeof watchInterrupts>,
): Promise<number> {
  const started = Date.now();
  let watch: FolderWatch | undefined;
  let last = { at: started, uploaded: 0 };
  const status = (): string => {
    if (!watch) return `watching ${shownName(dir)}`;
    const { taken, uploaded, resumed, failed } = watch.counts;
    const seconds = (Date.now() - last.at) / 1000;
    const rate = seconds > 0 ? (uploaded - last.uploaded) / seconds : 0;
    const parts = [`${taken} taken`, `${uploaded} uploaded`];
    if (resumed) parts.push(`${resumed} already uploaded`);
    parts.push(`${failed} failed`, `${watch.waiting} waiting`, `${rate.toFixed(1)} files/s`);
    return `watching ${shownName(dir)}: ${parts.join(', ')}`;
  };
  const report = new UploadReport(terminal, {
    ...reportOptionsFrom(options, origins, sender.uploadUrl),
    live: status,
    extra: (result) => {
      const watched = result as WatchResult;
      return { file: watched.file, moved_to: watched.movedTo };
    },
  });
  const quiet = Boolean(options.quiet);
  watch = await FolderWatch.start(
    dir,
    { sender, retries: settings.retries.value, concurrency: settings.concurrency.value, redact },
    {
      store,
      settleMs: timing.settleMs,
      rescanMs: timing.rescanMs,
      include: options.include,
      exclude: options.exclude,
      onSuccess: timing.onSuccess,
      onFailure: timing.onFailure,
      signal: interruption.stop,
      cancelSignal: interruption.cancel,
      maxSizeBytes: settings.maxSize.value,
      onAttempt: (event) => report.attempt(event),
      onResult: (result) => {
        if (result.file !== 'left') report.result(result);
        else if (options.verbose) report.say(terminal.color.dim(`left ${shownName(result.input)} in place, to be taken again: ${shown(result.reason ?? result.status)}`));
      },
      onPause: (event) => report.say(pauseLine(event, terminal, options.lang ?? 'en', origins)),
      onResume: () => report.say('resumed: the account accepts uploads again; uploading goes on.'),
      onProblem: (message) => report.say(terminal.color.yellow(`warning: ${shown(message)}`)),
    },
  );
  // Said once the folder is being watched: a file dropped from now on is seen.
  if (!quiet) {
    const after = (action: Timing['onSuccess']) => (typeof action === 'object' ? `move to ${action.moveTo}` : action);
    terminal.err(
      terminal.color.dim(
        `linkface watch: watching ${shownName(dir)} (settle ${formatDuration(timing.settleMs)}, rescan every ${formatDuration(timing.rescanMs)}; ` +
          `on success ${after(timing.onSuccess)}, on failure ${after(timing.onFailure)}; manifest ${shownName(store.path)}). Stop with Ctrl-C or SIGTERM.`,
      ),
    );
  }
  await report.begin([], Number.POSITIVE_INFINITY);
  // On a terminal the live line shows the same all the time; in logs, one line a minute.
  const ticker = terminal.interactive || quiet ? undefined : setInterval(() => {
    terminal.err(status());
    last = { at: Date.now(), uploaded: watch?.counts.uploaded ?? 0 };
  }, timing.statusMs);
  try {
    await watch.done();
  } finally {
    clearInterval(ticker);
  }
  last = { at: started, uploaded: 0 };
  report.finish(false);
  if (!quiet) terminal.err(`linkface watch: stopped. ${status()}`);
  return ExitCode.Ok;
}

/**
 * An account error paused uploading: the error explained (the first time) and when the account is checked
 * again. Files wait in the folder; none fails for it.
 */
function pauseLine(event: AccountPauseEvent, terminal: Terminal, lang: Lang, origins: Awaited<ReturnType<typeof loadSettings>>['origins']): string {
  const { color } = terminal;
  const next = `checking again in ${formatDuration(event.recheckAt - Date.now())}, at ${clock(event.recheckAt)}`;
  const what = `${shown(event.status)}${event.httpStatus ? ` (HTTP ${event.httpStatus})` : ''}${event.reason ? `: ${shown(event.reason)}` : ''}`;
  if (event.checks > 0) return color.yellow(`still paused: the account still cannot upload (${what}); ${next}.`);
  const explanation = explainFailure({ input: 'uploads', status: event.status, httpStatus: event.httpStatus, reason: event.reason && shown(event.reason) }, lang, origins);
  const lines = [color.yellow(`paused: the account cannot upload (${what}). Files wait in the folder, none is lost; ${next}.`)];
  for (const { label, text } of explanation.lines) lines.push(`  ${label ? `${color.dim(`${label}:`)} ` : ''}${text}`);
  return lines.join('\n');
}
