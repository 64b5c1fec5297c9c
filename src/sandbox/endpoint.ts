import { errorAnswer, successAnswer } from './answers.js';
import type { Answer, IdField } from './answers.js';
import { download } from './download.js';
import type { DownloadLimits } from './download.js';
import type { DecodedParams, RawFile } from './form.js';
import { triggeredAnswer } from './trigger.js';


export interface EndpointConfig {
  readonly apiId: string;
  readonly apiSecret: string;
  readonly idField: IdField;
  readonly maxFileBytes: number;
  readonly download: Omit<DownloadLimits, 'maxBytes'>;
}

export interface UploadRequest {
  /** Form and query parameters together, form values first. */
  readonly params: DecodedParams;
  readonly file?: RawFile;
}

/** The endpoint's documented checks, in the order a server would make them. */
export async function answerUpload(request: UploadRequest, config: EndpointConfig): Promise<Answer> {
  const { values, notUtf8 } = request.params;
  const badParam = notUtf8[0];
  if (badParam !== undefined) return errorAnswer('ENCODING_ERROR', { reason: `parameter '${badParam}' is not UTF-8` });
  const credentialsProblem = checkCredentials(values, config);
  if (credentialsProblem) return credentialsProblem;
  const url = values['url'] || undefined;
  if (request.file && url !== undefined) {
    return errorAnswer('INVALID_ARGUMENT', { reason: "specify only one of 'file' or 'url'" });
  }
  if (request.file) return judgeContent(request.file.bytes, config);
  if (url !== undefined) return answerUrl(url, config);
  return errorAnswer('INVALID_ARGUMENT', { reason: "must specify 'file' or 'url' argument" });
}

export function fileTooLarge(maxFileBytes: number): Answer {
  const mib = maxFileBytes / (1024 * 1024);
  const limit = Number.isInteger(mib) ? `${mib} MB` : `${maxFileBytes} bytes`;
  return errorAnswer('INVALID_ARGUMENT', { reason: `file exceeds ${limit}` });
}

function checkCredentials(values: Record<string, string>, config: EndpointConfig): Answer | undefined {
  for (const name of ['api_id', 'api_secret']) {
    if (!values[name]) return errorAnswer('INVALID_ARGUMENT', { reason: `missing required parameter '${name}'` });
  }
  if (values['api_id'] !== config.apiId || values['api_secret'] !== config.apiSecret) {
    return errorAnswer('UNAUTHORIZED', { reason: 'wrong api_id or api_secret' });
  }
  return undefined;
}

async function answerUrl(url: string, config: EndpointConfig): Promise<Answer> {
  if (!isHttpUrl(url)) return errorAnswer('INVALID_ARGUMENT', { reason: "'url' must be an http or https address" });
  const fetched = await download(url, { ...config.download, maxBytes: config.maxFileBytes });
  switch (fetched.kind) {
    case 'tooLarge':
      return fileTooLarge(config.maxFileBytes);
    case 'failed':
      return errorAnswer(fetched.status, { reason: fetched.reason });
    case 'content':
      return judgeContent(fetched.bytes, config);
  }
}

function isHttpUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** The sandbox does not judge liveness: any non-empty content within the limit is accepted. */
function judgeContent(bytes: Buffer, config: EndpointConfig): Answer {
  if (bytes.length > config.maxFileBytes) return fileTooLarge(config.maxFileBytes);
  if (bytes.length === 0) return errorAnswer('WRONG_LIVENESS_DATA', { reason: 'the file is empty' });
  return triggeredAnswer(bytes) ?? successAnswer(config.idField);
}
