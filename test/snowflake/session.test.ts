// The Snowflake session (src/warehouse/snowflake.ts) with the real snowflake-sdk driver against a
// local stand-in of Snowflake's HTTP service (test/helpers/snowflakeStandIn.ts).
// Spec: operations.md ("Configuration": key-pair login, the private key's accepted forms),
// detection.md ("one warehouse session", "The run's clock": TIMEZONE), the issue: QUERY_TAG,
// role/warehouse/database/schema from the configuration, statements in order in one session.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { normalisePrivateKey } from '../../src/config/privateKey.js';
import type { WarehouseSession } from '../../src/warehouse/warehouse.js';
import { assertNoSecret, keyBody } from '../helpers/secrets.js';
import { col, publicKeyFingerprint, wire, type SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { ACCOUNT, captureLog, config, keys, open, pkcs8Pem, standIn, USER } from './fixtures.js';

const PASSPHRASE = 'conflict-updater-passphrase';

/** Every form SNOWFLAKE_PRIVATE_KEY may take (operations.md), for the same key pair. */
const keyForms: Array<[string, string, string | undefined]> = [
  ['PKCS#8 PEM', pkcs8Pem, undefined],
  ['PEM with literal \\n', pkcs8Pem.replace(/\n/g, '\\n'), undefined],
  ['base64 body without BEGIN/END', pkcs8Pem.split('\n').filter((l) => l && !l.startsWith('-----')).join(''), undefined],
  [
    'encrypted PKCS#8 with passphrase',
    keys.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASSPHRASE }) as string,
    PASSPHRASE,
  ],
  ['PKCS#1 RSA', keys.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, undefined],
];

describe('key-pair login', () => {
  let si: SnowflakeStandIn;
  before(async () => (si = await standIn()));
  after(() => si.close());

  for (const [form, raw, passphrase] of keyForms) {
    test(`the JWT is signed by the configured key: ${form}`, async () => {
      const pk = normalisePrivateKey(raw, passphrase);
      const n = si.logins.length;
      const wh = await open(si, {}, config(pk, { hasPassphrase: passphrase !== undefined }));
      await wh.close();
      const login = si.logins[n];
      assert.equal(login.outcome, 'ok');
      assert.equal(login.authenticator, 'SNOWFLAKE_JWT');
      assert.ok(login.jwt, 'a JWT was sent');
      assert.equal(login.jwt.header.alg, 'RS256');
      assert.equal(login.jwt.signatureValid, true, 'RS256 signature verifies with the public key');
      assert.equal(login.jwt.payload.iss, `${ACCOUNT}.${USER}.${publicKeyFingerprint(keys.publicKey)}`);
      assert.equal(login.jwt.payload.sub, `${ACCOUNT}.${USER}`);
    });
  }
});

