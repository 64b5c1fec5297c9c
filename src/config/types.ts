/** What kind of place a setting's value came from. */
export type SourceKind = 'flag' | 'env' | 'file' | 'default' | 'sandbox';

/** Where a setting's value came from: `linkface config show` and error hints print it with `describeSource`. */
export interface Source {
  kind: SourceKind;
  /** The flag (`--api-id`), the variable (`LINKFACE_API_ID`), the rc file's absolute path, or `default`. */
  name: string;
  /** In an rc file, the key with its profile path (`profiles.ci.apiId`); for a secret-file variable, the file read. */
  key?: string;
}

/** A value together with where it came from. */
export interface Setting<T> {
  value: T;
  source: Source;
}

/** The settings in force for one run. */
export interface Settings {
  apiId?: Setting<string>;
  apiSecret?: Setting<string>;
  /** The service root, without trailing slashes. Default `https://cloudapi.linkface.cn`. */
  endpoint: Setting<string>;
  profile?: Setting<string>;
  /** Uploads in flight, 1..256. Default 4. */
  concurrency: Setting<number>;
  /** Retries after the first attempt, 0..20. Default 3. */
  retries: Setting<number>;
  /** Per-attempt timeout in seconds, > 0 and <= 3600. Default 30. */
  timeout: Setting<number>;
  /** Largest input accepted, in bytes. Default 5 MiB. */
  maxSize: Setting<number>;
  /** Absolute path of a PEM bundle of extra certificate authorities to trust (`--ca`). */
  caFile?: Setting<string>;
  /** Absolute paths of the rc files read, highest precedence first. */
  files: string[];
}

/** Option values exactly as typed on the command line; they are validated by `resolveSettings`. */
export interface SettingsFlags {
  apiId?: string;
  apiSecret?: string;
  endpoint?: string;
  profile?: string;
  config?: string;
  concurrency?: string;
  retries?: string;
  timeout?: string;
  maxSize?: string;
  caFile?: string;
}

/** Everything settings depend on, passed in so that tests can use a temporary home and a clean environment. */
export interface SettingsInput {
  flags: SettingsFlags;
  env: Record<string, string | undefined>;
  /** Where the project rc file search starts, and what relative paths in flags and variables are relative to. */
  cwd: string;
  homeDir: string;
}

export interface ResolvedSettings {
  settings: Settings;
  /** Things the user should fix but that do not stop the run (open permissions, quoted variables, …). */
  warnings: string[];
}
