/**
 * linkface as a library: the same engine as the command line, without the terminal.
 *
 *   import { upload, LinkfaceClient } from 'linkface-cli';
 *   const [result] = await upload('liveness.bin', { apiId, apiSecret });
 */
export type { AttemptOutcome, UploadPayload } from './api/types.js';
export { DEFAULT_ENDPOINT, LinkfaceClient, type LinkfaceClientOptions, type UploadCallOptions, upload } from './engine/client.js';
export { type AttemptEvent, toResultRecord, type UploadHooks, type UploadResult } from './engine/run.js';
export { LinkfaceError, UsageError } from './errors.js';
export { explainFailure, describeStatus } from './explain/render.js';
export { API_ERROR_STATUSES, type ResultStatus, STATUS_TABLE, TOOL_STATUSES } from './explain/statuses.js';
export type { UploadJob } from './inputs/check.js';
export { type ReceivedRequest, type Sandbox, type SandboxOptions, type ScriptedResponse, startSandbox } from './sandbox/index.js';