describe('one session per run', () => {
  let si: SnowflakeStandIn;
  let wh: WarehouseSession;
  const captured = captureLog();
  before(async () => {
    si = await standIn();
    si.on(/FROM ANALYTICS\.BI\.DIMCAREGIVER/, {
      columns: [col('Caregiver Id', 'text'), col('n', 'fixed', { precision: 18 })],
      rows: [['abc', '42']],
    });
    wh = await open(si, { log: captured.log, timezone: 'America/New_York', queryTag: 'conflict-updater task02_00_run_conflict_update run-1234' });
  });
  after(async () => {
    await wh.close();
    await si.close();
  });

  test('role, warehouse, database and schema from the configuration reach the login', () => {
    assert.equal(si.logins.length, 1);
    assert.deepEqual(si.logins[0].query, { warehouse: 'CONFLICT_WH', databaseName: 'ANALYTICS', schemaName: 'BI', roleName: 'CONFLICT_ROLE' });
    assert.equal(si.logins[0].clientAppId, 'JavaScript');
  });

  test('the QUERY_TAG naming the job and run is set at login and on every statement', async () => {
    await wh.execute('CREATE OR REPLACE TEMPORARY TABLE t1 ("ssn" VARCHAR)');
    assert.equal(si.logins[0].sessionParameters.QUERY_TAG, 'conflict-updater task02_00_run_conflict_update run-1234');
    for (const s of si.statements) assert.equal(s.parameters?.QUERY_TAG, 'conflict-updater task02_00_run_conflict_update run-1234', s.sql);
    assert.equal(si.sessionParameters(si.sessionTokens[0])?.QUERY_TAG, 'conflict-updater task02_00_run_conflict_update run-1234');
  });

  test("the session's TIMEZONE is the run's zone", () => {
    assert.ok(si.statements.some((s) => s.sql === "ALTER SESSION SET TIMEZONE = 'America/New_York'"));
    const token = si.sessionTokens[0];
    assert.equal(si.sessionParameters(token)?.TIMEZONE, 'America/New_York');
  });

  test('result chunks are asked to be as small as Snowflake makes them (CLIENT_RESULT_CHUNK_SIZE 16), first thing in the session', () => {
    assert.equal(si.statements[0].sql, 'ALTER SESSION SET CLIENT_RESULT_CHUNK_SIZE = 16');
    assert.equal(si.sessionParameters(si.sessionTokens[0])?.CLIENT_RESULT_CHUNK_SIZE, 16);
  });

  test('every statement of the run uses the one session token, in call order, one at a time', async () => {
    si.on(/^SELECT 'slow'/, { columns: [col('x', 'text')], rows: [['slow']], delayMs: 60 });
    const calls = [
      wh.execute('CREATE OR REPLACE TEMPORARY TABLE t2 ("a" NUMBER)'),
      wh.query(`SELECT 'slow' AS "x"`),
      wh.insertRows('t2', ['a'], [[1], [2], [3]]),
      wh.query('SELECT "Caregiver Id", COUNT(*) AS "n" FROM ANALYTICS.BI.DIMCAREGIVER GROUP BY 1'),
      (async () => {
        const out = [];
        for await (const b of wh.stream('SELECT "Caregiver Id", COUNT(*) AS "n" FROM ANALYTICS.BI.DIMCAREGIVER WHERE ? = ?', [1, 1], 10)) out.push(...b);
        return out;
      })(),
      wh.version(),
    ];
    await Promise.all(calls);
    const sqls = si.statements.slice(-6).map((s) => s.sql.split(' ')[0] + ' ' + s.sql.split(' ')[1]);
    assert.deepEqual(sqls, ['CREATE OR', "SELECT 'slow'", 'INSERT INTO', 'SELECT "Caregiver', 'SELECT "Caregiver', 'SELECT CURRENT_VERSION()']);
    // serialised: the statement after the slow one arrived only after the slow one was answered
    const slow = si.statements.findIndex((s) => s.sql.startsWith(`SELECT 'slow'`));
    assert.ok(si.statements[slow + 1].at - si.statements[slow].at >= 55, 'the next statement waited for the slow one');
    const tokens = new Set(si.statements.map((s) => s.sessionToken));
    assert.equal(tokens.size, 1, 'one session token for every statement');
    assert.deepEqual([...tokens], si.sessionTokens);
    assert.equal(si.logins.length, 1, 'one login');
  });

  test('version() is CURRENT_VERSION()', async () => {
    assert.equal(await wh.version(), '9.99.0');
  });

  test('query() returns objects keyed by the column names; binds travel as data', async () => {
    si.on(/WHERE "SSN" = \?/, (stmt) => ({ columns: [col('ssn', 'text'), col('hit', 'boolean')], rows: [[String(stmt.bindings?.['1']?.value), wire.bool(true)]] }));
    const rows = await wh.query('SELECT "SSN" AS "ssn", true AS "hit" FROM ANALYTICS.BI.DIMCAREGIVER WHERE "SSN" = ? AND "n" > ? AND "ok" = ? AND "x" IS ?', ["O'Brien; DROP TABLE x", 2.5, true, null]);
    assert.deepEqual(rows, [{ ssn: "O'Brien; DROP TABLE x", hit: true }]);
    const stmt = si.statements.at(-1)!;
    assert.deepEqual(stmt.bindings, {
      '1': { type: 'TEXT', value: "O'Brien; DROP TABLE x" },
      '2': { type: 'REAL', value: '2.5' },
      '3': { type: 'BOOLEAN', value: 'true' },
      '4': { type: 'TEXT', value: null },
    });
  });

  test('execute() returns the rows a DML statement changed, undefined for DDL', async () => {
    si.on(/^UPDATE t2/, { dml: 'update', count: 7 });
    assert.equal(await wh.execute('UPDATE t2 SET "a" = 1'), 7);
    assert.equal(await wh.execute('CREATE OR REPLACE TEMPORARY TABLE t3 ("a" NUMBER)'), undefined);
  });

  test('a statement Snowflake answers "in progress" is polled to its result in the same session', async () => {
    si.on(/^SELECT 'long'/, { columns: [col('x', 'text')], rows: [['done']], pendingPolls: 2 });
    const before = si.statements.length;
    assert.deepEqual(await wh.query(`SELECT 'long' AS "x"`), [{ x: 'done' }]);
    assert.equal(si.statements.length, before + 1);
  });

  test('close() logs the session out', async () => {
    const w2 = await open(si);
    const n = si.logouts.length;
    await w2.close();
    await w2.close(); // twice is harmless
    assert.equal(si.logouts.length, n + 1);
    assert.equal(si.logouts.at(-1)!.sessionToken, si.sessionTokens.at(-1));
  });

  test('no TIMEZONE configured: the session keeps its own zone (no ALTER SESSION SET TIMEZONE)', async () => {
    const n = si.statements.length;
    const w2 = await open(si);
    await w2.version();
    await w2.close();
    assert.ok(si.statements.slice(n).every((s) => !/ALTER SESSION SET TIMEZONE/.test(s.sql)));
    assert.equal(si.sessionParameters(si.sessionTokens.at(-1)!)?.TIMEZONE, 'America/Los_Angeles');
  });

  test('the log names the session, never key material', () => {
    const text = captured.text();
    assert.match(text, /Snowflake session opened in \d+ ms: account testacct, user conflict_job, role CONFLICT_ROLE, warehouse CONFLICT_WH/);
    assertNoSecret(text, [keyBody(pkcs8Pem)], 'the key body');
    assertNoSecret(text, si.logins.map((l) => l.token ?? ''), 'a JWT');
    assert.doesNotMatch(text, /PRIVATE KEY|stand-in-session-|stand-in-master-/);
  });
});

