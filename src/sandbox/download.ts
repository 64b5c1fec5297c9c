import type { Dispatcher } from 'undici';
import { followingRedirects, sendRequest } from '../api/dispatcher.js';
import { errorCode } from '../api/network.js';
import { readAtMost } from '../read.js';

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

/** Redirects followed before a download counts as failed (as many as fetch() follows). */
const MAX_REDIRECTIONS = 20;

/**
 * Downloads a `url` parameter as the service does: within a time limit that covers the whole body, following
 * redirects. undici's `request` rather than its `fetch`: the client already loads it, and fetch would add most
 * of undici (some 450 KB) to the command line's bundle.
 */
export async function download(url: string, limits: DownloadLimits): Promise<Download> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const target = new URL(url);
  try {
    const { statusCode, body } = await sendRequest(followingRedirects(limits.dispatcher, MAX_REDIRECTIONS), {
      origin: target.origin,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      signal: AbortSignal.any([timeout, limits.closing]),
    });
    // The body is dropped unread when the answer is already known (an error status, too large): undici then
    // fails the body stream, which is expected here.
    body.on('error', () => {});
    if (statusCode < 200 || statusCode > 299) {
      body.destroy();
      return downloadError(`the url answered HTTP ${statusCode}`);
    }
    const bytes = await readAtMost(body, limits.maxBytes);
    if (!bytes) {
      body.destroy();
      return { kind: 'tooLarge' };
    }
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


function downloadError(reason: string): Download {
  return { kind: 'failed', status: 'DOWNLOAD_ERROR', reason };
}

/** The most telling part of a failure: its code (ECONNREFUSED, UND_ERR_…) or a cause's, else its message. */
function describeFailure(error: unknown): string {
  return errorCode(error) ?? (error instanceof Error ? error.message : String(error));
}
