import type { SettingsFlags } from '../config/index.js';
import { userHome } from '../config/paths.js';
import type { SettingName } from '../explain/statuses.js';
import { registerSecret, type Terminal } from './terminal.js';

/**
 * The settings in force for a command, with where each came from (for the "now set by" line under a
 * failure); warnings are printed, and the secret is registered so that nothing printed holds it. Loads no
 * HTTP code: `config show` uses it too.
 */
export async function loadSettings(options: SettingsFlags & { ca?: string }, terminal: Terminal, { redactSecret = true, printWarnings = true } = {}) {
  const { resolveSettings, describeSource } = await import('../config/index.js');
  const home = userHome(process.env);
  const { settings, warnings } = await resolveSettings({ flags: settingsFlags(options), env: process.env, cwd: process.cwd(), homeDir: home });
  if (redactSecret) registerSecret(settings.apiSecret?.value);
  if (printWarnings) for (const warning of warnings) terminal.err(terminal.color.yellow(`warning: ${warning}`));
  const origins: Partial<Record<SettingName, string>> = {};
  for (const name of ['apiId', 'apiSecret', 'endpoint', 'timeout', 'maxSize', 'retries', 'concurrency'] as const) {
    const setting = settings[name];
    if (setting) origins[name] = describeSource(setting.source, home);
  }
  return { settings, origins, home, describeSource, warnings };
}

/** The settings flags as typed, for resolveSettings to validate and rank (`--ca` is the CA file's flag). */
function settingsFlags(options: SettingsFlags & { ca?: string }): SettingsFlags {
  const { apiId, apiSecret, endpoint, profile, config, concurrency, retries, timeout, maxSize, ca } = options;
  return { apiId, apiSecret, endpoint, profile, config, concurrency, retries, timeout, maxSize, caFile: ca };
}
