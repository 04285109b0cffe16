// The stand-in's warehouse mode (test/helpers/snowflakeStandInWarehouse.ts): a statement runs as its
// DuckDB twin and its result reaches the real driver in Snowflake's JSON result format, so what
// the job reads through snowflake-sdk is what Snowflake would send (warehouse.ts, the
// WarehouseRow contract). A statement without a twin is refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { WarehouseRow, WarehouseSession } from '../../src/warehouse/warehouse.js';
import type { SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { warehouseExecutor, type Twin, type WarehouseExecutor } from '../helpers/snowflakeStandInWarehouse.js';
import { open, standIn } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'cu-sf-wh-'));
const file = join(dir, 'w.duckdb');
let executor: WarehouseExecutor;
let si: SnowflakeStandIn;
let wh: WarehouseSession;

// Snowflake text -> DuckDB twin, written by hand here (the job's come from detectionTwins.ts).
const TWINS: Record<string, Twin> = {
  'SELECT * FROM TYPES': {
    kind: 'query',
    params: [],
    sql:
      `SELECT 'Ünïcode "q", comma' AS "text", CAST(42 AS INTEGER) AS "int", CAST(9007199254740993 AS BIGINT) AS "big", ` +
      `CAST(1.5 AS DECIMAL(10,2)) AS "dec", CAST(0.1 AS DOUBLE) AS "dbl", CAST('NaN' AS DOUBLE) AS "nan", ` +
      `CAST('-inf' AS DOUBLE) AS "ninf", true AS "yes", DATE '2024-02-29' AS "day", DATE '1969-12-31' AS "before", ` +
      `TIMESTAMP '2024-02-29 23:59:58.120' AS "ts", TIMESTAMP '1969-12-31 23:59:59.5' AS "old", ` +
      `CAST(NULL AS INTEGER) AS "n_int", CAST(NULL AS DOUBLE) AS "n_dbl", CAST(NULL AS BOOLEAN) AS "n_bool", ` +
      `CAST(NULL AS DATE) AS "n_day", CAST(NULL AS TIMESTAMP) AS "n_ts", CAST(NULL AS VARCHAR) AS "n_text"`,
  },
  'SELECT "i", "pad" FROM BIG': { kind: 'stream', params: [], sql: `SELECT "i", "pad" FROM ANALYTICS.BI."BIG"` },
  'CREATE OR REPLACE TEMPORARY TABLE cu_t AS SELECT 1': { kind: 'execute', params: [], sql: `CREATE OR REPLACE TEMPORARY TABLE cu_t AS SELECT 1 AS "x"` },
  'SELECT COUNT(*) AS "n" FROM cu_t': { kind: 'query', params: [], sql: `SELECT COUNT(*) AS "n" FROM cu_t` },
  "SELECT '9' AS \"zone\"": { kind: 'query', params: [], sql: `SELECT strftime(CAST(TIMESTAMPTZ '2024-07-01 12:00:00+00' AS TIMESTAMP), '%H') AS "zone"` },
};

before(async () => {
  const instance = await DuckDBInstance.create(file);
  const c = await instance.connect();
  await c.run(`CREATE SCHEMA BI`);
  await c.run(`CREATE TABLE BI."BIG" AS SELECT i AS "i", repeat('x', 200) || i AS "pad" FROM range(60000) t(i)`);
  c.closeSync();
  instance.closeSync();
  executor = await warehouseExecutor({
    path: file,
    database: 'ANALYTICS',
    twins: { setup: [], clockFrom: (v) => v, twin: (sql) => TWINS[sql] },
  });
  si = await standIn({ warehouse: executor });
  wh = await open(si, { timezone: 'America/New_York' });
});
after(async () => {
  await wh.close();
  await si.close();
  await executor.close();
  rmSync(dir, { recursive: true, force: true });
});

test("DuckDB's values reach the job through the driver as Snowflake sends them", async () => {
  const [row] = await wh.query('SELECT * FROM TYPES');
  assert.deepEqual(row, {
    text: 'Ünïcode "q", comma',
    int: '42', // Snowflake's integers are NUMBER(38,0): exact text
    big: '9007199254740993',
    dec: '1.50',
    dbl: 0.1,
    nan: Number.NaN,
    ninf: -Infinity,
    yes: true,
    day: '2024-02-29',
    before: '1969-12-31',
    ts: '2024-02-29 23:59:58.12',
    old: '1969-12-31 23:59:59.5',
    n_int: null,
    n_dbl: null,
    n_bool: null,
    n_day: null,
    n_ts: null,
    n_text: null,
  });
});

test("the session's TIMEZONE reaches its DuckDB connection", async () => {
  const [row] = await wh.query(`SELECT '9' AS "zone"`);
  assert.equal(row.zone, '08', 'noon UTC is 08:00 in New York in July');
});

test('temporary tables live in the session', async () => {
  await wh.execute('CREATE OR REPLACE TEMPORARY TABLE cu_t AS SELECT 1');
  assert.deepEqual(await wh.query('SELECT COUNT(*) AS "n" FROM cu_t'), [{ n: '1' }]);
});

test('a large result arrives whole and in order over several gzip chunks', async () => {
  const before = si.chunkRequests.length;
  const seen: number[] = [];
  for await (const batch of wh.stream('SELECT "i", "pad" FROM BIG', [], 5000)) for (const r of batch as WarehouseRow[]) seen.push(Number(r[0]));
  assert.equal(seen.length, 60000);
  assert.deepEqual(
    [...seen].sort((a, b) => a - b),
    Array.from({ length: 60000 }, (_, i) => i),
  );
  assert.ok(si.chunkRequests.length - before >= 3, `${si.chunkRequests.length - before} chunks`);
});

test('a statement without a DuckDB twin is refused and named', async () => {
  await assert.rejects(wh.query('SELECT 1 AS "x"'), /no DuckDB twin for this statement: SELECT 1 AS "x"/);
  // the session goes on
  assert.deepEqual(await wh.query('SELECT COUNT(*) AS "n" FROM cu_t'), [{ n: '1' }]);
});

test('a statement still running after asyncAfterMs is answered "in progress" and polled to its result, as Snowflake does for long statements', async () => {
  const slow = await standIn({ warehouse: executor, asyncAfterMs: 1 });
  const w = await open(slow);
  try {
    const rows: WarehouseRow[] = [];
    for await (const batch of w.stream('SELECT "i", "pad" FROM BIG', [], 10000)) rows.push(...batch);
    assert.equal(rows.length, 60000);
    const big = slow.statements.find((st) => st.sql.includes('FROM BIG'));
    assert.ok(big && slow.polls.includes(big.queryId), 'the driver polled for the result');
    // a session of its own: the other session's temporary table is not there
    await assert.rejects(w.query('SELECT COUNT(*) AS "n" FROM cu_t'), /cu_t/);
  } finally {
    await w.close();
    await slow.close();
  }
});