describe('CLIENT_RESULT_CHUNK_SIZE refused', () => {
  test('the session opens anyway, with a warning that names the parameter', async () => {
    const si = await standIn();
    try {
      si.on(/^ALTER SESSION SET CLIENT_RESULT_CHUNK_SIZE/, { error: { code: '001011', message: 'invalid parameter value', sqlState: '22023' } });
      const cap = captureLog();
      const wh = await open(si, { log: cap.log });
      assert.equal(await wh.version(), '9.99.0');
      await wh.close();
      assert.match(cap.text(), /WARNING .*Snowflake refused CLIENT_RESULT_CHUNK_SIZE = 16 .*invalid parameter value.*account default/);
    } finally {
      await si.close();
    }
  });
});

describe('values as the WarehouseRow contract', () => {
  let si: SnowflakeStandIn;
  let wh: WarehouseSession;
  before(async () => {
    si = await standIn();
    wh = await open(si, { timezone: 'America/New_York' });
  });
  after(async () => {
    await wh.close();
    await si.close();
  });

  test('text, numbers, booleans, NULLs, dates and timestamps', async () => {
    si.on(/^SELECT \* FROM types/, {
      columns: [
        col('text', 'text'),
        col('int9', 'fixed', { precision: 9 }),
        col('bigint', 'fixed', { precision: 38 }),
        col('decimal', 'fixed', { precision: 10, scale: 2 }),
        col('float', 'real'),
        col('bool', 'boolean'),
        col('date', 'date'),
        col('ntz', 'timestamp_ntz'),
        col('ntz_whole', 'timestamp_ntz'),
        col('ltz', 'timestamp_ltz'),
        col('tz', 'timestamp_tz'),
        col('variant', 'variant'),
        col('null', 'text'),
      ],
      rows: [
        [
          'Ünïcode "quoted", comma',
          '-123456789',
          '9007199254740993',
          '1.50',
          '0.1',
          wire.bool(false),
          wire.date('2024-02-29'),
          wire.ntz('2024-02-29 23:59:58.120'),
          wire.ntz('1999-12-31 00:00:00'),
          wire.ltz('2024-07-01T12:00:00.5Z'),
          wire.tz('2024-07-01T12:00:00Z', -300),
          '{"a":[1,2]}',
          null,
        ],
      ],
    });
    const batches = [];
    for await (const b of wh.stream('SELECT * FROM types', [], 100)) batches.push(b);
    assert.deepEqual(batches, [
      [
        [
          'Ünïcode "quoted", comma',
          -123456789,
          '9007199254740993', // 64-bit integers stay exact, as text
          '1.50', // NUMBER(p,s): exact text, as DuckDB's DECIMAL
          0.1,
          false,
          '2024-02-29',
          '2024-02-29 23:59:58.12',
          '1999-12-31 00:00:00',
          '2024-07-01 08:00:00.5', // LTZ: wall time in the session's zone (America/New_York, EDT)
          '2024-07-01 07:00:00-05:00', // TZ: wall time with its offset
          '{"a":[1,2]}',
          null,
        ],
      ],
    ]);
    const [obj] = await wh.query('SELECT * FROM types');
    assert.equal(obj.bigint, '9007199254740993');
    assert.equal(obj.ltz, '2024-07-01 08:00:00.5');
  });

  test('a NULL of every type is null, never the text NULL (the driver gives NULL numbers fetched as strings as "NULL" by default)', async () => {
    const types = ['text', 'fixed', 'real', 'boolean', 'date', 'timestamp_ntz', 'timestamp_ltz', 'timestamp_tz', 'variant', 'binary'] as const;
    si.on(/^SELECT \* FROM nulls/, { columns: types.map((t) => col(t, t)), rows: [types.map(() => null)] });
    const batches = [];
    for await (const b of wh.stream('SELECT * FROM nulls', [], 10)) batches.push(b);
    assert.deepEqual(batches, [[types.map(() => null)]]);
    const [obj] = await wh.query('SELECT * FROM nulls');
    assert.deepEqual(obj, Object.fromEntries(types.map((t) => [t, null])));
  });
});

