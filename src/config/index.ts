export { describeSource } from './describe.js';
export { SettingsError } from './errors.js';
export { resolveSettings } from './resolve.js';
export type {
  ResolvedSettings,
  Setting,
  Settings,
  SettingsFlags,
  SettingsInput,
  Source,
  SourceKind,
} from './types.js';
export { parseSize } from './values.js';
