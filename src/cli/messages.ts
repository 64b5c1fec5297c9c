import type { PlanPreview } from '../engine/batch.js';
import type { InputProblem } from '../errors.js';
import { shown, shownName } from '../untrusted.js';
import { formatBytes } from '../units.js';
import type { Terminal } from './terminal.js';

/** The ways to give credentials, when they are missing. */
export function missingCredentials(terminal: Terminal, noId: boolean, noSecret: boolean): void {
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

/** Every invalid input and why: nothing was uploaded. */
export function reportInvalidInputs(terminal: Terminal, problems: readonly InputProblem[]): void {
  const { color } = terminal;
  const noun = problems.length === 1 ? 'input is' : 'inputs are';
  terminal.err(color.red(`linkface: ${problems.length} ${noun} not valid; nothing was uploaded.`));
  for (const problem of problems) terminal.err(`  ${shownName(problem.input)}: ${shown(problem.reason)}`);
  terminal.err('Fix them, or pass --skip-invalid to upload the rest.');
}

/** --dry-run: what would be uploaded and what skipped, on stdout; nothing is sent. */
export function printDryRun({ toUpload, skipped }: PlanPreview, options: { json?: boolean; quiet?: boolean }, terminal: Terminal): void {
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
}
