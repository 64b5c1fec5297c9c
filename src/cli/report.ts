import type { Ora } from 'ora';
import { MAX_RETRY_AFTER_MS } from '../api/response.js';
import type { AttemptEvent, UploadResult } from '../engine/run.js';
import { toResultRecord } from '../engine/run.js';
import { explainFailure } from '../explain/render.js';
import type { Lang, SettingName } from '../explain/statuses.js';
import type { UploadJob } from '../inputs/check.js';
import { formatBytes, formatDuration } from '../units.js';
import { shown, shownName } from '../untrusted.js';
import { ResultTally } from '../engine/tally.js';
import type { Terminal } from './terminal.js';

/** A retry that waits this long or longer is announced, even without --verbose: a silent minute looks hung. */
const ANNOUNCED_WAIT_MS = 2000;

/** A wall-clock time for people, in the machine's time zone: 14:03:27. */
const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

export interface ReportOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly lang: Lang;
  /** Where each setting came from, for the "now set by" line under a failure. */
  readonly origins: Partial<Record<SettingName, string>>;
  /** host:port of the endpoint, for verbose attempt lines. */
  readonly host: string;
  /** The live line's text, for a run without a known total (a watched folder). */
  readonly live?: () => string;
  /** More fields for a result's `--json` line. */
  readonly extra?: (result: UploadResult) => Readonly<Record<string, unknown>>;
}

/** The report options a command's flags give, for uploads to `uploadUrl`. */
export function reportOptionsFrom(
  flags: { json?: boolean; quiet?: boolean; verbose?: boolean; lang?: Lang },
  origins: Partial<Record<SettingName, string>>,
  uploadUrl: string,
): ReportOptions {
  return {
    json: Boolean(flags.json),
    quiet: Boolean(flags.quiet),
    verbose: Boolean(flags.verbose),
    lang: flags.lang ?? 'en',
    origins,
    host: new URL(uploadUrl).host,
  };
}

/** Renders an upload run as it happens. One implementation; the mode decides what each event prints. */
export class UploadReport {
  private readonly terminal: Terminal;
  private readonly options: ReportOptions;
  private spinner: Ora | undefined;
  private total = 0;
  private retries = 0;
  /** Inputs waiting to be retried right now. */
  private readonly retrying = new Set<string>();
  /** Statuses already explained in full; later failures with the same status get one line each. */
  private readonly explained = new Set<string>();
  private readonly started = Date.now();
  private ticker: NodeJS.Timeout | undefined;
  /** The input a run of one uploads, for its spinner. */
  private firstInput = '';
  /** The longest wait before a retry that is going on, for the progress line. */
  private waiting: { until: number; what: string } | undefined;
  /** Until when the last announced wait went: waits ending about then are not announced again. */
  private announcedUntil = 0;
  /** Every result counted: the summary and the exit code come from it. */
  readonly tally = new ResultTally();

  constructor(terminal: Terminal, options: ReportOptions) {
    this.terminal = terminal;
    this.options = options;
  }

  private get people(): boolean {
    return !this.options.json && !this.options.quiet;
  }

  /** Starts the spinner (on a terminal) for the jobs about to be uploaded, besides inputs already settled. */
  async begin(jobs: readonly UploadJob[], alreadySettled = 0): Promise<void> {
    this.total = jobs.length + alreadySettled;
    this.firstInput = jobs[0]?.input ?? '';
    if (!this.people || !this.terminal.interactive) return;
    const { default: ora } = await import('ora');
    this.spinner = ora({ stream: process.stderr, text: this.progressText(), isEnabled: true }).start();
    // Rate and ETA move even while nothing finishes.
    if (this.total > 1) this.startTicker();
  }

  private startTicker(): void {
    this.ticker ??= setInterval(() => this.refresh(), 500).unref();
  }

