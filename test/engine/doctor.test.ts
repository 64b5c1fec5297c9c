/**
 * The library's doctor through the public entry: checks yielded in order as they end, typed results, the
 * credentials sent without a file, and a settings report from the caller.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCTOR_CHECKS, type DoctorCheck, doctor, type Sandbox, startSandbox } from '../../src/index.js';

const SECRET = 'library-doctor-secret-93b1';
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({ apiId: 'lib-id', apiSecret: SECRET });
});
afterAll(() => sandbox.close());

async function collect(options: Parameters<typeof doctor>[0]): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for await (const check of doctor(options)) checks.push(check);
  return checks;
}

describe('doctor() as a library', () => {
  it('yields every check in order and sends the credentials with no file', async () => {
    const before = sandbox.requests.length;
    const checks = await collect({ apiId: 'lib-id', apiSecret: SECRET, endpoint: sandbox.url });
    expect(checks.map((check) => check.id)).toEqual([...DOCTOR_CHECKS]);
    expect(checks.filter((check) => check.status === 'fail')).toEqual([]);
    const account = checks.find((check) => check.id === 'account');
    expect(account?.id === 'account' && account.facts.status).toBe('INVALID_ARGUMENT');
    const settings = checks.find((check) => check.id === 'settings');
    expect(settings?.details).toContain('apiSecret: (set, redacted), from the options');
    expect(JSON.stringify(checks)).not.toContain(SECRET);
    expect(sandbox.requests.slice(before)).toMatchObject([{ fields: { api_id: 'lib-id', api_secret: SECRET }, query: {} }]);
    expect(sandbox.requests.at(-1)?.file).toBeUndefined();
  });

  it('tells a wrong key, and shows the settings report it is given', async () => {
    const checks = await collect({
      apiId: 'lib-id',
      apiSecret: 'not-the-key',
      endpoint: sandbox.url,
      settings: { settings: [{ name: 'apiId', value: 'lib-id', source: 'vault' }], warnings: ['something to fix'] },
    });
    const byId = new Map(checks.map((check) => [check.id, check]));
    expect(byId.get('account')).toMatchObject({ status: 'fail', facts: { status: 'UNAUTHORIZED', httpStatus: 401 } });
    expect(byId.get('account')?.fix).toMatch(/Now set by: apiId: vault\./);
    expect(byId.get('settings')).toMatchObject({ status: 'fail', summary: 'something to fix', details: ['apiId: lib-id, from vault'] });
  });

  it('refuses a plain-http endpoint that is not loopback, and tries nothing after it', async () => {
    const checks = await collect({ apiId: 'a', apiSecret: 'b', endpoint: 'http://example.com' });
    expect(checks.find((check) => check.id === 'endpoint')).toMatchObject({ status: 'fail', summary: 'Refusing to send the API secret in clear text to example.com.' });
    expect(checks.slice(3).map((check) => check.status)).toEqual(Array(7).fill('skip'));
  });
});
