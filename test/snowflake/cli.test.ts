// test_connections through the real program (a child process, as ECS runs it) with the four
// SNOWFLAKE_* variables set and SNOWFLAKE_ACCESS_URL pointing at the local stand-in of
// Snowflake's HTTP service (operations.md "Actions": `Snowflake connection successful: <version>`).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Env } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import { dropSchema, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { refusedPort } from '../helpers/net.js';
import { assertNoSecret, keyBody } from '../helpers/secrets.js';
import { tempDir } from '../helpers/tmp.js';
import type { SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { pkcs8Pem, standIn } from './fixtures.js';
import { answerPreflight } from './preflightAnswers.js';

const havePostgres = Boolean(process.env.TEST_POSTGRES_URL);
const schema = uniqueSchema('sftc');
const reports = tempDir('cu-sf-cli-');
let si: SnowflakeStandIn;
let closedPort = 0;

before(async () => {
  si = await standIn({ version: '9.40.1' });
  answerPreflight(si); // an account that meets the job's assumptions (test/snowflake/preflight.test.ts tests the checks)
  closedPort = await refusedPort();
});
after(async () => {
  await si.close();
  if (havePostgres) await dropSchema(schema);
});

/** The secret as Secrets Manager hands it over: one line, newlines as the two characters `\n`. */
const secretKey = pkcs8Pem.replace(/\n/g, '\\n');

function env(over: Env = {}): Env {
  const postgres: Env = havePostgres
    ? testPostgresEnv(schema)
    : { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(closedPort), POSTGRES_USER: 'nobody', POSTGRES_SSLMODE: 'disable' };
  return {
    ...postgres,
    SNOWFLAKE_ACCOUNT: 'testacct',
    SNOWFLAKE_USER: 'conflict_job',
    SNOWFLAKE_WAREHOUSE: 'CONFLICT_WH',
    SNOWFLAKE_ROLE: 'CONFLICT_ROLE',
    SNOWFLAKE_PRIVATE_KEY: secretKey,
    SNOWFLAKE_ACCESS_URL: si.url,
    TIMEZONE: 'America/Chicago',
    RUN_REPORT_PATH: join(reports, `${Date.now()}-${Math.random().toString(36).slice(2)}.json`),
    ...over,
  };
}

function assertNoSecrets(out: string): void {
  assertNoSecret(out, [keyBody(pkcs8Pem)], 'key material');
  assertNoSecret(out, si.logins.map((l) => l.token ?? ''), 'a JWT');
}

test('test_connections logs "Snowflake connection successful: <version>" from the stand-in', async () => {
  const logins = si.logins.length;
  const r = await runCli(['test_connections'], env());
  const out = r.stdout + r.stderr;
  assert.match(r.stdout, /INFO\s+Snowflake connection successful: 9\.40\.1$/m, out);
  if (havePostgres) {
    assert.equal(r.code, 0, out);
    assert.match(r.stdout, /PostgreSQL connection successful/);
  } else {
    // no PostgreSQL in this run (TEST_POSTGRES_URL unset): the Snowflake part succeeded, then the target failed
    assert.equal(r.code, 1, out);
    assert.match(r.stdout, /test_connections: failed: .*ECONNREFUSED/);
  }
  assert.equal(r.stderr, '', 'nothing on stderr (no driver console lines, no cloud-probe warnings)');
  assertNoSecrets(out);

  assert.equal(si.logins.length, logins + 1, 'one login');
  const login = si.logins.at(-1)!;
  assert.equal(login.outcome, 'ok');
  assert.deepEqual(login.query, { warehouse: 'CONFLICT_WH', databaseName: 'ANALYTICS', schemaName: 'BI', roleName: 'CONFLICT_ROLE' });
  assert.match(String(login.sessionParameters.QUERY_TAG), /^conflict-updater test_connections [0-9a-f-]{36}$/);
  const token = si.sessionTokens.at(-1)!;
  assert.equal(si.sessionParameters(token)?.TIMEZONE, 'America/Chicago');
  assert.ok(si.logouts.some((l) => l.sessionToken === token), 'the session was logged out');
});

test('a key Snowflake does not accept: exit 1 and one clear line; even at DEBUG no key or token in the log', async () => {
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const r = await runCli(['test_connections'], env({ SNOWFLAKE_PRIVATE_KEY: other }));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const failed = r.stdout.split('\n').filter((l) => /ERROR /.test(l));
  assert.equal(failed.length, 1, r.stdout);
  assert.match(
    failed[0],
    /ERROR\s+test_connections: failed: Snowflake login failed for user conflict_job: JWT token is invalid \(check SNOWFLAKE_PRIVATE_KEY matches the user's RSA_PUBLIC_KEY/,
  );
  assert.match(r.stdout, /Status: failed/);
  assert.doesNotMatch(r.stdout, /\n\s+at /, 'no stack');
  assert.equal(r.stderr, '');

  // At DEBUG the driver's own error lines reach the log too (and the CLI adds the stack): still
  // no key material and no token.
  const d = await runCli(['test_connections'], env({ SNOWFLAKE_PRIVATE_KEY: other, LOG_LEVEL: 'DEBUG' }));
  assert.equal(d.code, 1);
  assert.match(d.stdout, /DEBUG\s+snowflake-sdk: /, 'driver errors forwarded at DEBUG');
  assertNoSecrets(d.stdout + d.stderr);
  assertNoSecret(d.stdout, [keyBody(other)], 'key material');
});

test('an unreachable Snowflake: exit 1, the host and the cause named', async () => {
  const r = await runCli(['test_connections'], env({ SNOWFLAKE_ACCESS_URL: `http://127.0.0.1:${closedPort}` }), { timeoutMs: 60_000 });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`test_connections: failed: Cannot reach Snowflake at 127\\.0\\.0\\.1:${closedPort} to log in: connection refused \\(ECONNREFUSED\\)`));
});
