import { EndpointClient } from '../api/client.js';
import type { Settings } from '../config/index.js';
import type { SettingName } from '../explain/statuses.js';
import type { Terminal } from './terminal.js';

/**
 * The endpoint a run uploads to: the account's, from the settings, or with `--sandbox` an emulator started in
 * this process (its own credentials; `origins` then says so under any failure). `close()` ends both.
 */
export async function openEndpoint(
  settings: Settings,
  options: { sandbox?: boolean; allowHttp?: boolean; json?: boolean; quiet?: boolean },
  origins: Partial<Record<SettingName, string>>,
  ca: string | undefined,
  terminal: Terminal,
): Promise<{ client: EndpointClient; close(): Promise<void> }> {
  let endpoint = settings.endpoint.value;
  let apiId = settings.apiId?.value ?? '';
  let apiSecret = settings.apiSecret?.value ?? '';
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
  let client: EndpointClient;
  try {
    client = new EndpointClient({
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
  } catch (error) {
    await sandbox?.close();
    throw error;
  }
  return {
    client,
    close: async () => {
      try {
        await client.close();
      } finally {
        await sandbox?.close();
      }
    },
  };
}
