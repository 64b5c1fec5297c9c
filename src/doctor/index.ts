import type { Socket } from 'node:net';
import { EndpointClient, isLoopback, uploadUrlFor } from '../api/client.js';
import { proxyRoute, type ProxyRoute, trustingAlso } from '../api/dispatcher.js';
import { certificateAdvice, interpretNetworkError } from '../api/network.js';
import { DEFAULT_ENDPOINT } from '../engine/client.js';
import { UsageError } from '../errors.js';
import { accountCheck, clockCheck } from './account.js';
import { connectTcp, handshake, openTunnel, peerChain, resolveHost, StepTimeout, trustedBy, TunnelRefused } from './probes.js';
import { settingsCheck, versionsCheck } from './local.js';
import { type CheckBuilder, type Network, skipped, startCheck } from './check.js';
import type { DoctorCheck, DoctorOptions, TrustStore } from './types.js';

/** Each network step waits at most this long, and all of them together at most `timeoutMs`. */
const STEP_MS = 3000;

/**
 * Checks the whole path an upload takes, in order, and yields each check as it ends: versions, settings, the
 * endpoint and its http/https policy, the proxy and why, DNS, TCP, the proxy's tunnel, TLS (certificate and
 * which store trusted it), the clock against the server's `Date`, and what the service says of the account to
 * a call that carries the credentials and no file (it uploads nothing). A check that cannot be made because
 * an earlier one failed is yielded as `skip`. The whole run takes at most `timeoutMs` (10 s), whatever the
 * network does.
 *
 *   for await (const check of doctor({ apiId, apiSecret })) console.log(check.status, check.summary);
 */
export async function* doctor(options: DoctorOptions = {}): AsyncGenerator<DoctorCheck, void, undefined> {
  const deadline = performance.now() + (options.timeoutMs ?? 10_000);
  const left = (cap = Infinity) => Math.max(0, Math.min(cap, deadline - performance.now()));
  yield versionsCheck();
  const settings = await settingsCheck(options);
  yield settings;
  if (options.settings?.error) return yield* skipFrom('endpoint', 'the settings could not be read');

  const endpointStart = startCheck('endpoint');
  const endpoint = options.endpoint ?? DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(uploadUrlFor(endpoint, options.allowHttp ?? false));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    yield endpointStart.fail(error.message, { endpoint }, error.details.join('\n') || 'Set the endpoint to an https:// URL.');
    return yield* skipFrom('proxy', 'the endpoint is not usable');
  }
  yield endpointStart.pass(url.href, { endpoint, uploadUrl: url.href, protocol: url.protocol === 'https:' ? 'https' : 'http' }, [policy(url, options.allowHttp)]);

  const proxyStart = startCheck('proxy');
  let route: ProxyRoute;
  try {
    route = proxyRoute(url);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    yield proxyStart.fail(error.message, {}, error.details.join('\n'));
    return yield* skipFrom('dns', 'the proxy setting is not usable');
  }
  const proxy = route.proxy === undefined ? undefined : new URL(route.proxy);
  const shownProxy = proxy && withoutPassword(proxy);
  yield proxyStart.pass(shownProxy ? `${shownProxy} (from ${route.variable})` : 'none: a direct connection', { proxy: shownProxy, variable: route.variable, why: route.why }, [route.why]);

  const reached = yield* walkNetwork(url, proxy, options, left);
  if (!reached) return yield* skipFrom('clock', 'there is no working connection to the endpoint');
  yield* accountChecks(url, options, left);
}

