/** The checks `doctor` makes, in the order it makes them. */
export const DOCTOR_CHECKS = ['versions', 'settings', 'endpoint', 'proxy', 'dns', 'tcp', 'tunnel', 'tls', 'clock', 'account'] as const;
export type DoctorCheckId = (typeof DOCTOR_CHECKS)[number];

/** Where a certificate's authority was found: Node's built-in store, NODE_EXTRA_CA_CERTS, or the `ca` option (`--ca`). */
export type TrustStore = 'system' | 'NODE_EXTRA_CA_CERTS' | 'ca';

/** What each check measured, for programs (`--json`); every field is absent when it could not be known. */
export interface DoctorFacts {
  versions: { linkface: string; node: string; platform: string; arch: string; nodeSupported: boolean };
  settings: {
    settings: readonly DoctorSetting[];
    /** Files read for the settings, with their permissions (`0600`; absent on Windows or when unreadable). */
    files: readonly { path: string; mode?: string }[];
  };
  endpoint: { endpoint?: string; uploadUrl?: string; protocol?: 'https' | 'http' };
  proxy: { proxy?: string; variable?: string; why?: string };
  dns: { host?: string; addresses?: readonly { address: string; family: number }[] };
  tcp: { address?: string; port?: number; to?: 'endpoint' | 'proxy' };
  tunnel: { target?: string; httpStatus?: number };
  tls: {
    protocol?: string;
    subject?: string;
    issuer?: string;
    validFrom?: string;
    validTo?: string;
    daysLeft?: number;
    trustedBy?: TrustStore;
    /** OpenSSL's or Node's code for a certificate that is not accepted (`UNABLE_TO_VERIFY_LEAF_SIGNATURE`). */
    error?: string;
  };
  clock: { serverDate?: string; offsetMs?: number };
  account: { status?: string; httpStatus?: number; reason?: string; requestId?: string };
}

/** One setting as shown: never the secret itself. */
export interface DoctorSetting {
  name: string;
  value: string;
  /** Where it came from (`env LINKFACE_API_ID`, `file ~/.linkfacerc`, `default`). */
  source: string;
}

/**
 * The result of one check. `pass` and `fail` are ✔ and ✖; `skip` is a check that could not be made or does
 * not apply (it needs one that failed, or the endpoint is plain http and has no TLS), and is not a failure.
 */
export type DoctorCheck = {
  [K in DoctorCheckId]: {
    readonly id: K;
    readonly status: 'pass' | 'fail' | 'skip';
    /** One line: what was found. */
    readonly summary: string;
    /** Further lines for people. */
    readonly details: readonly string[];
    /** On a failure: what to do about it. */
    readonly fix?: string;
    /** How long the check took, in milliseconds. */
    readonly ms: number;
    readonly facts: DoctorFacts[K];
  };
}[DoctorCheckId];

/** What the caller knows about the settings: the command line passes what it resolved from flags, env and rc files. */
export interface DoctorSettingsReport {
  /** The settings to show, with where each came from (the secret as `(set, redacted)`). */
  settings: readonly DoctorSetting[];
  /** The rc files read, shown with their permissions. */
  files?: readonly string[];
  /** A file that holds the secret (LINKFACE_API_SECRET_FILE): it fails the check when others can read it. */
  secretFile?: string;
  /** Things to fix that did not stop the settings from being read (each fails the check). */
  warnings?: readonly string[];
  /** The settings could not be read at all: the check fails with this, and the rest are not made. */
  error?: { message: string; fix?: string };
}

export interface DoctorOptions {
  apiId?: string;
  apiSecret?: string;
  /** Service root; default `https://cloudapi.linkface.cn`. */
  endpoint?: string;
  /** Allow a plain http:// endpoint that is not loopback. */
  allowHttp?: boolean;
  /** PEM text of extra certificate authorities to trust, as for an upload. */
  ca?: string;
  /** How long the whole run may take, in milliseconds; default 10,000. */
  timeoutMs?: number;
  /** Where the settings came from; without it, the options above are shown as given by the caller. */
  settings?: DoctorSettingsReport;
}
