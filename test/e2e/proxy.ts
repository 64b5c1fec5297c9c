import { createServer, request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

/** One request the proxy received: a CONNECT tunnel or a plain-http request forwarded by absolute URI. */
export interface ProxiedRequest {
  method: string;
  /** What the client asked for: `host:port` for CONNECT, the absolute URI otherwise. */
  target: string;
  /** The Proxy-Authorization header as received, if any. */
  proxyAuthorization?: string;
  /** The proxy's answer: 200 for an open tunnel, the target's status when forwarded, 407, 502, or 0 (hung). */
  status: number;
  /** Every byte the client sent through the proxy after the request line and headers (tunnel or body). */
  readonly sent: Buffer[];
}

export interface TestProxy {
  /** `http://127.0.0.1:PORT`, with `user:pass@` when credentials are required. */
  url: string;
  /** The same proxy without credentials in the URL (to test a 407). */
  bareUrl: string;
  requests: ProxiedRequest[];
  /** Whether the proxy saw `text` in clear anywhere: in a target URL or in the bytes it carried. */
  sawInClear(text: string): boolean;
  close(): Promise<void>;
}

export interface TestProxyOptions {
  /** Receive requests (and record them) but never answer: a proxy that hangs on CONNECT. */
  hang?: boolean;
  /** Require `Proxy-Authorization: Basic` with these credentials, answering 407 otherwise. */
  credentials?: { user: string; password: string };
}

/**
 * A real forward proxy on 127.0.0.1 for the end-to-end tests, as a corporate proxy behaves: CONNECT opens a
 * TCP tunnel to the target (https endpoints), and a request with an absolute URI is forwarded (plain http).
 * It records what it proxied, so tests can check what a proxy operator could read in its logs.
 */
export async function startProxy(options: TestProxyOptions = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    return socket;
  };
  const expected = options.credentials
    ? `Basic ${Buffer.from(`${options.credentials.user}:${options.credentials.password}`).toString('base64')}`
    : undefined;
  const admit = (req: IncomingMessage): ProxiedRequest => {
    const record: ProxiedRequest = { method: req.method ?? '', target: req.url ?? '', status: 0, sent: [] };
    if (req.headers['proxy-authorization']) record.proxyAuthorization = req.headers['proxy-authorization'];
    requests.push(record);
    if (expected && record.proxyAuthorization !== expected) record.status = 407;
    return record;
  };

  const server = createServer((req, res) => {
    const record = admit(req);
    if (options.hang) return;
    if (record.status === 407) {
      // Read the request first: answering and closing mid-body would make the client see a reset (and retry)
      // rather than the 407, depending on timing.
      req.resume();
      req.once('end', () => res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', connection: 'close' }).end());
      return;
    }
    let target: URL;
    try {
      target = new URL(record.target);
    } catch {
      record.status = 400;
      res.writeHead(400).end('absolute URI expected');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = httpRequest(
      { host: unbracket(target.hostname), port: target.port || 80, method: req.method, path: target.pathname + target.search, headers },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(record.status, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.once('socket', track);
    upstream.on('error', () => {
      record.status = 502;
      if (!res.headersSent) res.writeHead(502).end('bad gateway');
    });
    req.on('data', (chunk: Buffer) => record.sent.push(chunk));
    req.pipe(upstream);
  });

  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const record = admit(req);
    client.on('error', () => {});
    if (options.hang) return;
    if (record.status === 407) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n');
      return;
    }
    const { hostname, port } = new URL(`http://${record.target}`);
    const upstream = track(connect(Number(port) || 443, unbracket(hostname)));
    upstream.once('connect', () => {
      record.status = 200;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) record.sent.push(head);
      upstream.write(head);
      client.on('data', (chunk: Buffer) => record.sent.push(chunk));
      client.pipe(upstream).pipe(client);
    });
    upstream.once('error', () => {
      if (record.status === 0) {
        record.status = 502;
        client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      } else {
        client.destroy();
      }
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const bareUrl = `http://127.0.0.1:${port}`;
  const { credentials } = options;
  return {
    url: credentials
      ? `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`
      : bareUrl,
    bareUrl,
    requests,
    sawInClear: (text) =>
      requests.some((r) => decoded(r.target).includes(text) || Buffer.concat(r.sent).includes(text)),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/** A target as a proxy log would show it, percent-decoding undone where it can be. */
function decoded(target: string): string {
  try {
    return `${target} ${decodeURIComponent(target)}`;
  } catch {
    return target;
  }
}

function unbracket(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '');
}
