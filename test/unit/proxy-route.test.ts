import { afterEach, describe, expect, it, vi } from 'vitest';
import { proxyRoute } from '../../src/api/dispatcher.js';

/** Which proxy `linkface doctor` says an endpoint goes through, and why: undici's EnvHttpProxyAgent rules. */
const PROXY = 'http://proxy.example:3128';
const VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];

afterEach(() => {
  vi.unstubAllEnvs();
});

function route(endpoint: string, env: Record<string, string>) {
  for (const name of VARIABLES) vi.stubEnv(name, env[name] as string);
  return proxyRoute(new URL(endpoint));
}

describe('proxyRoute', () => {
  it.each([
    ['https://api.example.com', {}, undefined, /neither HTTPS_PROXY nor HTTP_PROXY is set/],
    ['http://127.0.0.1:8470', {}, undefined, /HTTP_PROXY is not set/],
    ['https://api.example.com', { HTTPS_PROXY: PROXY }, 'HTTPS_PROXY', /HTTPS_PROXY is set and NO_PROXY is not/],
    ['https://api.example.com', { HTTP_PROXY: PROXY }, 'HTTP_PROXY', /HTTPS_PROXY is not set, so the https endpoint uses HTTP_PROXY/],
    ['http://127.0.0.1:8470', { HTTPS_PROXY: PROXY }, undefined, /HTTP_PROXY is not set/],
    ['https://api.example.com', { HTTPS_PROXY: 'http://other:1', https_proxy: PROXY }, 'https_proxy', /https_proxy is set/],
    ['https://api.example.com', { HTTPS_PROXY: PROXY, NO_PROXY: 'example.com' }, undefined, /NO_PROXY entry 'example\.com' matches api\.example\.com/],
    ['https://api.example.com', { HTTPS_PROXY: PROXY, NO_PROXY: '.example.com' }, undefined, /entry '\.example\.com' matches/],
    ['https://api.example.com', { HTTPS_PROXY: PROXY, NO_PROXY: 'example.com:8443' }, 'HTTPS_PROXY', /no NO_PROXY entry matches api\.example\.com/],
    ['https://api.example.com:8443', { HTTPS_PROXY: PROXY, no_proxy: 'example.com:8443' }, undefined, /no_proxy entry 'example\.com:8443' matches/],
    ['https://notexample.com', { HTTPS_PROXY: PROXY, NO_PROXY: 'example.com' }, 'HTTPS_PROXY', /no NO_PROXY entry matches notexample\.com/],
    ['http://127.0.0.1:8470', { HTTP_PROXY: PROXY, NO_PROXY: 'localhost' }, 'HTTP_PROXY', /not resolved/],
    ['http://[::1]:8470', { HTTP_PROXY: PROXY, NO_PROXY: '::1' }, undefined, /entry '\[::1\]' matches \[::1\]/],
    ['https://api.example.com', { HTTPS_PROXY: PROXY, NO_PROXY: '*' }, undefined, /NO_PROXY=\* turns the proxy off/],
  ])('%s with %j: proxy from %s', (endpoint, env, variable, why) => {
    const found = route(endpoint, env);
    expect(found.variable).toBe(variable);
    expect(found.proxy).toBe(variable === undefined ? undefined : env[variable as keyof typeof env]);
    expect(found.why).toMatch(why);
  });

  it('refuses a proxy variable that is not a URL, naming the variable and not its value', () => {
    expect(() => route('https://api.example.com', { HTTPS_PROXY: 'ftp://u:hunter2@proxy' })).toThrow(/^HTTPS_PROXY is set but is not a proxy URL\.$/);
  });
});
