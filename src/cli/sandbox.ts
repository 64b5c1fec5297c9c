import { UsageError } from '../errors.js';
import { withoutControls } from '../untrusted.js';
import { ExitCode } from './exit.js';
import { optionProblem } from '../sandbox/options.js';

/** `linkface sandbox`: the emulator in the foreground until Ctrl-C / SIGTERM. */
export async function runSandboxCommand(options: Record<string, string | undefined>): Promise<number> {
  const { startSandbox } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({
    host: options.host,
    port: numberFlag(options.port, '--port', 'port'),
    apiId: options.apiId,
    apiSecret: options.apiSecret,
    latencyMs: numberFlag(options.latency, '--latency', 'latencyMs'),
    failRate: numberFlag(options.failRate, '--fail-rate', 'failRate'),
    resetRate: numberFlag(options.resetRate, '--reset-rate', 'resetRate'),
    rateLimit: numberFlag(options.rateLimit, '--rate-limit', 'rateLimit'),
    idField: options.idField as 'liveness_data_id' | 'image_id' | 'both',
    // A log line quotes what a client sent (its path, say): shown without control codes.
    log: (line) => process.stderr.write(`${withoutControls(line)}\n`),
    // Nobody reads the records of a server run from the command line, and it may run for days.
    recordRequests: false,
  });
  process.stderr.write(
    `linkface sandbox listening on ${sandbox.url} (a contract emulator for tests; it does not judge liveness)\n` +
      `  try: LINKFACE_ENDPOINT=${sandbox.url} LINKFACE_API_ID=${options.apiId} LINKFACE_API_SECRET=… linkface upload FILE\n`,
  );
  // stdout gets the URL alone, so scripts can start it in the background and read where it listens.
  process.stdout.write(`${sandbox.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sandbox.close();
  return ExitCode.Ok;
}

/** A numeric flag, checked against the sandbox's own rule for the option it sets, and named in the error. */
function numberFlag(text: string | undefined, flag: string, option: Parameters<typeof optionProblem>[0]): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const problem = optionProblem(option, value);
  if (problem) throw new UsageError(`${flag} ${problem}, got '${text}'.`);
  return value;
}
