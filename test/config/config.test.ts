// operations.md, "Configuration (environment variables)": every variable, its default, its
// validation with a message naming it (exit 2), half-set Snowflake logins rejected.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { describeConfig, loadConfig, type Env } from '../../src/config/config.js';
import { ConfigError } from '../../src/errors.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const SNOWFLAKE: Env = { SNOWFLAKE_ACCOUNT: 'acme-xy12345', SNOWFLAKE_USER: 'JOB', SNOWFLAKE_WAREHOUSE: 'WH', SNOWFLAKE_PRIVATE_KEY: PEM };

function rejects(env: Env, variable: string, fragment?: RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
      assert.match(err.message, new RegExp(`\\b${variable}\\b`));
      if (fragment) assert.match(err.message, fragment);
      return true;
    },
  );
}

describe('defaults (operations.md table)', () => {
  const c = loadConfig({});
  test('warehouse is the DuckDB file data/warehouse.duckdb attached as ANALYTICS.BI, DuckDB memory limited to 2GB', () => {
    assert.deepEqual(c.warehouse, { kind: 'duckdb', path: 'data/warehouse.duckdb', database: 'ANALYTICS', schema: 'BI', memoryLimit: '2GB' });
  });
  test('target is an embedded PostgreSQL, database conflict_management, schema conflict_dev', () => {
    assert.equal(c.postgres.kind, 'embedded');
    assert.equal(c.postgres.database, 'conflict_management');
    assert.equal(c.postgres.schema, 'conflict_dev');
    assert.equal(c.postgres.dataDir, 'data/postgres');
  });
  test('numbers, booleans and the rest', () => {
    assert.equal(c.environment, 'dev');
    assert.equal(c.logLevel, 'INFO');
    assert.equal(c.logFormat, 'text');
    assert.equal(c.lookbackHours, 36);
    assert.equal(c.lookbackYears, 2);
    assert.equal(c.lookforwardDays, 45);
    assert.equal(c.batchSize, 5000);
    assert.equal(c.skipUnchangedRecords, true);
    assert.equal(c.enableAsymmetricJoin, true);
    assert.equal(c.enableStaleCleanup, true);
    assert.equal(c.enableInsert, true);
    assert.equal(c.failOnRejects, false);
    assert.equal(c.asOf, undefined);
    assert.equal(c.timezone, undefined);
    assert.equal(c.runReportPath, undefined);
    assert.equal(c.email, undefined);
    assert.equal(c.awsRegion, 'us-east-1');
  });
  test('an external PostgreSQL defaults to port 5432 and sslmode verify-full (operations.md, "Security")', () => {
    const e = loadConfig({ POSTGRES_HOST: 'db.internal', POSTGRES_USER: 'job', POSTGRES_PASSWORD: 'pw' });
    assert.equal(e.postgres.kind, 'external');
    assert.equal(e.postgres.port, 5432);
    assert.equal(e.postgres.sslmode, 'verify-full');
    assert.equal(e.postgres.sslRootCert, undefined);
  });
});

