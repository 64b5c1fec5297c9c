import { describeStatus, EXPLAINED_STATUSES, similarStatuses } from '../explain/render.js';
import { type Lang, STATUS_TABLE } from '../explain/statuses.js';
import { ExitCode } from './exit.js';

/** `linkface explain [STATUS]`: the same table that backs every rendered failure. */
export function runExplainCommand(status: string | undefined, options: { lang?: Lang }): number {
  const lang = options.lang ?? 'en';
  if (status === undefined) {
    const width = Math.max(...EXPLAINED_STATUSES.map((s) => s.length));
    for (const code of EXPLAINED_STATUSES) {
      const entry = STATUS_TABLE[code];
      const http = entry.httpStatus ? String(entry.httpStatus) : '---';
      process.stdout.write(`${code.padEnd(width)}  ${http}  ${entry.meaning[lang]}\n`);
    }
    process.stdout.write(lang === 'zh' ? '\n详情:linkface explain <状态码>\n' : '\nMore: linkface explain <STATUS>\n');
    return ExitCode.Ok;
  }
  const lines = describeStatus(status, lang);
  if (!lines) {
    const similar = similarStatuses(status);
    process.stderr.write(
      `linkface: '${status}' is not a status linkface knows.${similar.length ? ` Did you mean ${similar.join(' or ')}?` : ''}\nRun 'linkface explain' for the list.\n`,
    );
    return ExitCode.Usage;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.Ok;
}