/** DNS, TCP, the tunnel and TLS, each a check yielded as it ends; returns whether the HTTP call can be tried. */
async function* walkNetwork(url: URL, proxy: URL | undefined, options: DoctorOptions, left: (cap?: number) => number): AsyncGenerator<DoctorCheck, boolean> {
  const https = url.protocol === 'https:';
  const target = proxy ?? url;
  const to = proxy ? 'proxy' : 'endpoint';
  const port = Number(target.port) || defaultPort(target.protocol);

  const dns = startCheck('dns');
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolveHost(target.hostname, left(STEP_MS));
  } catch (error) {
    yield dns.fail(describe(error), { host: target.hostname }, proxy ? fixProxy() : `Check the host name in the endpoint (${url.origin}) and this machine's DNS settings.`);
    yield* skipList('tcp', 'tls', 'the name did not resolve');
    return false;
  }
  const list = addresses.map((a) => a.address).join(', ');
  const literal = addresses.length === 1 && addresses[0]?.address === target.hostname.replace(/^\[|\]$/g, '');
  yield dns.pass(literal ? `${list} (an IP address: no lookup)` : `${target.hostname} → ${list}`, { host: target.hostname, addresses }, proxy ? [`the proxy resolves ${url.hostname} itself`] : []);

  const tcp = startCheck('tcp');
  let socket: Socket;
  try {
    socket = await connectTcp(addresses, port, left(STEP_MS));
  } catch (error) {
    const fix = proxy ? fixProxy() : `Check that the endpoint's address and port (${url.host}) are right and that the service is up; a firewall may block port ${port}.`;
    yield tcp.fail(`cannot connect to the ${to} (${describe(error)})`, { port, to }, fix);
    yield* skipList('tunnel', 'tls', `no TCP connection to the ${to}`);
    return false;
  }
  // The one socket to close at the end: a TLS socket takes over the TCP socket's handle, and destroying both
  // (the TCP one under a live TLS one) crashes Node.
  let open: Socket | undefined = socket;
  try {
    yield tcp.pass(`connected to the ${to} at ${hostPort(socket.remoteAddress ?? '', port)}`, { address: socket.remoteAddress, port, to });
    const tunnel = startCheck('tunnel');
    const tunnelTarget = `${url.hostname}:${Number(url.port) || 443}`;
    if (!proxy) yield skipped('tunnel', 'no proxy');
    else if (!https) yield skipped('tunnel', 'a plain-http endpoint is sent to the proxy as an ordinary request, without a tunnel');
    else if (proxy.protocol !== 'http:') {
      yield skipped('tunnel', `not probed through a ${proxy.protocol.slice(0, -1)} proxy; the HTTP call below goes through it`);
      yield skipped('tls', `not probed through a ${proxy.protocol.slice(0, -1)} proxy`);
      return true;
    } else {
      try {
        const httpStatus = await openTunnel(socket, tunnelTarget, proxy, left(STEP_MS));
        yield tunnel.pass(`the proxy opened a tunnel to ${tunnelTarget} (HTTP ${httpStatus})`, { target: tunnelTarget, httpStatus });
      } catch (error) {
        yield tunnelFailure(tunnel, error, tunnelTarget);
        yield skipped('tls', 'the proxy opened no tunnel');
        return false;
      }
    }
    if (!https) {
      yield skipped('tls', 'plain http: no TLS');
      return true;
    }
    open = undefined;
    const tls = await tlsCheck(socket, url, options.ca, left);
    open = tls.socket;
    yield tls.check;
    return tls.check.status === 'pass';
  } finally {
    open?.destroy();
  }
}

async function tlsCheck(socket: Socket, url: URL, ca: string | undefined, left: (cap?: number) => number): Promise<{ check: DoctorCheck; socket?: Socket }> {
  const step = startCheck('tls');
  let secure;
  try {
    secure = await handshake(socket, url.hostname, ca === undefined ? undefined : trustingAlso(ca), left(STEP_MS));
  } catch (error) {
    return { check: step.fail(`the TLS handshake failed (${describe(error)})`, {}, 'Check that the endpoint speaks https on this port, and that no proxy or firewall interferes.') };
  }
  const chain = peerChain(secure);
  const leaf = chain[0];
  const validTo = leaf ? new Date(leaf.validTo) : undefined;
  const facts = {
    protocol: secure.getProtocol() ?? undefined,
    subject: leaf?.subject.replace(/\n/g, ', '),
    issuer: leaf?.issuer.replace(/\n/g, ', '),
    validFrom: leaf ? new Date(leaf.validFrom).toISOString() : undefined,
    validTo: validTo?.toISOString(),
    daysLeft: validTo ? Math.floor((validTo.getTime() - Date.now()) / 86_400_000) : undefined,
  };
  const about = [`subject: ${facts.subject ?? '?'}`, `issuer: ${facts.issuer ?? '?'}`, `valid until ${facts.validTo ?? '?'}${facts.daysLeft === undefined ? '' : ` (${facts.daysLeft} day${facts.daysLeft === 1 ? '' : 's'} left)`}`];
  if (!secure.authorized) {
    const error = String(secure.authorizationError);
    const advice = certificateAdvice(error, error);
    return { socket: secure, check: step.fail(`${facts.protocol ?? 'TLS'}: the certificate is not accepted (${error})`, { ...facts, error }, `${advice[0]?.toUpperCase() ?? ''}${advice.slice(1)}.`, about) };
  }
  const store = trustedBy(chain, ca);
  return {
    socket: secure,
    check: step.pass(`${facts.protocol}, certificate for ${commonName(facts.subject)}, trusted by ${storeName(store)}`, { ...facts, trustedBy: store }, about),
  };
}

