// Reliability: bad configuration (operations.md, "Configuration" and "Exit codes"). Every
// variable with a wrong value, and a private key in each wrong form: the real program exits 2
// with a message naming the variable, and attempts no connection (a listening socket stands
// where PostgreSQL would be and counts every connection it gets).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runProgram as runCli, tempDir } from './helpers/job.js';

let server: Server;
let port = 0;
let connections = 0;
before(async () => {
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});
after(() => server.close());

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pkcs8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const encrypted = rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' }).toString();
const dir = tempDir();

function base(): Record<string, string> {
  return {
    POSTGRES_HOST: '127.0.0.1',
    POSTGRES_PORT: String(port),
    POSTGRES_USER: 'job',
    POSTGRES_PASSWORD: 'pw',
    ACTION: 'validate_config,test_connections,task02_00_run_conflict_update',
  };
}

async function expectConfigError(env: Record<string, string>, variable: string): Promise<void> {
  const before = connections;
  const r = await runCli([], env, { timeoutMs: 20_000 });
  assert.equal(r.code, 2, `${variable}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  assert.match(r.stdout, new RegExp(`Configuration error: .*\\b${variable}\\b`), r.stdout);
  assert.match(r.stdout, /Status: failed/);
  assert.equal(connections, before, `${variable}: a connection was attempted`);
}

describe('every variable with a wrong value', () => {
  const cases: Array<[string, string]> = [
    ['LOOKBACK_HOURS', 'a day'],
    ['LOOKBACK_YEARS', '0'],
    ['LOOKFORWARD_DAYS', '-3'],
    ['BATCH_SIZE', '5e3'],
    ['POSTGRES_PORT', 'postgres'],
    ['SKIP_UNCHANGED_RECORDS', 'perhaps'],
    ['ENABLE_ASYMMETRIC_JOIN', 'on'],
    ['ENABLE_STALE_CLEANUP', 'enabled'],
    ['ENABLE_INSERT', '2'],
    ['FAIL_ON_REJECTS', 'y'],
    ['LOG_LEVEL', 'verbose'],
    ['LOG_FORMAT', 'yaml'],
    ['POSTGRES_SSLMODE', 'maybe'],
    ['ENVIRONMENT', 'Prod!'],
    ['POSTGRES_SCHEMA', 's'.repeat(70)],
    ['AS_OF', 'last tuesday'],
    ['TIMEZONE', 'Atlantis/Capital'],
    ['SNOWFLAKE_DATABASE', 'ANALYTICS; DROP'],
    ['SNOWFLAKE_SCHEMA', 'B I'],
  ];
  for (const [name, value] of cases) {
    test(`${name}=${JSON.stringify(value.slice(0, 20))}`, () => expectConfigError({ ...base(), [name]: value }, name));
  }
  test('POSTGRES_HOST without POSTGRES_USER', () => {
    const env = base();
    delete (env as Record<string, string | undefined>).POSTGRES_USER;
    return expectConfigError(env, 'POSTGRES_USER');
  });
  test('EMAIL_SENDER without EMAIL_RECIPIENTS', () => expectConfigError({ ...base(), EMAIL_SENDER: 'job@example.com' }, 'EMAIL_RECIPIENTS'));
  test('EMAIL_RECIPIENTS with a bad address', () =>
    expectConfigError({ ...base(), EMAIL_SENDER: 'job@example.com', EMAIL_RECIPIENTS: 'ops@example.com;dev' }, 'EMAIL_RECIPIENTS'));
  test('half a Snowflake login', () =>
    expectConfigError({ ...base(), SNOWFLAKE_ACCOUNT: 'acme', SNOWFLAKE_USER: 'JOB' }, 'SNOWFLAKE_WAREHOUSE'));
  test('an unknown action', async () => {
    const r = await runCli([], { ...base(), ACTION: 'validate_config,run_everything' });
    assert.equal(r.code, 2);
    assert.match(r.stdout, /unknown action "run_everything"/);
  });
});

describe('SNOWFLAKE_PRIVATE_KEY in each wrong form', () => {
  const login = { SNOWFLAKE_ACCOUNT: 'acme-xy', SNOWFLAKE_USER: 'JOB', SNOWFLAKE_WAREHOUSE: 'WH' };
  const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const truncated = pkcs8.slice(0, pkcs8.length / 2);
  const keyFile = join(dir, 'missing.p8');
  const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const notAKey = join(dir, 'notes.txt');
  writeFileSync(notAKey, 'hello, this is not a key\n');
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a public key', { SNOWFLAKE_PRIVATE_KEY: publicPem }, /public key/i],
    ['a truncated PEM', { SNOWFLAKE_PRIVATE_KEY: truncated }, /END|truncat|corrupt/i],
    ['an EC key', { SNOWFLAKE_PRIVATE_KEY: ecPem }, /RSA/],
    ['an encrypted key without passphrase', { SNOWFLAKE_PRIVATE_KEY: encrypted }, /PASSPHRASE/],
    ['an encrypted key with a wrong passphrase', { SNOWFLAKE_PRIVATE_KEY: encrypted, SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'wrong' }, /passphrase/i],
    ['a path that does not exist', { SNOWFLAKE_PRIVATE_KEY: keyFile }, /not exist|no such|does not/i],
    ['a file that holds no key', { SNOWFLAKE_PRIVATE_KEY: notAKey }, /not/i],
    ['plain text', { SNOWFLAKE_PRIVATE_KEY: 'my-private-key' }, /not PEM|not base64|not a file/i],
  ];
  for (const [name, vars, reason] of cases) {
    test(name, async () => {
      const env = { ...base(), ...login, ...vars };
      await expectConfigError(env, 'SNOWFLAKE_PRIVATE_KEY');
      const r = await runCli(['validate_config'], env);
      assert.match(r.stdout, reason);
      assert.doesNotMatch(r.stdout, /MII[A-Za-z0-9+/]{20}/, 'no key material in the log');
      assert.doesNotMatch(r.stdout, /\bright\b|\bwrong\b/, 'no passphrase in the log');
    });
  }
});
