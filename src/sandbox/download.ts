import { fetch } from 'undici';
import type { Dispatcher } from 'undici';

export type Download =
  | { readonly kind: 'content'; readonly bytes: Buffer }
  | { readonly kind: 'tooLarge' }
  | { readonly kind: 'failed'; readonly status: 'DOWNLOAD_TIMEOUT' | 'DOWNLOAD_ERROR'; readonly reason: string };

export interface DownloadLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** The sandbox's own connection pool, so a global dispatcher the host program set (a proxy) is not used. */
  readonly dispatcher: Dispatcher;
  /** Aborted when the sandbox closes: the download then rejects instead of producing an answer. */
  readonly closing: AbortSignal;
}

/** Downloads a `url` parameter as the service does: within a time limit that covers the whole body. */
export async function download(url: string, limits: DownloadLimits): Promise<Download> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, {
      signal: AbortSignal.any([timeout, limits.closing]),
      dispatcher: limits.dispatcher,
    });
    if (!response.ok) {
      await response.body?.cancel();
      return downloadError(`the url answered HTTP ${response.status}`);
    }
    const bytes = response.body ? await readAtMost(response.body, limits.maxBytes) : Buffer.alloc(0);
    if (!bytes) return { kind: 'tooLarge' };
    if (bytes.length === 0) return downloadError('the url answered with no content');
    return { kind: 'content', bytes };
  } catch (error) {
    if (limits.closing.aborted) throw error;
    if (timeout.aborted) {
      return {
        kind: 'failed',
        status: 'DOWNLOAD_TIMEOUT',
        reason: `downloading the url took longer than ${limits.timeoutMs} ms`,
      };
    }
    return downloadError(`could not download the url: ${describeFailure(error)}`);
  }
}

/** The body, or undefined as soon as it grows past maxBytes (the rest is not downloaded). */
async function readAtMost(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

function downloadError(reason: string): Download {
  return { kind: 'failed', status: 'DOWNLOAD_ERROR', reason };
}

/** fetch() reports every network failure as `TypeError: fetch failed`; the cause says which. */
function describeFailure(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
  return error instanceof Error ? error.message : String(error);
}
