import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeWhole } from '../../src/api/dispatcher.js';

/** exchangeWhole against a real local server: what the upload client relies on for every answer it reads. */
describe('exchangeWhole', () => {
  let server: Server;
  let origin: string;
  const received: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      received.push(request.url ?? '');
      if (request.url === '/hang') return; // never answers
      if (request.url === '/big') return response.end(Buffer.alloc(100_000, 0x61));
      response.writeHead(201, [
        ['Date', 'Wed, 02 Dec 2026 10:00:00 GMT'],
        ['X-Twice', 'first'],
        ['X-Twice', 'second'],
      ]);
      response.end(`${request.method} ${request.url}`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives the status, the headers by lower-case name (first value), and the whole body', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      const answer = await exchangeWhole(agent, { origin, path: '/probe', method: 'GET' }, new AbortController().signal, 1024);
      expect(answer.statusCode).toBe(201);
      expect(answer.headers.date).toBe('Wed, 02 Dec 2026 10:00:00 GMT');
      expect(answer.headers['x-twice']).toBe('first');
      expect(answer.body?.toString()).toBe('GET /probe');
    } finally {
      await agent.close();
    }
  });

  it('gives no body when the answer passes the limit, and does not wait for the rest of it', async () => {
    const agent = new Agent({ connections: 1 });
    try {
      const answer = await exchangeWhole(agent, { origin, path: '/big', method: 'GET' }, new AbortController().signal, 1024);
      expect(answer.statusCode).toBe(200);
      expect(answer.body).toBeUndefined();
      // The same dispatcher still works afterwards: the oversized answer's connection was dropped, not left stuck.
      const next = await exchangeWhole(agent, { origin, path: '/after', method: 'GET' }, new AbortController().signal, 1024);
      expect(next.body?.toString()).toBe('GET /after');
    } finally {
      await agent.close();
    }
  });

  it('settles with the abort reason for a request still waiting for a socket, and sends it nowhere', async () => {
    const agent = new Agent({ connections: 1 });
    const holder = new AbortController();
    const waiter = new AbortController();
    const before = received.length;
    // The only socket is taken by a request the server never answers.
    const held = exchangeWhole(agent, { origin, path: '/hang', method: 'GET' }, holder.signal, 1024);
    await expect.poll(() => received.slice(before)).toEqual(['/hang']);
    const queued = exchangeWhole(agent, { origin, path: '/queued', method: 'GET' }, waiter.signal, 1024);
    const reason = new Error('attempt timed out');
    waiter.abort(reason);
    await expect(queued).rejects.toBe(reason);
    holder.abort(new Error('done'));
    await expect(held).rejects.toThrow('done');
    await agent.close();
    expect(received.slice(before)).toEqual(['/hang']);
  });

  it('sends nothing when the signal has already aborted', async () => {
    const agent = new Agent({ connections: 1 });
    const before = received.length;
    const aborted = AbortSignal.abort(new Error('stopped'));
    await expect(exchangeWhole(agent, { origin, path: '/never', method: 'GET' }, aborted, 1024)).rejects.toThrow('stopped');
    await agent.close();
    expect(received.length).toBe(before);
  });

  it('settles with the error when the dispatcher refuses the request outright', async () => {
    const agent = new Agent({ connections: 1 });
    await agent.close();
    await expect(
      exchangeWhole(agent, { origin, path: '/closed', method: 'GET' }, new AbortController().signal, 1024),
    ).rejects.toThrow('The client is destroyed');
  });
});