  attempt(event: AttemptEvent): void {
    const { outcome, decision } = event;
    if (decision.retry) {
      this.retries++;
      this.retrying.add(event.job.input);
      if (decision.delayMs >= ANNOUNCED_WAIT_MS) this.announceWait(event, decision.delayMs);
    } else {
      this.retrying.delete(event.job.input);
    }
    if (!this.options.verbose) return;
    const answer = outcome.httpStatus
      ? `${outcome.httpStatus} ${shown(outcome.status)}`
      : `${shown(outcome.status)} (${shown(outcome.reason ?? 'no answer')})`;
    let next = decision.retry ? `retrying in ${formatDuration(decision.delayMs)} (${decision.why})` : decision.why;
    if (decision.retry && outcome.maybeDelivered) {
      next += '; the request may have reached the server, so this retry may store a duplicate upload';
    }
    this.say(`${this.terminal.color.dim(`attempt ${event.attempt}`)} POST ${this.options.host} ${shownName(event.job.input)} → ${answer} in ${formatDuration(event.ms)}; ${next}`);
  }

  /**
   * A long wait before a retry is said, with what it waits for and until when: on the progress line on a
   * terminal, as a plain line elsewhere (once for waits that end about the same time, as a batch's do).
   */
  private announceWait(event: AttemptEvent, delayMs: number): void {
    const { outcome } = event;
    const until = Date.now() + delayMs;
    const http = outcome.httpStatus ? ` (HTTP ${outcome.httpStatus})` : '';
    const why =
      outcome.retryAfterMs === undefined
        ? 'backoff'
        : `the server's Retry-After${outcome.retryAfterMs >= MAX_RETRY_AFTER_MS ? `, capped at ${MAX_RETRY_AFTER_MS / 1000} s` : ''}`;
    const what = `${shown(outcome.status)}${http}: waiting until ${clock(until)} (${why})`;
    if (!this.waiting || until > this.waiting.until) this.waiting = { until, what };
    if (this.spinner) {
      this.startTicker();
      this.refresh();
      return;
    }
    if (!this.people || until < this.announcedUntil + 1000) return;
    this.announcedUntil = until;
    this.say(
      this.terminal.color.yellow(
        `waiting ${formatDuration(delayMs)}, until ${clock(until)}, to retry ${shownName(event.job.input)}: ${shown(outcome.status)}${http}, ${why}`,
      ),
    );
  }

  result(result: UploadResult): void {
    this.tally.add(result);
    this.retrying.delete(result.input);
    if (this.options.json) {
      this.writeRecord({ ...toResultRecord(result), ...this.options.extra?.(result) });
    } else if (result.ok && result.livenessDataId) {
      // The id was checked when it arrived (or when the manifest was read): it is one printable line.
      this.writeData(this.total === 1 ? result.livenessDataId : `${result.livenessDataId}\t${shownName(result.input)}`);
    }
    if (result.ok) {
      if (this.people && !this.terminal.interactive) {
        if (result.resumed) this.say(`${shownName(result.input)}: ${shown(result.reason ?? 'already uploaded')}`);
        else this.say(`uploaded ${shownName(result.input)}${result.bytes ? ` (${formatBytes(result.bytes)})` : ''} in ${formatDuration(result.ms)}`);
      }
    } else if (result.status === 'SKIPPED') {
      if (this.people) this.say(this.terminal.color.yellow(`skipped ${shownName(result.input)}: ${shown(result.reason ?? '')}`));
    } else if (result.status !== 'NOT_ATTEMPTED') {
      this.explain(result);
    }
    this.refresh();
  }

  /** Stops the spinner and prints the summary (batches) or the final tick (one input). */
  finish(interrupted: boolean): void {
    clearInterval(this.ticker);
    const spinner = this.spinner;
    this.spinner = undefined;
    const { color } = this.terminal;
    const { tally } = this;
    if (tally.notAttempted > 0) {
      spinner?.clear();
      this.terminal.err(color.yellow(`${tally.notAttempted} not attempted: ${tally.notAttemptedReason?.replace(/^not started: /, '') ?? ''}`));
    }
    if (!this.people) {
      spinner?.stop();
      return;
    }
    if (tally.count === 1 && tally.first && !interrupted) {
      const only = tally.first;
      if (only.resumed) spinner?.succeed(`${shownName(only.input)}: ${shown(only.reason ?? 'already uploaded')}`);
      else if (only.ok) spinner?.succeed(`Uploaded ${shownName(only.input)} in ${formatDuration(only.ms)}`);
      // The failure was explained in full as it came (✖ input: STATUS …): not said a second time.
      else spinner?.stop();
      return;
    }
    const line = `${interrupted ? 'Interrupted. ' : ''}${summarize(tally, this.retries, Date.now() - this.started)}`;
    if (spinner) {
      if (tally.failed > 0 || interrupted) spinner.fail(line);
      else spinner.succeed(line);
    } else {
      this.terminal.err(line);
    }
  }

