import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, followingRedirects, sendRequest } from '../../src/api/dispatcher.js';

/**
 * src/api/dispatcher.ts loads five of undici's own files instead of its index, and uses the `request` and
 * `connect` functions the index would give every dispatcher as methods. Nothing in undici promises those paths:
 * these tests fail when a new undici moves them, renames them, adds an `exports` map that hides them, or stops
 * giving dispatchers those very functions.
 */
const require = createRequire(import.meta.url);
const PRIVATE = {
  agent: 'undici/lib/dispatcher/agent.js',
  envHttpProxyAgent: 'undici/lib/dispatcher/env-http-proxy-agent.js',
  pool: 'undici/lib/dispatcher/pool.js',
  api: 'undici/lib/api/index.js',
  redirect: 'undici/lib/interceptor/redirect.js',
} as const;

describe("createDispatcher, with undici's index not loaded", () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      if (request.url === '/moved') response.writeHead(302, { location: '/probe' }).end();
      else response.end(`${request.method} ${request.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends a request, and follows a redirect, without changing undici (no `request` method added)', async () => {
    // Run first, in this file's own process: nothing has loaded the index yet.
    expect(require.cache[require.resolve('undici')]).toBeUndefined();
    const dispatcher = createDispatcher({ connections: 1, direct: true });
    try {
      expect('request' in dispatcher).toBe(false);
      const { statusCode, body } = await sendRequest(dispatcher, { origin, path: '/probe', method: 'GET' });
      expect(statusCode).toBe(200);
      expect(await body.text()).toBe('GET /probe');
      const redirected = await sendRequest(followingRedirects(dispatcher, 2), { origin, path: '/moved', method: 'GET' });
      expect(redirected.statusCode).toBe(200);
      expect(await redirected.body.text()).toBe('GET /probe');
    } finally {
      await dispatcher.close();
    }
  });
});

describe("undici's files that dispatcher.ts loads", () => {
  it('resolve, for require and for import, at the paths dispatcher.ts names', async () => {
    for (const path of Object.values(PRIVATE)) {
      expect(() => require.resolve(path), path).not.toThrow();
      await expect(import(path), path).resolves.toBeDefined();
    }
  });

  it("are the very classes undici's index exports", () => {
    const undici = require('undici') as typeof import('undici');
    expect(require(PRIVATE.agent)).toBe(undici.Agent);
    expect(require(PRIVATE.envHttpProxyAgent)).toBe(undici.EnvHttpProxyAgent);
    expect(require(PRIVATE.pool)).toBe(undici.Pool);
    expect(require(PRIVATE.redirect)).toBe(undici.interceptors.redirect);
  });

  it('hold the `request` and `connect` functions the index gives every dispatcher', () => {
    const undici = require('undici') as typeof import('undici');
    const api = require(PRIVATE.api) as Record<string, unknown>;
    expect(Object.keys(api)).toEqual(expect.arrayContaining(['request', 'connect']));
    for (const [name, method] of Object.entries(api)) {
      expect(undici.Dispatcher.prototype[name as keyof typeof undici.Dispatcher.prototype], name).toBe(method);
    }
  });
});
