import { X509Certificate } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { connect, isIP, type Socket } from 'node:net';
import type { SecureContext, TLSSocket } from 'node:tls';
import { pemCertificates } from '../api/dispatcher.js';
import type { TrustStore } from './types.js';

/**
 * The network steps of `doctor`, one at a time, each bounded: what undici does in one go (resolve, connect,
 * tunnel through a proxy, TLS), taken apart so that the step that fails can be named.
 */

/** An error of a step that ran out of time. */
export class StepTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what}: no answer within ${(ms / 1000).toFixed(1)} s`);
  }
}

/** The promise, or a StepTimeout after `ms`; `onTimeout` releases what the step holds (a socket). */
function within<T>(ms: number, what: string, promise: Promise<T>, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new StepTimeout(what, ms));
    }, ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The host's addresses as Node resolves them for a connection (getaddrinfo); an IP address is its own answer. */
export function resolveHost(host: string, ms: number): Promise<{ address: string; family: number }[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  const family = isIP(bare);
  if (family !== 0) return Promise.resolve([{ address: bare, family }]);
  // A lookup cannot be cancelled: past the limit it is no longer waited for.
  return within(ms, `DNS lookup of ${bare}`, lookup(bare, { all: true }));
}

/** A TCP connection to the first of the addresses that accepts one, tried in order within `ms` in all. */
export async function connectTcp(addresses: readonly { address: string }[], port: number, ms: number): Promise<Socket> {
  const deadline = performance.now() + ms;
  let failure: unknown;
  for (const { address } of addresses) {
    const left = deadline - performance.now();
    if (left <= 0) break;
    const socket = connect({ host: address, port });
    try {
      await within(left, `connecting to ${address}:${port}`, new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve).once('error', reject);
      }), () => socket.destroy());
      socket.removeAllListeners('error');
      return socket;
    } catch (error) {
      socket.destroy();
      failure = error;
    }
  }
  throw failure ?? new StepTimeout(`connecting to port ${port}`, ms);
}

/** The proxy's answer to CONNECT, when it is not 200. */
export class TunnelRefused extends Error {
  constructor(readonly httpStatus: number, statusLine: string) {
    super(`the proxy answered CONNECT with ${statusLine}`);
  }
}

/** Asks the proxy at the other end of `socket` for a tunnel to `target` (`host:port`), as undici does. */
export function openTunnel(socket: Socket, target: string, proxy: URL, ms: number): Promise<number> {
  const headers = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers.push(`Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}`);
  }
  const answered = new Promise<number>((resolve, reject) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) reject(new Error('the proxy answered CONNECT with more than 16 KiB of headers'));
        return;
      }
      socket.off('data', onData);
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      if (status === 200) resolve(status);
      else reject(new TunnelRefused(status, JSON.stringify(statusLine.slice(0, 80))));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('the proxy closed the connection without answering CONNECT')));
  });
  socket.write(`${headers.join('\r\n')}\r\n\r\n`);
  return within(ms, `the proxy's answer to CONNECT ${target}`, answered, () => socket.destroy());
}

/**
 * A TLS handshake over `socket` (which it takes over) that does not stop at an untrusted certificate, so that the certificate can be
 * described either way: `authorized` and `authorizationError` say whether an upload would accept it (the
 * same CAs and the same host-name check). Nothing is sent over it.
 */
export function handshake(socket: Socket, host: string, context: SecureContext | undefined, ms: number): Promise<TLSSocket> {
  const { connect: tlsConnect } = process.getBuiltinModule('node:tls');
  const bare = host.replace(/^\[|\]$/g, '');
  const secure = tlsConnect({
    socket,
    host: bare,
    servername: isIP(bare) ? undefined : bare,
    rejectUnauthorized: false,
    ...(context && { secureContext: context }),
  });
  // On failure the TLS socket is destroyed here, and with it the TCP socket it took over.
  const done = new Promise<TLSSocket>((resolve, reject) => {
    secure.once('secureConnect', () => resolve(secure)).once('error', (error) => {
      secure.destroy();
      reject(error);
    });
  });
  return within(ms, 'the TLS handshake', done, () => secure.destroy());
}

/** The certificates the server presented, leaf first, up to the root Node found for it. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/**
 * Which trust store holds the authority a chain leads to, in the order Node consults them: its built-in
 * roots, then NODE_EXTRA_CA_CERTS, then `ca` (`--ca`). A store anchors the chain when it holds one of its
 * certificates or the certificate that signed one.
 */
export function trustedBy(chain: readonly X509Certificate[], ca: string | undefined): TrustStore | undefined {
  const { rootCertificates } = process.getBuiltinModule('node:tls');
  const stores: [TrustStore, () => readonly string[]][] = [
    ['system', () => rootCertificates],
    ['NODE_EXTRA_CA_CERTS', () => pemCertificates(readExtraCaCerts())],
    ['ca', () => pemCertificates(ca ?? '')],
  ];
  for (const [store, pems] of stores) {
    for (const pem of pems()) {
      let anchor: X509Certificate;
      try {
        anchor = new X509Certificate(pem);
      } catch {
        continue;
      }
      const anchors = (cert: X509Certificate) =>
        cert.fingerprint256 === anchor.fingerprint256 || (cert.checkIssued(anchor) && cert.verify(anchor.publicKey));
      if (chain.some(anchors)) return store;
    }
  }
  return undefined;
}

function readExtraCaCerts(): string {
  const path = process.env.NODE_EXTRA_CA_CERTS;
  if (!path) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
