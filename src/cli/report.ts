import type { Ora } from 'ora';
import type { AttemptEvent, UploadResult } from '../engine/run.js';
import { toResultRecord } from '../engine/run.js';
import { explainFailure } from '../explain/render.js';
import type { Lang, SettingName } from '../explain/statuses.js';
import type { UploadJob } from '../inputs/check.js';
import { formatBytes, formatDuration } from '../units.js';
import type { Terminal } from './terminal.js';

export interface ReportOptions {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly lang: Lang;
  /** Where each setting came from, for the "now set by" line under a failure. */
  readonly origins: Partial<Record<SettingName, string>>;
  /** host:port of the endpoint, for verbose attempt lines. */
  readonly host: string;
}

/** Renders an upload run as it happens. One implementation; the mode decides what each event prints. */
export class UploadReport {
  private readonly terminal: Terminal;
  private readonly options: ReportOptions;
  private spinner: Ora | undefined;
  private total = 0;
  private finished = 0;
  private retries = 0;
  private readonly started = Date.now();

  constructor(terminal: Terminal, options: ReportOptions) {
    this.terminal = terminal;
    this.options = options;
  }

  private get people(): boolean {
    return !this.options.json && !this.options.quiet;
  }

  /** Starts the spinner (on a terminal) for the jobs about to be uploaded. */
  async begin(jobs: readonly UploadJob[]): Promise<void> {
    this.total = jobs.length;
    if (!this.people || !this.terminal.interactive) return;
    const { default: ora } = await import('ora');
    this.spinner = ora({ stream: process.stderr, text: this.progressText(jobs[0]?.input), isEnabled: true }).start();
  }

  attempt(event: AttemptEvent): void {
    if (event.decision.retry) this.retries++;
    if (!this.options.verbose) return;
    const { outcome, decision } = event;
    const answer = outcome.httpStatus ? `${outcome.httpStatus} ${outcome.status}` : `${outcome.status} (${outcome.reason ?? 'no answer'})`;
    let next = decision.retry ? `retrying in ${formatDuration(decision.delayMs)} (${decision.why})` : decision.why;
    if (decision.retry && outcome.maybeDelivered) {
      next += '; the request may have reached the server, so this retry may store a duplicate upload';
    }
    this.say(`${this.terminal.color.dim(`attempt ${event.attempt}`)} POST ${this.options.host} ${event.job.input} → ${answer} in ${formatDuration(event.ms)}; ${next}`);
  }

  result(result: UploadResult): void {
    this.finished++;
    if (this.options.json) {
      this.writeData(JSON.stringify(toResultRecord(result)));
    } else if (result.ok && result.livenessDataId) {
      this.writeData(this.total === 1 ? result.livenessDataId : `${result.livenessDataId}\t${result.input}`);
    }
    if (result.ok) {
      if (this.people && !this.terminal.interactive) {
        this.say(`uploaded ${result.input}${result.bytes ? ` (${formatBytes(result.bytes)})` : ''} in ${formatDuration(result.ms)}`);
      }
    } else if (result.status !== 'NOT_ATTEMPTED') {
      this.explain(result);
    }
    if (this.spinner) this.spinner.text = this.progressText();
  }

  /** Stops the spinner and prints the summary (batches) or the final tick (one input). */
  finish(results: readonly UploadResult[], interrupted: boolean): void {
    const spinner = this.spinner;
    this.spinner = undefined;
    const uploaded = results.filter((r) => r.ok).length;
    const notAttempted = results.filter((r) => r.status === 'NOT_ATTEMPTED');
    const { color } = this.terminal;
    if (notAttempted.length > 0) {
      spinner?.clear();
      this.terminal.err(color.yellow(`${notAttempted.length} not attempted: ${notAttempted[0]?.reason?.replace(/^not started: /, '') ?? ''}`));
    }
    if (!this.people) {
      spinner?.stop();
      return;
    }
    const failed = results.length - uploaded - notAttempted.length - results.filter((r) => r.status === 'SKIPPED').length;
    if (results.length === 1 && !interrupted) {
      const only = results[0] as UploadResult;
      if (only.ok) spinner?.succeed(`Uploaded ${only.input} in ${formatDuration(only.ms)}`);
      else spinner?.fail(`${only.input}: ${only.status}`);
      return;
    }
    const parts = [`${uploaded} uploaded`];
    const skipped = results.filter((r) => r.status === 'SKIPPED').length;
    if (skipped) parts.push(`${skipped} skipped`);
    if (failed) parts.push(color.red(`${failed} failed`));
    if (notAttempted.length) parts.push(`${notAttempted.length} not attempted`);
    parts.push(`${this.retries} ${this.retries === 1 ? 'retry' : 'retries'}`);
    const line = `${interrupted ? 'Interrupted: ' : ''}${parts.join(', ')} in ${formatDuration(Date.now() - this.started)}`;
    if (spinner) {
      if (failed || interrupted) spinner.fail(line);
      else spinner.succeed(line);
    } else {
      this.terminal.err(line);
    }
  }

  /** A failure explained: the input, the code and HTTP status, what it means, the server's words, the next step. */
  private explain(result: UploadResult): void {
    const { color } = this.terminal;
    const explanation = explainFailure(result, this.options.lang, this.options.origins);
    const lines = [color.red(`✖ ${explanation.headline}`)];
    for (const { label, text } of explanation.lines) lines.push(`  ${label ? `${color.dim(`${label}:`)} ` : ''}${text}`);
    this.say(lines.join('\n'));
  }

  private progressText(current?: string): string {
    if (this.total === 1) return `Uploading ${current ?? ''}`;
    return `Uploading: ${this.finished}/${this.total} done`;
  }

  /** A line for people on stderr, kept clear of the spinner. */
  private say(line: string): void {
    this.spinner?.clear();
    this.terminal.err(line);
    this.spinner?.render();
  }

  private writeData(line: string): void {
    this.spinner?.clear();
    this.terminal.out(line);
  }
}
