/**
 * Small purpose-built servers for the reliability tests (test/e2e/faults.test.ts and friends): faults the
 * sandbox cannot script, because they happen below HTTP (a connection dropped before the request body is
 * sent) or inside an answer (a body dribbled slower than --timeout, a body that never ends). Every server
 * binds 127.0.0.1 on an ephemeral port and is stopped by its `close()`, which also destroys open sockets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { parseForm } from '../../src/sandbox/form.js';

export interface LocalServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>`, for LINKFACE_ENDPOINT. */
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (an ephemeral port unless given) and tracks sockets so close() cannot hang. */
async function listen(server: Server, port = 0): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port: bound,
    close: () =>
      (closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      })),
  };
}

/** A port on 127.0.0.1 where nothing listens (bound, then released): connecting is refused. */
export async function refusedPort(): Promise<number> {
  const { port, close } = await listen(createTcpServer());
  await close();
  return port;
}

/** What a fault proxy does with one TCP connection. */
export type ConnectionPlan =
  /** Accept, then destroy the socket at once: not one byte of the request is read. */
  | 'drop-on-connect'
  /** Read the first chunk the client sends (request line, headers, perhaps a little body), then destroy. */
  | 'drop-after-first-bytes'
  /** Relay both ways to the target, untouched. */
  | 'forward';

export interface FaultProxy extends LocalServer {
  /** What happened to each connection, in order of arrival. */
  readonly connections: ConnectionPlan[];
  /** Bytes read from the client on connections that were dropped (never forwarded). */
  droppedBytes: number;
}

/**
 * A TCP proxy in front of `targetPort` that decides per connection (0-based, in order of arrival) whether
 * to drop it or relay it. Dropped connections never reach the target, so the target sees only what a
 * client sent again on a relayed connection.
 */
export async function startFaultProxy(targetPort: number, plan: (index: number) => ConnectionPlan): Promise<FaultProxy> {
  const upstreams = new Set<Socket>();
  const proxy = { port: 0, url: '', connections: [] as ConnectionPlan[], droppedBytes: 0, close: async () => {} };
  const server = createTcpServer((client) => {
    const what = plan(proxy.connections.length);
    proxy.connections.push(what);
    client.on('error', () => {});
    if (what === 'drop-on-connect') {
      client.destroy();
      return;
    }
    if (what === 'drop-after-first-bytes') {
      client.once('data', (chunk: Buffer) => {
        proxy.droppedBytes += chunk.length;
        // An RST, as a crashed or overloaded peer sends, rather than a polite FIN.
        client.resetAndDestroy();
      });
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    upstreams.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      upstreams.delete(upstream);
      client.destroy();
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  const { port, close } = await listen(server);
  proxy.port = port;
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.close = async () => {
    for (const upstream of upstreams) upstream.destroy();
    await close();
  };
  return proxy;
}

/** One upload request as a purpose-built HTTP server received it. */
export interface ReceivedUpload {
  readonly at: number;
  /** SHA-256 of the file part, hex; undefined when the body held no file. */
  readonly sha256?: string;
  readonly bytes: number;
  /** The id this server answered with, when its answer was a success (i.e. it "stored" the upload). */
  id?: string;
}

export interface ScriptedHttpServer extends LocalServer {
  readonly received: ReceivedUpload[];
}

/** How a scripted HTTP server answers one request, once its body has been read. */
export type HttpBehaviour = (request: ReceivedUpload, res: ServerResponse, req: IncomingMessage) => void;

/**
 * An HTTP server that reads each request body in full, records the file it carried, then answers with the
 * behaviour for that request's index (0-based, in order of arrival).
 */
export async function startScriptedHttpServer(behaviour: (index: number) => HttpBehaviour): Promise<ScriptedHttpServer> {
  const received: ReceivedUpload[] = [];
  const server = createHttpServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => {});
    res.on('error', () => {});
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let file: { bytes: Buffer } | undefined;
      try {
        file = parseForm(req.headers['content-type'] ?? '', body).file;
      } catch {
        file = undefined;
      }
      const request: ReceivedUpload = {
        at,
        bytes: body.length,
        ...(file && { sha256: createHash('sha256').update(file.bytes).digest('hex') }),
      };
      const index = received.length;
      received.push(request);
      behaviour(index)(request, res, req);
    });
  });
  const { port, close } = await listen(server);
  return { port, url: `http://127.0.0.1:${port}`, received, close };
}

/** Answers a success at once, like the real endpoint; the upload counts as stored. */
export const answerOk: HttpBehaviour = (request, res) => {
  request.id = randomBytes(16).toString('hex');
  const body = JSON.stringify({ request_id: `TID${randomBytes(8).toString('hex')}`, status: 'OK', liveness_data_id: request.id });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
};

/**
 * Stores the upload and sends the headers of a success at once, then its body one byte every `everyMs`:
 * the whole answer takes far longer than the client's --timeout, though bytes keep coming.
 */
export const dribbleOk =
  (everyMs: number): HttpBehaviour =>
  (request, res) => {
    request.id = randomBytes(16).toString('hex');
    const body = Buffer.from(JSON.stringify({ request_id: 'TIDdribble', status: 'OK', liveness_data_id: request.id }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.flushHeaders();
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed || sent >= body.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(body.subarray(sent, sent + 1));
      sent++;
    }, everyMs);
    res.on('close', () => clearInterval(timer));
  };

/**
 * A 200 whose body never ends: chunks of JSON-looking padding for as long as the client reads. A client
 * that buffers the whole answer never finishes; one that bounds its read gives up after a few chunks.
 * `sentBytes` reports how much was handed to the socket.
 */
export function endlessBody(stats: { sentBytes: number }): HttpBehaviour {
  return (_request, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    chunk.write('{"status":"OK","padding":"');
    const pump = () => {
      while (!res.destroyed) {
        stats.sentBytes += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  };
}
