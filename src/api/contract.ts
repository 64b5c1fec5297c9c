/** What the Linkface API documents (shared/api/README.md), in one place for the client, the sandbox and the settings. */

/** The upload's path under the service root. */
export const UPLOAD_PATH = '/resources/upload_liveness_data';

/** The largest file the API accepts: "≤ 5 MB", read as 5 × 1024 × 1024 bytes. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
