import type { Dispatcher } from 'undici';
import Agent from 'undici/lib/dispatcher/agent.js';
import DispatcherBase from 'undici/lib/dispatcher/dispatcher.js';
import EnvHttpProxyAgent from 'undici/lib/dispatcher/env-http-proxy-agent.js';
import api from 'undici/lib/api/index.js';

// undici's index loads every part of it (fetch, WebSocket, caches, mocks): about 70 ms and 20 MB before the
// first request. linkface needs the agent and `request`, so it loads those alone (about 20 ms) and gives
// dispatchers their `request` method the way undici's own index does.
Object.assign(DispatcherBase.prototype, api);

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** A keep-alive pool; through the proxy named by HTTPS_PROXY/HTTP_PROXY (minus NO_PROXY) when one is set. */
export function createDispatcher(connections: number): Dispatcher {
  const options = { connections, keepAliveTimeout: 10_000 };
  return PROXY_VARIABLES.some((name) => process.env[name]) ? new EnvHttpProxyAgent(options) : new Agent(options);
}
