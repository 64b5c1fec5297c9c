/**
 * linkface as a library: the same pipeline as the command line, without the terminal. Everything exported
 * here is listed in the README's library section; nothing else is public.
 *
 *   import { uploadAll, ManifestStore } from 'linkface-cli';
 *   const store = await ManifestStore.open('uploaded.ndjson', { resume: true });
 *   for await (const result of uploadAll(['captures/'], { apiId, apiSecret, store })) console.log(result);
 */
export { type PlanOptions, planUploads, type UploadPlan, MAX_SIZE_BYTES, previewPlan, type PlanPreview } from './engine/batch.js';
export {
  type BatchOptions,
  DEFAULT_ENDPOINT,
  LinkfaceClient,
  type LinkfaceClientOptions,
  upload,
  uploadAll,
  UploadBatch,
} from './engine/client.js';
export { ManifestStore, type UnfinishedUpload } from './engine/manifest.js';
export type { AccountPauseEvent } from './engine/pause.js';
export { type ResultRecord, toResultRecord, type UploadResult } from './engine/run.js';
export type { EarlierUpload, ResultsStore } from './engine/store.js';
export type { ResultTally } from './engine/tally.js';
export { doctor } from './doctor/index.js';
export {
  DOCTOR_CHECKS,
  type DoctorCheck,
  type DoctorCheckId,
  type DoctorFacts,
  type DoctorOptions,
  type DoctorSetting,
  type DoctorSettingsReport,
  type TrustStore,
} from './doctor/types.js';
export { InvalidInputsError, type InputProblem, LinkfaceError, UploadError, UsageError } from './errors.js';
export { describeStatus, explainFailure } from './explain/render.js';
export { API_ERROR_STATUSES, type ResultStatus, STATUS_TABLE, TOOL_STATUSES } from './explain/statuses.js';
export type { UploadJob } from './inputs/check.js';
export { parseShard, type Shard } from './inputs/shard.js';
export { type ReceivedRequest, type Sandbox, type SandboxOptions, type ScriptedResponse, startSandbox } from './sandbox/index.js';
export { type AfterUpload, type FolderWatch, type WatchCounts, type WatchOptions, type WatchResult } from './watch/watch.js';
