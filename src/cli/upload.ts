import { homedir } from 'node:os';
import { EndpointClient } from '../api/client.js';
import type { Settings, SettingsFlags } from '../config/index.js';
import { runUploads, skippedResult } from '../engine/run.js';
import type { Lang, SettingName } from '../explain/statuses.js';
import { checkInputs, type InputProblem, type UploadJob } from '../inputs/check.js';
import { ExitCode, exitCodeFor } from './exit.js';
import { UploadReport } from './report.js';
import { createTerminal, registerSecret, type Terminal } from './terminal.js';

export interface UploadCommandOptions extends SettingsFlags {
  allowHttp?: boolean;
  sandbox?: boolean;
  skipInvalid?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  color?: boolean;
  lang?: Lang;
}

/** How long uploads in flight may go on after Ctrl-C / SIGTERM before they are abandoned. */
const GRACE_MS = 2000;

/** `linkface upload`: settings → input checks → engine → report → exit code. */
export async function runUploadCommand(inputs: string[], options: UploadCommandOptions): Promise<number> {
  const terminal = await createTerminal(options);
  const { settings, origins } = await loadSettings(options, terminal);

  let endpoint = settings.endpoint.value;
  let apiId = settings.apiId?.value;
  let apiSecret = settings.apiSecret?.value;
  let sandbox: { url: string; close(): Promise<void> } | undefined;
  if (!options.sandbox && (!apiId || !apiSecret)) {
    missingCredentials(terminal, !apiId, !apiSecret);
    return ExitCode.Usage;
  }

  const checked = await checkInputs(inputs, { maxSize: settings.maxSize.value });
  if (checked.problems.length > 0 && !options.skipInvalid) {
    reportInvalidInputs(terminal, checked.problems);
    return ExitCode.Usage;
  }

  if (options.sandbox) {
    const { startSandbox } = await import('../sandbox/index.js');
    sandbox = await startSandbox();
    endpoint = sandbox.url;
    apiId = 'sandbox';
    apiSecret = 'sandbox';
    origins.endpoint = origins.apiId = origins.apiSecret = 'the embedded sandbox (--sandbox)';
    if (!options.json && !options.quiet) terminal.err(terminal.color.dim(`Using the embedded sandbox at ${sandbox.url} (no account, nothing leaves this machine)`));
  }
  try {
    const client = new EndpointClient({
      endpoint,
      apiId: apiId as string,
      apiSecret: apiSecret as string,
      timeoutMs: settings.timeout.value * 1000,
      allowHttp: options.allowHttp,
      connections: settings.concurrency.value,
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
      return await uploadAll(checked.jobs, checked.problems, client, settings, report, terminal);
    } finally {
      await client.close();
    }
  } finally {
    await sandbox?.close();
  }
}

async function uploadAll(
  jobs: UploadJob[],
  problems: InputProblem[],
  client: EndpointClient,
  settings: Settings,
  report: UploadReport,
  terminal: Terminal,
): Promise<number> {
  const interruption = watchInterrupts(terminal);
  try {
    const skipped = problems.map(skippedResult);
    await report.begin(jobs);
    for (const result of skipped) report.result(result);
    const results = await runUploads(
      jobs,
      client,
      {
        retries: settings.retries.value,
        concurrency: settings.concurrency.value,
        stopSignal: interruption.stop,
        cancelSignal: interruption.cancel,
      },
      { onAttempt: (event) => report.attempt(event), onResult: (result) => report.result(result) },
    );
    const all = [...skipped, ...results];
    report.finish(all, interruption.interrupted());
    return exitCodeFor(all, interruption.interrupted());
  } finally {
    interruption.dispose();
  }
}

/**
 * First Ctrl-C / SIGTERM: start nothing new, let uploads in flight finish for up to 2 s, then abandon them.
 * A second one exits at once.
 */
function watchInterrupts(terminal: Terminal) {
  const stop = new AbortController();
  const cancel = new AbortController();
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
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stop: stop.signal,
    cancel: cancel.signal,
    interrupted: () => stop.signal.aborted,
    dispose: () => {
      clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function loadSettings(options: UploadCommandOptions, terminal: Terminal) {
  const { resolveSettings, describeSource } = await import('../config/index.js');
  const home = homedir();
  const { settings, warnings } = await resolveSettings({ flags: settingsFlags(options), env: process.env, cwd: process.cwd(), homeDir: home });
  registerSecret(settings.apiSecret?.value);
  for (const warning of warnings) terminal.err(terminal.color.yellow(`warning: ${warning}`));
  const origins: Partial<Record<SettingName, string>> = {};
  for (const name of ['apiId', 'apiSecret', 'endpoint', 'timeout', 'maxSize', 'retries', 'concurrency'] as const) {
    const setting = settings[name];
    if (setting) origins[name] = describeSource(setting.source, home);
  }
  return { settings, origins };
}

/** The settings flags as typed, for resolveSettings to validate and rank. */
export function settingsFlags(options: SettingsFlags): SettingsFlags {
  const { apiId, apiSecret, endpoint, profile, config, concurrency, retries, timeout, maxSize } = options;
  return { apiId, apiSecret, endpoint, profile, config, concurrency, retries, timeout, maxSize };
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
  for (const problem of problems) terminal.err(`  ${problem.input}: ${problem.reason}`);
  terminal.err('Fix them, or pass --skip-invalid to upload the rest.');
}
