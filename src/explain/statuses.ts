/**
 * The one table of result statuses. It feeds the explanation text (`linkface explain` and every rendered
 * failure), the retry decision and the exit code, so those can never disagree.
 */

/** The error codes the endpoint documents, with the HTTP status it documents for each. */
export const API_ERROR_STATUSES = [
  'ENCODING_ERROR',
  'DOWNLOAD_TIMEOUT',
  'DOWNLOAD_ERROR',
  'WRONG_LIVENESS_DATA',
  'INVALID_ARGUMENT',
  'UNAUTHORIZED',
  'KEY_EXPIRED',
  'RATE_LIMIT_EXCEEDED',
  'NO_PERMISSION',
  'OUT_OF_QUOTA',
  'NOT_FOUND',
  'INTERNAL_ERROR',
] as const;
export type ApiErrorStatus = (typeof API_ERROR_STATUSES)[number];

/** Statuses the tool itself assigns when the server gave no usable answer or nothing was sent. */
export const TOOL_STATUSES = [
  'NETWORK_ERROR',
  'TIMEOUT',
  'BAD_RESPONSE',
  'INVALID_INPUT',
  'SKIPPED',
  'NOT_ATTEMPTED',
] as const;
export type ToolStatus = (typeof TOOL_STATUSES)[number];

export type KnownFailureStatus = ApiErrorStatus | ToolStatus;
/**
 * A failure status: one of the known ones, or an unknown code the server sent (kept verbatim so that a
 * user can still look it up with the vendor).
 */
export type FailureStatus = KnownFailureStatus | (string & {});
export type ResultStatus = 'OK' | FailureStatus;

/**
 * - `never`: fixing the request or the account is the only way forward.
 * - `always`: transient; worth another attempt after a backoff.
 * - `url-only`: transient only for URL inputs (the server's download of the URL timed out).
 * - `rate-limit`: transient, and the batch as a whole should slow down.
 */
export type RetryClass = 'never' | 'always' | 'url-only' | 'rate-limit';

export type Lang = 'en' | 'zh';
export type Text = Readonly<Record<Lang, string>>;

/** A setting a user may need to change to fix a failure; the renderer says where its value came from. */
export type SettingName = 'apiId' | 'apiSecret' | 'endpoint' | 'timeout' | 'maxSize' | 'retries' | 'concurrency';

export interface StatusEntry {
  /** The HTTP status the endpoint documents for this code; absent for the tool's own statuses. */
  readonly httpStatus?: number;
  readonly retry: RetryClass;
  /** The account cannot upload at all: a batch stops and the exit code is 3. */
  readonly account: boolean;
  /** One line, plain language: what happened. */
  readonly meaning: Text;
  /** The concrete next step: which flag, variable or file to change. */
  readonly nextStep: Text;
  /** Settings whose origin is worth showing next to the next step. */
  readonly settings?: readonly SettingName[];
}

const CREDENTIALS: readonly SettingName[] = ['apiId', 'apiSecret'];