describe('values are read', () => {
  test('ENVIRONMENT names the schema; POSTGRES_SCHEMA overrides it', () => {
    assert.equal(loadConfig({ ENVIRONMENT: 'prod' }).postgres.schema, 'conflict_prod');
    assert.equal(loadConfig({ ENVIRONMENT: 'prod', POSTGRES_SCHEMA: 'conflict_dev' }).postgres.schema, 'conflict_dev');
  });
  test('booleans accept true/false/1/0/yes/no in any case', () => {
    for (const [v, b] of [['TRUE', true], ['no', false], ['1', true], ['0', false], ['Yes', true], ['False', false]] as const) {
      assert.equal(loadConfig({ ENABLE_INSERT: v }).enableInsert, b, v);
    }
  });
  test('LOOKFORWARD_DAYS may be 0, the others at least 1', () => {
    assert.equal(loadConfig({ LOOKFORWARD_DAYS: '0' }).lookforwardDays, 0);
    assert.equal(loadConfig({ BATCH_SIZE: '1' }).batchSize, 1);
  });
  test('AS_OF keeps its text; TIMEZONE takes IANA names', () => {
    const c = loadConfig({ AS_OF: '2026-02-14T06:00:00-05:00', TIMEZONE: 'America/New_York' });
    assert.equal(c.asOf?.text, '2026-02-14T06:00:00-05:00');
    assert.equal(c.timezone, 'America/New_York');
  });
  // detection.md, "The run's clock": a naive AS_OF is T itself; with an offset, the session converts it.
  const asOf = (v: string) => loadConfig({ AS_OF: v }).asOf;
  test('AS_OF without an offset is T as it is: a date is its midnight, fractions kept to microseconds', () => {
    for (const [v, clock] of [
      ['2026-02-14T06:00:00', '2026-02-14 06:00:00'],
      [' 2026-02-14 06:00 ', '2026-02-14 06:00:00'],
      ['2026-02-14', '2026-02-14 00:00:00'],
      ['2026-02-14T22:00:00.250', '2026-02-14 22:00:00.250000'],
      ['2026-02-14T22:00:00.1234567', '2026-02-14 22:00:00.123456'],
      ['2026-02-14T22:00:00.000', '2026-02-14 22:00:00'],
    ]) {
      assert.deepEqual(asOf(v), { kind: 'naive', text: v.trim(), clock }, v);
    }
  });
  test('AS_OF with an offset is an instant with a ±HH:MM offset (Z is +00:00)', () => {
    for (const [v, instant] of [
      ['2026-02-14T06:00:00-05:00', '2026-02-14T06:00:00-05:00'],
      ['2026-02-15T03:00:00Z', '2026-02-15T03:00:00+00:00'],
      ['2026-02-15T08:30:00.5+0530', '2026-02-15T08:30:00.500000+05:30'],
    ]) {
      assert.deepEqual(asOf(v), { kind: 'instant', text: v, instant }, v);
    }
  });
  test('email needs both variables; recipients are comma-separated', () => {
    const c = loadConfig({ EMAIL_SENDER: 'job@example.com', EMAIL_RECIPIENTS: 'a@example.com, b@example.com', AWS_REGION: 'eu-west-1' });
    assert.deepEqual(c.email, { sender: 'job@example.com', recipients: ['a@example.com', 'b@example.com'] });
    assert.equal(c.awsRegion, 'eu-west-1');
  });
  test('all four Snowflake variables: Snowflake is the warehouse, key normalised', () => {
    const c = loadConfig({ ...SNOWFLAKE, SNOWFLAKE_ROLE: 'JOB_ROLE' });
    assert.equal(c.warehouse.kind, 'snowflake');
    if (c.warehouse.kind !== 'snowflake') return;
    assert.equal(c.warehouse.account, 'acme-xy12345');
    assert.equal(c.warehouse.database, 'ANALYTICS');
    assert.equal(c.warehouse.schema, 'BI');
    assert.equal(c.warehouse.role, 'JOB_ROLE');
    assert.match(c.warehouse.privateKey.pem, /^-----BEGIN PRIVATE KEY-----\n/);
  });
});

