import {
  API_ERROR_STATUSES,
  type Lang,
  type ResultStatus,
  type SettingName,
  STATUS_TABLE,
  type StatusEntry,
  statusEntry,
  TOOL_STATUSES,
} from './statuses.js';

/** What is known about one failure. */
export interface FailureFacts {
  readonly input?: string;
  readonly status: ResultStatus;
  readonly httpStatus?: number;
  readonly reason?: string;
  readonly requestId?: string;
  readonly attempts?: number;
}

/** An explanation as labelled lines, so each renderer can style it its own way. */
export interface Explanation {
  /** `input: STATUS (HTTP 401)` */
  readonly headline: string;
  readonly lines: ReadonlyArray<{ readonly label: string; readonly text: string }>;
}

const LABELS = {
  en: { server: 'server said', details: 'details', request: 'request id', next: 'next step', attempts: 'attempts', from: 'now set by' },
  zh: { server: '服务器原因', details: '详情', request: '请求 id', next: '下一步', attempts: '尝试次数', from: '当前来源' },
} as const;

const UNKNOWN: Omit<StatusEntry, 'retry' | 'account'> = {
  meaning: {
    en: 'The server answered with an error code this version of linkface does not know.',
    zh: '服务器返回了本版本 linkface 不认识的错误码。',
  },
  nextStep: {
    en: 'Look the code up in the Linkface API documentation; quote the request id when you ask Linkface.',
    zh: '请在 Linkface 接口文档中查询该错误码;联系 Linkface 时请提供 request id。',
  },
};

/**
 * The explanation of a failure: what happened in plain words, what the server said, and the next step —
 * naming where the settings involved came from, when `origins` tells.
 */
export function explainFailure(
  facts: FailureFacts,
  lang: Lang = 'en',
  origins: Partial<Record<SettingName, string>> = {},
): Explanation {
  const entry = statusEntry(facts.status) ?? UNKNOWN;
  const labels = LABELS[lang];
  const http = facts.httpStatus ? ` (HTTP ${facts.httpStatus})` : '';
  const lines: Array<{ label: string; text: string }> = [{ label: '', text: entry.meaning[lang] }];
  // The tool's own statuses carry the tool's own description, not words from the server.
  const fromTool = (TOOL_STATUSES as readonly string[]).includes(facts.status);
  if (facts.reason) lines.push({ label: fromTool ? labels.details : labels.server, text: facts.reason });
  if (facts.requestId) lines.push({ label: labels.request, text: facts.requestId });
  if (facts.attempts && facts.attempts > 1) lines.push({ label: labels.attempts, text: String(facts.attempts) });
  lines.push({ label: labels.next, text: entry.nextStep[lang] });
  const where = (entry.settings ?? [])
    .filter((name) => origins[name])
    .map((name) => `${SETTING_LABELS[name]}: ${origins[name]}`);
  if (where.length > 0) lines.push({ label: labels.from, text: where.join('; ') });
  return { headline: `${facts.input ? `${facts.input}: ` : ''}${facts.status}${http}`, lines };
}

const SETTING_LABELS: Readonly<Record<SettingName, string>> = {
  apiId: 'api id',
  apiSecret: 'api secret',
  endpoint: 'endpoint',
  timeout: 'timeout',
  maxSize: 'max size',
  retries: 'retries',
  concurrency: 'concurrency',
};

/** Every status `linkface explain` knows, in the order it lists them: the API's codes, then the tool's own. */
export const EXPLAINED_STATUSES = [...API_ERROR_STATUSES, ...TOOL_STATUSES] as const;

/** `linkface explain STATUS`: meaning, HTTP status, whether it is retried, and the next step. */
export function describeStatus(status: string, lang: Lang = 'en'): string[] | undefined {
  const entry = statusEntry(status.toUpperCase());
  if (!entry) return undefined;
  const zh = lang === 'zh';
  const origin = entry.httpStatus ? `HTTP ${entry.httpStatus}` : zh ? 'linkface 自身的状态' : "linkface's own status";
  return [
    `${status.toUpperCase()} (${origin})`,
    `  ${entry.meaning[lang]}`,
    `  ${zh ? '重试' : 'retried'}: ${RETRY_TEXT[entry.retry][lang]}${entry.account ? (zh ? ';批量任务停止,退出码 3' : '; stops a batch, exit code 3') : ''}`,
    `  ${LABELS[lang].next}: ${entry.nextStep[lang]}`,
  ];
}

const RETRY_TEXT = {
  never: { en: 'no', zh: '否' },
  always: { en: 'yes, with backoff', zh: '是,指数退避' },
  'url-only': { en: 'yes for URL inputs, with backoff', zh: 'URL 输入会重试' },
  'rate-limit': { en: 'yes, and the batch slows down', zh: '是,并整体降低速率' },
} as const;

/** Statuses close to a mistyped one, for `linkface explain UNAUTHORISED`. */
export function similarStatuses(status: string): string[] {
  const wanted = status.toUpperCase().replace(/[^A-Z]/g, '');
  if (wanted.length < 3) return [];
  return Object.keys(STATUS_TABLE).filter((known) => {
    const plain = known.replace(/_/g, '');
    return plain.includes(wanted) || wanted.includes(plain) || editDistance(plain, wanted) <= 2;
  });
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}