async function* accountChecks(url: URL, options: DoctorOptions, left: (cap?: number) => number): AsyncGenerator<DoctorCheck> {
  if (!options.apiId || !options.apiSecret) {
    yield skipped('clock', 'no credentials to send (see settings)');
    yield skipped('account', 'no credentials to check (see settings)');
    return;
  }
  const time = left();
  if (time < 500) {
    yield skipped('clock', 'out of time');
    const step = startCheck('account');
    yield step.fail('not checked: the time allowed for the whole run was spent on the steps before', {}, 'Run linkface doctor again; if the network is this slow, uploads will need a longer --timeout.');
    return;
  }
  const client = new EndpointClient({ endpoint: options.endpoint ?? DEFAULT_ENDPOINT, apiId: options.apiId, apiSecret: options.apiSecret, timeoutMs: time, allowHttp: options.allowHttp, connections: 1, ca: options.ca });
  const step = startCheck('account');
  const sentAt = Date.now();
  try {
    const { outcome, serverDate } = await client.checkAccount();
    const answeredAt = Date.now();
    yield clockCheck(serverDate, (sentAt + answeredAt) / 2, answeredAt - sentAt);
    yield accountCheck(step, outcome, options);
  } finally {
    await client.close();
  }
}

function tunnelFailure(step: CheckBuilder<'tunnel'>, error: unknown, target: string): DoctorCheck {
  if (error instanceof TunnelRefused) {
    const fix =
      error.httpStatus === 407
        ? 'The proxy asks for credentials: put them in the proxy URL, e.g. HTTPS_PROXY=http://user:password@proxy:3128, or bypass it with NO_PROXY.'
        : `The proxy would not connect to ${target}: ask its administrator to allow it, check HTTPS_PROXY, or bypass the proxy with NO_PROXY.`;
    return step.fail(error.message, { target, httpStatus: error.httpStatus }, fix);
  }
  const hung = error instanceof StepTimeout;
  return step.fail(
    hung ? `the proxy accepted the connection but did not answer CONNECT ${target} in time` : describe(error),
    { target },
    'Check that HTTPS_PROXY names a working proxy, or bypass it for the endpoint with NO_PROXY.',
  );
}

function* skipFrom(from: Parameters<typeof skipList>[0], why: string): Generator<DoctorCheck> {
  yield* skipList(from, 'account', why);
}

/** Skipped checks from `from` to `to`, both included. */
function skipList(from: Network, to: Network, why: string): DoctorCheck[] {
  const order: Network[] = ['endpoint', 'proxy', 'dns', 'tcp', 'tunnel', 'tls', 'clock', 'account'];
  return order.slice(order.indexOf(from), order.indexOf(to) + 1).map((id) => skipped(id, why));
}

function policy(url: URL, allowHttp: boolean | undefined): string {
  if (url.protocol === 'https:') return 'https: the credentials travel encrypted';
  return allowHttp && !isLoopback(url.hostname)
    ? 'plain http, allowed by --allow-http: the credentials cross the network in clear'
    : 'plain http, allowed because the host is loopback (nothing leaves this machine)';
}

function fixProxy(): string {
  return 'Check the proxy variable (HTTPS_PROXY / HTTP_PROXY): its host, its port and that the proxy runs; or bypass it for the endpoint with NO_PROXY.';
}

function describe(error: unknown): string {
  if (error instanceof StepTimeout) return error.message;
  return interpretNetworkError(error).reason ?? String(error);
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : protocol.startsWith('socks') ? 1080 : 80;
}

function hostPort(address: string, port: number): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}`;
}

/** A proxy URL as shown: its password (which may be a real one) masked. */
function withoutPassword(proxy: URL): string {
  const shown = new URL(proxy.href);
  if (shown.password) shown.password = '***';
  return shown.href.replace(/\/$/, '');
}

function commonName(subject: string | undefined): string {
  return /(?:^|, )CN=([^,]*)/.exec(subject ?? '')?.[1] ?? subject ?? '?';
}

function storeName(store: TrustStore | undefined): string {
  switch (store) {
    case 'system':
      return "Node's built-in CA store";
    case 'NODE_EXTRA_CA_CERTS':
      return `NODE_EXTRA_CA_CERTS (${process.env.NODE_EXTRA_CA_CERTS})`;
    case 'ca':
      return 'the CA file given (--ca, LINKFACE_CA_FILE or caFile)';
    default:
      return 'a CA this machine trusts';
  }
}
