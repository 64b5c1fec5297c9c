import { UsageError } from '../errors.js';
import { withoutControls } from '../untrusted.js';
import { ExitCode } from './exit.js';

/** `linkface sandbox`: the emulator in the foreground until Ctrl-C / SIGTERM. */
export async function runSandboxCommand(options: Record<string, string | undefined>): Promise<number> {
  const { startSandbox } = await import('../sandbox/index.js');
  const sandbox = await startSandbox({
    host: options.host,
    port: integer(options.port, '--port', 0, 65535),
    apiId: options.apiId,
    apiSecret: options.apiSecret,
    latencyMs: integer(options.latency, '--latency', 0, 600_000),
    failRate: fraction(options.failRate, '--fail-rate'),
    resetRate: fraction(options.resetRate, '--reset-rate'),
    rateLimit: options.rateLimit === undefined ? undefined : positive(options.rateLimit, '--rate-limit'),
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

function integer(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got '${text}'.`);
  }
  return value;
}

function fraction(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new UsageError(`${flag} must be a number from 0 to 1, got '${text}'.`);
  return value;
}

function positive(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${flag} must be a number above 0, got '${text}'.`);
  return value;
}