describe('bad values: a ConfigError naming the variable', () => {
  const numbers = ['LOOKBACK_HOURS', 'LOOKBACK_YEARS', 'BATCH_SIZE', 'POSTGRES_PORT'];
  for (const name of numbers) {
    for (const bad of ['abc', '0', '-5', '1.5', '12h']) {
      test(`${name}=${bad}`, () => rejects({ [name]: bad }, name, /whole number/));
    }
  }
  test('LOOKFORWARD_DAYS=-1', () => rejects({ LOOKFORWARD_DAYS: '-1' }, 'LOOKFORWARD_DAYS', /at least 0/));
  test('POSTGRES_PORT=70000', () => rejects({ POSTGRES_PORT: '70000' }, 'POSTGRES_PORT'));
  for (const name of ['SKIP_UNCHANGED_RECORDS', 'ENABLE_ASYMMETRIC_JOIN', 'ENABLE_STALE_CLEANUP', 'ENABLE_INSERT', 'FAIL_ON_REJECTS']) {
    test(`${name}=maybe`, () => rejects({ [name]: 'maybe' }, name, /true\/false\/1\/0\/yes\/no/));
  }
  test('LOG_LEVEL=TRACE', () => rejects({ LOG_LEVEL: 'TRACE' }, 'LOG_LEVEL', /DEBUG, INFO, WARNING, ERROR/));
  test('LOG_FORMAT=xml', () => rejects({ LOG_FORMAT: 'xml' }, 'LOG_FORMAT', /text, json/));
  test('POSTGRES_SSLMODE=sometimes', () => rejects({ POSTGRES_SSLMODE: 'sometimes' }, 'POSTGRES_SSLMODE'));
  test('ENVIRONMENT=Prod Env', () => rejects({ ENVIRONMENT: 'Prod Env' }, 'ENVIRONMENT'));
  test('POSTGRES_SCHEMA longer than 63 characters', () => rejects({ POSTGRES_SCHEMA: 'x'.repeat(64) }, 'POSTGRES_SCHEMA'));
  test('POSTGRES_HOST without POSTGRES_USER', () => rejects({ POSTGRES_HOST: 'db' }, 'POSTGRES_USER'));
  for (const bad of ['yesterday', '2026-02-30T00:00:00', '2026-02-14T25:00:00', '14/02/2026']) {
    test(`AS_OF=${bad}`, () => rejects({ AS_OF: bad }, 'AS_OF', /ISO-8601/));
  }
  test('TIMEZONE=Mars/Olympus', () => rejects({ TIMEZONE: 'Mars/Olympus' }, 'TIMEZONE', /IANA/));
  test('EMAIL_SENDER without recipients', () => rejects({ EMAIL_SENDER: 'job@example.com' }, 'EMAIL_RECIPIENTS'));
  test('EMAIL_RECIPIENTS without sender', () => rejects({ EMAIL_RECIPIENTS: 'a@example.com' }, 'EMAIL_SENDER'));
  test('EMAIL_RECIPIENTS with a bad address', () =>
    rejects({ EMAIL_SENDER: 'job@example.com', EMAIL_RECIPIENTS: 'a@example.com,not-an-address' }, 'EMAIL_RECIPIENTS', /not-an-address/));
  test('SNOWFLAKE_DATABASE with a quote', () => rejects({ SNOWFLAKE_DATABASE: 'A"B' }, 'SNOWFLAKE_DATABASE'));
  test('SNOWFLAKE_PRIVATE_KEY that is not a key', () => rejects({ ...SNOWFLAKE, SNOWFLAKE_PRIVATE_KEY: 'hello' }, 'SNOWFLAKE_PRIVATE_KEY'));
});

describe('half a Snowflake login is an error, not a fall-back to DuckDB', () => {
  for (const missing of Object.keys(SNOWFLAKE)) {
    test(`all but ${missing}`, () => {
      const env = { ...SNOWFLAKE };
      delete env[missing];
      rejects(env, missing, /half set/);
    });
  }
  test('only SNOWFLAKE_ACCOUNT', () => rejects({ SNOWFLAKE_ACCOUNT: 'acme' }, 'SNOWFLAKE_USER', /half set/));
});

describe('secrets are masked in the effective configuration', () => {
  test('private key, passphrase and password: presence and length only', () => {
    const { privateKey: enc } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    const c = loadConfig({
      ...SNOWFLAKE,
      SNOWFLAKE_PRIVATE_KEY: enc,
      SNOWFLAKE_PRIVATE_KEY_PASSPHRASE: 'open sesame',
      POSTGRES_HOST: 'db',
      POSTGRES_USER: 'job',
      POSTGRES_PASSWORD: 'hunter2-secret',
    });
    const text = describeConfig(c).map(([k, v]) => `${k}=${v}`).join('\n');
    assert.doesNotMatch(text, /hunter2-secret/);
    assert.doesNotMatch(text, /open sesame/);
    assert.doesNotMatch(text, /BEGIN|MII/);
    assert.match(text, /POSTGRES_PASSWORD=<set, 14 characters>/);
    assert.match(text, new RegExp(`SNOWFLAKE_PRIVATE_KEY=<set, ${enc.length} characters> encrypted-pkcs8`));
    assert.match(text, /SNOWFLAKE_PRIVATE_KEY_PASSPHRASE=<set>/);
  });
});

describe('SNOWFLAKE_ACCESS_URL', () => {
  test('an endpoint instead of <account>.snowflakecomputing.com', () => {
    const c = loadConfig({ ...SNOWFLAKE, SNOWFLAKE_ACCESS_URL: 'https://acme.privatelink.snowflakecomputing.com' });
    assert.equal(c.warehouse.kind === 'snowflake' && c.warehouse.accessUrl, 'https://acme.privatelink.snowflakecomputing.com');
  });
  test('not a URL: a ConfigError naming it', () => rejects({ ...SNOWFLAKE, SNOWFLAKE_ACCESS_URL: 'acme.snowflake' }, 'SNOWFLAKE_ACCESS_URL'));
});
