/**
 * A server that answers whatever a test scripts, byte for byte: the status line, the headers and the body are
 * written to the socket exactly as given, as an attacker in the network path (a compromised proxy, a wrong
 * endpoint) or a broken gateway would. It reads each request in full first (so the client never sees a reset
 * while sending), records the file it carried, and closes the connection after each answer. Binds 127.0.0.1
 * on an ephemeral port; close() destroys open sockets.
 */
import { createHash } from 'node:crypto';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { parseForm } from '../../src/sandbox/form.js';

export interface HostileServer {
  readonly url: string;
  /** SHA-256 of the file part of each request, in order of arrival (undefined when there was none). */
  readonly received: Array<string | undefined>;
  close(): Promise<void>;
}

/** An answer as raw bytes: `Content-Length` and `Connection: close` are added unless the headers name them. */
export function rawAnswer(statusLine: string, headers: Record<string, string>, body: string | Buffer): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const lower = Object.keys(headers).map((name) => name.toLowerCase());
  const all = { ...headers };
  if (!lower.includes('content-length')) all['Content-Length'] = String(bytes.length);
  if (!lower.includes('connection')) all.Connection = 'close';
  const head = [`HTTP/1.1 ${statusLine}`, ...Object.entries(all).map(([name, value]) => `${name}: ${value}`)].join('\r\n');
  return Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'latin1'), bytes]);
}

/** A JSON answer with the given HTTP status line and extra headers; `json` is sent as written (a string) or stringified. */
export function jsonAnswer(statusLine: string, json: unknown, headers: Record<string, string> = {}): Buffer {
  return rawAnswer(statusLine, { 'Content-Type': 'application/json', ...headers }, typeof json === 'string' ? json : JSON.stringify(json));
}

/**
 * Starts the server; `answer(index, sha256)` gives the bytes for the index-th request (0-based, in order of
 * arrival), which carried a file with that SHA-256 (undefined when it carried none).
 */
export async function startHostileServer(answer: (index: number, sha256: string | undefined) => Buffer): Promise<HostileServer> {
  const received: Array<string | undefined> = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.subarray(0, end).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const body = buffered.subarray(end + 4);
      if (body.length < length) return;
      socket.off('data', onData);
      const contentType = /\r\ncontent-type:\s*([^\r]*)/i.exec(head)?.[1] ?? '';
      let file: Buffer | undefined;
      try {
        file = parseForm(contentType, body.subarray(0, length)).file?.bytes;
      } catch {
        file = undefined;
      }
      const index = received.length;
      const sha256 = file && createHash('sha256').update(file).digest('hex');
      received.push(sha256);
      socket.end(answer(index, sha256));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