  /**
   * A failure explained: the input, the code and HTTP status, what it means, the server's words, the next
   * step. In a batch the full text comes once per status; later failures with it get one line.
   */
  private explain(result: UploadResult): void {
    const { color } = this.terminal;
    // Everything the server said, and the input's name, shown escaped: one line each, no terminal codes.
    const explanation = explainFailure(
      {
        ...result,
        input: shownName(result.input),
        status: shown(result.status),
        reason: result.reason && shown(result.reason),
        requestId: result.requestId && shown(result.requestId),
      },
      this.options.lang,
      this.options.origins,
    );
    if (this.explained.has(result.status)) {
      const reason = result.reason ? `: ${shown(result.reason)}` : '';
      this.say(color.red(`✖ ${explanation.headline}${reason}`));
      return;
    }
    this.explained.add(result.status);
    const lines = [color.red(`✖ ${explanation.headline}`)];
    for (const { label, text } of explanation.lines) lines.push(`  ${label ? `${color.dim(`${label}:`)} ` : ''}${text}`);
    this.say(lines.join('\n'));
  }

  private progressText(): string {
    const waiting = this.waiting && this.waiting.until > Date.now() ? this.waiting : undefined;
    if (!waiting) this.waiting = undefined;
    if (this.options.live) return `${this.options.live()}${waiting ? ` · ${waiting.what}` : ''}`;
    if (this.total === 1) return `Uploading ${shownName(this.firstInput)}${waiting ? ` · ${waiting.what}` : ''}`;
    const { count: finished, failed, bytes } = this.tally;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? finished / elapsed : 0;
    const parts = [`${finished}/${this.total} done`];
    if (failed) parts.push(`${failed} failed`);
    if (this.retrying.size) parts.push(`${this.retrying.size} retrying`);
    parts.push(formatBytes(bytes), `${rate.toFixed(1)} files/s`);
    if (rate > 0 && finished < this.total) parts.push(`ETA ${formatDuration(((this.total - finished) / rate) * 1000)}`);
    if (waiting) parts.push(waiting.what);
    return `Uploading: ${parts.join(' · ')}`;
  }

  private refresh(): void {
    if (this.spinner) this.spinner.text = this.progressText();
  }

  /** A line for people on stderr, kept clear of the spinner. */
  say(line: string): void {
    this.spinner?.clear();
    this.terminal.err(line);
    this.spinner?.render();
  }

  private writeData(line: string): void {
    this.spinner?.clear();
    this.terminal.out(line);
  }

  private writeRecord(record: Readonly<Record<string, unknown>>): void {
    this.spinner?.clear();
    this.terminal.outRecord(record);
  }
}

/** The closing line of a batch: what happened to every input, the retries, the bytes, the time and rate. */
export function summarize(tally: ResultTally, retries: number, elapsedMs: number): string {
  const parts = [`${tally.uploaded} uploaded`];
  if (tally.resumed) parts.push(`${tally.resumed} already uploaded`);
  if (tally.skipped) parts.push(`${tally.skipped} skipped`);
  const { failed } = tally;
  if (failed) {
    // Most frequent first, then by name: the same batch gives the same line whatever order uploads finished in.
    const byStatus = [...tally.failures].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0));
    parts.push(`${failed} failed (${byStatus.map(([status, n]) => `${shown(status)} ${n}`).join(', ')})`);
  }
  if (tally.notAttempted) parts.push(`${tally.notAttempted} not attempted`);
  parts.push(`${retries} ${retries === 1 ? 'retry' : 'retries'}`);
  const seconds = elapsedMs / 1000;
  const rate = seconds > 0 ? ` (${(tally.uploaded / seconds).toFixed(1)} files/s)` : '';
  return `${parts.join(', ')}; ${formatBytes(tally.bytes)} in ${formatDuration(elapsedMs)}${rate}`;
}
