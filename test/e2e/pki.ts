import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { startProxy, type TestProxy } from './proxy.js';

/** Paths of a throwaway CA, a server key and certificate it signed (localhost, 127.0.0.1, ::1), and an unrelated CA. */
export interface Pki {
  ca: string;
  otherCa: string;
  key: string;
  cert: string;
}

/** Whether the openssl command is there to make test certificates. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A CA, a server certificate it signed (localhost, 127.0.0.1, ::1) and an unrelated CA, made with openssl.
 * Names and extensions come from config files rather than `-subj` and `-addext`: Git for Windows' openssl
 * would take `-subj /CN=…` for a path and rewrite it (C:/Program Files/Git/CN=…), and macOS's LibreSSL may
 * not know `-addext`; `-config` works the same in OpenSSL and LibreSSL everywhere. MSYS_NO_PATHCONV and
 * MSYS2_ARG_CONV_EXCL keep Git for Windows from rewriting any other argument.
 */
export function makePki(d: string): Pki {
  const env = { ...process.env, MSYS_NO_PATHCONV: '1', MSYS2_ARG_CONV_EXCL: '*' };
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: 'pipe', env });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const config = (name: string, commonName: string, extensions = '') => {
    writeFileSync(join(d, name), `[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = ${commonName}\n${extensions}`);
    return ['-config', name];
  };
  const ca = '[v3_ca]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n';
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', ...config('ca.cnf', 'linkface test CA', ca), '-extensions', 'v3_ca');
  run('req', '-x509', ...ec, '-keyout', 'other-ca.key', '-out', 'other-ca.pem', '-days', '2', ...config('other-ca.cnf', 'unrelated CA', ca), '-extensions', 'v3_ca');
  run('req', '-new', ...ec, '-keyout', 'server.key', '-out', 'server.csr', ...config('server.cnf', 'localhost'));
  writeFileSync(
    join(d, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n',
  );
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '1', '-days', '2', '-out', 'server.pem', '-extfile', 'server.ext');
  return { ca: join(d, 'ca.pem'), otherCa: join(d, 'other-ca.pem'), key: join(d, 'server.key'), cert: join(d, 'server.pem') };
}

/** What the network and doctor tests share: a folder with the PKI in it, sandboxes and proxies closed after each test. */
export interface TlsFixture {
  readonly dir: string;
  /** Made only where openssl is (see hasOpenssl). */
  readonly pki: Pki;
  /** A sandbox for `account`, over TLS with the PKI's certificate when asked. */
  sandboxAt(options?: { tls?: boolean; host?: string }): Promise<Sandbox>;
  proxy(options?: Parameters<typeof startProxy>[0]): Promise<TestProxy>;
}

/** Registers the hooks of a TLS fixture for the calling test file. */
export function useTlsFixture(prefix: string, account: { apiId: string; apiSecret: string }, openssl: boolean): TlsFixture {
  let dir = '';
  let pki: Pki | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    if (openssl) pki = makePki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });
  const fixture: TlsFixture = {
    get dir() {
      return dir;
    },
    get pki() {
      if (!pki) throw new Error('no PKI: openssl is not installed');
      return pki;
    },
    async sandboxAt(options = {}) {
      const sandbox = await startSandbox({
        ...account,
        host: options.host,
        tls: options.tls ? { key: readFileSync(fixture.pki.key), cert: readFileSync(fixture.pki.cert) } : undefined,
      });
      cleanups.push(() => sandbox.close());
      return sandbox;
    },
    async proxy(options = {}) {
      const started = await startProxy(options);
      cleanups.push(() => started.close());
      return started;
    },
  };
  return fixture;
}