export const STATUS_TABLE: Readonly<Record<KnownFailureStatus, StatusEntry>> = {
  ENCODING_ERROR: {
    httpStatus: 400,
    retry: 'never',
    account: false,
    meaning: {
      en: 'A request parameter is not valid UTF-8 (usually the URL).',
      zh: '请求参数不是 UTF-8 编码(通常是 url)。',
    },
    nextStep: {
      en: 'Give the URL as UTF-8 text; linkface percent-encodes it. Check the file or shell that produced it.',
      zh: '请以 UTF-8 文本提供 URL(linkface 会自动进行百分号编码),并检查生成它的文件或脚本的编码。',
    },
  },
  DOWNLOAD_TIMEOUT: {
    httpStatus: 400,
    retry: 'url-only',
    account: false,
    meaning: {
      en: 'The Linkface server could not download the URL within its 5 second limit.',
      zh: '云端在 5 秒限时内未能下载完该 URL 指向的文件。',
    },
    nextStep: {
      en: 'Serve the file from a host that is fast and reachable from the internet, or upload the local file instead of its URL.',
      zh: '请把文件放到互联网上可快速访问的地址,或直接上传本地文件而不是 URL。',
    },
  },
  DOWNLOAD_ERROR: {
    httpStatus: 400,
    retry: 'never',
    account: false,
    meaning: {
      en: 'The Linkface server could not download the URL.',
      zh: '云端下载该 URL 失败。',
    },
    nextStep: {
      en: 'Check that the URL is correct and publicly reachable (no login, no private network address), or upload the local file.',
      zh: '请确认 URL 正确且可公开访问(无需登录、不是内网地址),或直接上传本地文件。',
    },
  },
  WRONG_LIVENESS_DATA: {
    httpStatus: 400,
    retry: 'never',
    account: false,
    meaning: {
      en: 'The file is not intact liveness data from the Linkface mobile SDK.',
      zh: '文件不是完整的 Linkface 移动端活体 SDK 输出数据。',
    },
    nextStep: {
      en: 'Upload the encrypted file exactly as the SDK returned it (not an image, not re-encoded, not truncated).',
      zh: '请上传 SDK 返回的原始加密文件(不要上传图片,不要转码或截断)。',
    },
  },
  INVALID_ARGUMENT: {
    httpStatus: 400,
    retry: 'never',
    account: false,
    meaning: {
      en: 'The server rejected a request parameter; its reason says which.',
      zh: '请求参数有误,具体原因见 reason。',
    },
    nextStep: {
      en: "Read the server's reason below; if it names a parameter linkface sends for you, report it with the request id.",
      zh: '请查看下方服务器给出的原因;如涉及 linkface 自动发送的参数,请附上 request id 反馈问题。',
    },
  },
  UNAUTHORIZED: {
    httpStatus: 401,
    retry: 'never',
    account: true,
    meaning: {
      en: 'The API account or key is wrong.',
      zh: 'API 账户或密钥错误。',
    },
    nextStep: {
      en: 'Check the api id and secret: --api-id / LINKFACE_API_ID / apiId and LINKFACE_API_SECRET(_FILE) / apiSecret(File).',
      zh: '请检查 API 账户和密钥:--api-id / LINKFACE_API_ID / apiId 以及 LINKFACE_API_SECRET(_FILE) / apiSecret(File)。',
    },
    settings: CREDENTIALS,
  },
  KEY_EXPIRED: {
    httpStatus: 401,
    retry: 'never',
    account: true,
    meaning: {
      en: 'The API account has expired.',
      zh: 'API 账户已过期。',
    },
    nextStep: {
      en: 'Renew the account with Linkface, or switch to a current one (--profile, LINKFACE_API_ID / LINKFACE_API_SECRET).',
      zh: '请联系 Linkface 续期账户,或改用有效账户(--profile、LINKFACE_API_ID / LINKFACE_API_SECRET)。',
    },
    settings: CREDENTIALS,
  },
  RATE_LIMIT_EXCEEDED: {
    httpStatus: 403,
    retry: 'rate-limit',
    account: false,
    meaning: {
      en: 'Calls are too frequent for this account.',
      zh: '调用频率超出账户限额。',
    },
    nextStep: {
      en: 'linkface already backs off and retries; if this persists, lower --concurrency or ask Linkface for a higher rate.',
      zh: 'linkface 会自动退避重试;若持续出现,请降低 --concurrency 或向 Linkface 申请更高的频率限额。',
    },
    settings: ['concurrency'],
  },
  NO_PERMISSION: {
    httpStatus: 403,
    retry: 'never',
    account: true,
    meaning: {
      en: 'This account is not allowed to call the upload API.',
      zh: '该账户没有调用此接口的权限。',
    },
    nextStep: {
      en: 'Ask Linkface to enable upload_liveness_data for this api id, or use an account that has it (--profile).',
      zh: '请联系 Linkface 为该账户开通 upload_liveness_data 接口,或改用有权限的账户(--profile)。',
    },
    settings: ['apiId'],
  },
  OUT_OF_QUOTA: {
    httpStatus: 403,
    retry: 'never',
    account: true,
    meaning: {
      en: "The account's call quota is used up; retrying will not help.",
      zh: '账户调用次数已超出限额,重试无效。',
    },
    nextStep: {
      en: 'Buy more quota from Linkface or switch to another account (--profile); rerun with --manifest FILE --resume to upload only what is missing.',
      zh: '请向 Linkface 购买更多调用次数或改用其他账户(--profile);之后用 --manifest 文件 --resume 重跑,只上传未完成的部分。',
    },
    settings: ['apiId'],
  },
  NOT_FOUND: {
    httpStatus: 404,
    retry: 'never',
    account: false,
    meaning: {
      en: 'The request path does not exist on the server: the endpoint is wrong.',
      zh: '请求路径不存在:endpoint 设置有误。',
    },
    nextStep: {
      en: 'Set the endpoint to the service root, e.g. https://cloudapi.linkface.cn (--endpoint, LINKFACE_ENDPOINT, endpoint).',
      zh: '请把 endpoint 设为服务根地址,如 https://cloudapi.linkface.cn(--endpoint、LINKFACE_ENDPOINT 或 endpoint)。',
    },
    settings: ['endpoint'],
  },
  INTERNAL_ERROR: {
    httpStatus: 500,
    retry: 'always',
    account: false,
    meaning: {
      en: 'The Linkface server failed while handling the request.',
      zh: '云端服务器内部错误。',
    },
    nextStep: {
      en: 'linkface retries this by itself; if it keeps failing, try later or report the request id to Linkface.',
      zh: 'linkface 会自动重试;若持续失败,请稍后再试或把 request id 提供给 Linkface。',
    },
  },
  NETWORK_ERROR: {
    retry: 'always',
    account: false,
    meaning: {
      en: 'The server could not be reached, or the connection broke.',
      zh: '无法连接服务器,或连接中断。',
    },
    nextStep: {
      en: 'Check the endpoint, your network and HTTPS_PROXY / NO_PROXY; for a certificate problem, --ca or NODE_EXTRA_CA_CERTS. Dropped and refused connections were already retried.',
      zh: '请检查 endpoint、网络以及 HTTPS_PROXY / NO_PROXY 设置;证书问题请使用 --ca 或 NODE_EXTRA_CA_CERTS。连接中断或被拒绝时 linkface 已自动重试。',
    },
    settings: ['endpoint'],
  },
  TIMEOUT: {
    retry: 'always',
    account: false,
    meaning: {
      en: 'No answer from the server within the per-attempt timeout.',
      zh: '在单次请求超时时间内未收到服务器响应。',
    },
    nextStep: {
      en: 'Raise --timeout (LINKFACE_TIMEOUT, timeout) on a slow link, or check the network; linkface already retried.',
      zh: '网络较慢时请调大 --timeout(LINKFACE_TIMEOUT、timeout),或检查网络;linkface 已自动重试。',
    },
    settings: ['timeout'],
  },
  BAD_RESPONSE: {
    retry: 'never',
    account: false,
    meaning: {
      en: 'The server answered with something that is not a valid answer of the Linkface API (not JSON, no status, an id that cannot be printed, a success with an HTTP error, a redirect).',
      zh: '服务器返回的内容不是 Linkface 接口的有效响应(不是 JSON、缺少 status、id 无法打印、HTTP 错误却声称成功,或重定向)。',
    },
    nextStep: {
      en: 'Check that the endpoint points at the Linkface API and not at a proxy or web page; the details say what came back. If an id was refused after an HTTP 2xx, the upload may have been stored: quote the request id to Linkface.',
      zh: '请确认 endpoint 指向 Linkface 接口,而不是代理或网页;详情说明了返回内容。若 HTTP 2xx 之后 id 被拒绝,上传可能已被保存:请向 Linkface 提供 request id。',
    },
    settings: ['endpoint'],
  },
  INVALID_INPUT: {
    retry: 'never',
    account: false,
    meaning: {
      en: 'The input cannot be uploaded as given; nothing was sent for it.',
      zh: '输入无法按原样上传,未发送任何内容。',
    },
    nextStep: {
      en: 'Fix the input as the message says (path, permissions, size, URL), or pass --skip-invalid to go on without it.',
      zh: '请按提示修正输入(路径、权限、大小、URL),或使用 --skip-invalid 跳过它。',
    },
    settings: ['maxSize'],
  },
  SKIPPED: {
    retry: 'never',
    account: false,
    meaning: {
      en: 'The input was skipped and not uploaded.',
      zh: '该输入已跳过,未上传。',
    },
    nextStep: {
      en: 'Nothing to do unless you meant to upload it; the reason says why it was skipped.',
      zh: '若无需上传则无需处理;原因见 reason。',
    },
  },
  NOT_ATTEMPTED: {
    retry: 'never',
    account: false,
    meaning: {
      en: 'The upload was not started because the batch stopped first.',
      zh: '批量任务已提前停止,该输入未上传。',
    },
    nextStep: {
      en: 'Fix what stopped the batch, then rerun with --manifest and --resume to upload only what is missing.',
      zh: '请先解决导致任务停止的问题,再使用 --manifest 和 --resume 重跑,只上传缺失部分。',
    },
  },
};

/** The entry for a status, or undefined for 'OK' and for codes the endpoint does not document. */
export function statusEntry(status: ResultStatus): StatusEntry | undefined {
  return Object.hasOwn(STATUS_TABLE, status) ? STATUS_TABLE[status as KnownFailureStatus] : undefined;
}

export function isAccountStatus(status: ResultStatus): boolean {
  return statusEntry(status)?.account ?? false;
}

/**
 * Whether another attempt may succeed. Unknown codes are judged by their HTTP status, as the SPEC says:
 * 5xx are retried, other 4xx are not.
 */
export function isRetryableStatus(status: ResultStatus, kind: 'file' | 'url', httpStatus?: number): boolean {
  const entry = statusEntry(status);
  if (entry?.account) return false;
  // A 5xx is transient whatever its body says (a proxy's HTML 502 included).
  if (httpStatus !== undefined && httpStatus >= 500) return true;
  if (!entry) return false;
  switch (entry.retry) {
    case 'always':
    case 'rate-limit':
      return true;
    case 'url-only':
      return kind === 'url';
    case 'never':
      return false;
  }
}