describe('insertRows', () => {
  let si: SnowflakeStandIn;
  let wh: WarehouseSession;
  before(async () => {
    si = await standIn();
    wh = await open(si);
  });
  after(async () => {
    await wh.close();
    await si.close();
  });

  test('one multi-row INSERT with array binds per slice, values as data', async () => {
    const n = si.statements.length;
    const rows = Array.from({ length: 40_000 }, (_, i) => [`ssn-${i}'; --`]);
    await wh.insertRows('excluded_ssns', ['ssn'], rows);
    const inserts = si.statements.slice(n);
    assert.equal(inserts.length, 3, '40 000 rows in slices of 16 384');
    for (const s of inserts) assert.equal(s.sql, 'INSERT INTO excluded_ssns ("ssn") VALUES (?)');
    const values = inserts.flatMap((s) => s.bindings?.['1']?.value as string[]);
    assert.deepEqual(values, rows.map((r) => r[0]));
    assert.equal(inserts[0].bindings?.['1']?.type, 'TEXT');
  });

  test('large values (packed keys): slices of at most 4 MB of text, so no request carries hundreds of MB', async () => {
    const n = si.statements.length;
    const packed = 'x'.repeat(37_000);
    const rows = Array.from({ length: 300 }, (_, i) => [`${i}:${packed}`]);
    await wh.insertRows('t', ['ids'], rows);
    const inserts = si.statements.slice(n);
    const sizes = inserts.map((s) => (s.bindings?.['1']?.value as string[]).length);
    assert.ok(inserts.length >= 3 && inserts.length <= 4, `300 values of 37 KB in slices of ~4 MB: ${sizes.join(', ')}`);
    assert.ok(sizes.every((k) => k * 37_000 <= 4 * 1024 * 1024 + 37_010), sizes.join(', '));
    assert.deepEqual(inserts.flatMap((s) => s.bindings?.['1']?.value as string[]), rows.map((r) => r[0]), 'every value once, in order');
  });

  test('several columns; a column mixing integers and fractions travels as text', async () => {
    const n = si.statements.length;
    await wh.insertRows('t', ['Visit Id', 'n', 'x', 'flag'], [
      ['a', 1, 1, true],
      ['b', 2, 2.5, null],
      ['c', null, null, false],
    ]);
    const [s] = si.statements.slice(n);
    assert.equal(s.sql, 'INSERT INTO t ("Visit Id", "n", "x", "flag") VALUES (?, ?, ?, ?)');
    assert.deepEqual(s.bindings, {
      '1': { type: 'TEXT', value: ['a', 'b', 'c'] },
      '2': { type: 'FIXED', value: ['1', '2', null] },
      '3': { type: 'TEXT', value: ['1', '2.5', null] },
      '4': { type: 'BOOLEAN', value: ['true', null, 'false'] },
    });
  });

  test('no rows: no statement', async () => {
    const n = si.statements.length;
    await wh.insertRows('t', ['a'], []);
    assert.equal(si.statements.length, n);
  });
});
