// operations.md, "Preflight checks (part of test_connections)": every check passes on DuckDB and
// the test PostgreSQL; each kind of check fails (or warns) when its assumption is broken, through
// the real program: a logged mismatch naming what the job expected, what it found and what to do,
// the list in the run report, exit 1 for a failed check and 0 for warnings.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { PreflightCheck } from '../../src/actions/preflight/check.js';
import type { Env } from '../../src/config/config.js';
import { warehouseDdl } from '../../src/generate/sql-util.js';
import { runCli } from '../helpers/cli.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('cu-pf-');
const schema = uniqueSchema('pf');
let n = 0;

/** An empty DuckDB warehouse with every table of warehouse-columns.tsv, then `changes` applied. */
async function warehouse(changes: string[] = []): Promise<string> {
  const path = join(dir, `wh${n++}.duckdb`);
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  for (const sql of [...warehouseDdl(), ...changes]) await c.run(sql);
  c.closeSync();
  inst.closeSync();
  return path;
}

function env(over: Env): Env {
  return { ...testPostgresEnv(schema), TIMEZONE: 'America/Chicago', RUN_REPORT_PATH: join(dir, `report${n++}.json`), ...over };
}

function preflightOf(e: Env): PreflightCheck[] {
  const report = JSON.parse(readFileSync(e.RUN_REPORT_PATH as string, 'utf8')) as { preflight: PreflightCheck[] };
  return report.preflight;
}

let good = '';
before(async () => {
  good = await warehouse();
  const r = await runCli(['init_db'], env({ DUCKDB_PATH: good }));
  assert.equal(r.code, 0, r.stdout);
});
after(() => dropSchema(schema));

test('every check passes on DuckDB and the test PostgreSQL; each is logged ok and listed in the report', async () => {
  const e = env({ DUCKDB_PATH: good });
  const r = await runCli(['test_connections'], e);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /Preflight (mismatch|warning)/);
  for (const line of [
    /Preflight ok: warehouse access: table BI\.FACTVISITCALLPERFORMANCE_CR readable \(40 columns of usable types\)/,
    /Preflight ok: warehouse access: session setting TIMEZONE \("America\/Chicago"\)/,
    /Preflight ok: warehouse access: temporary table created, filled with bound rows, read back and dropped/,
    /Preflight ok: warehouse access: session time zone and current time \(time zone America\/Chicago, current time \d{4}-\d\d-\d\d \d\d:\d\d/,
    /Preflight ok: warehouse semantics: GPS grammar and numeric conversion of "5\.,\.5"/,
    /Preflight ok: warehouse semantics: GPS grammar and numeric conversion of "40\.7,-73\.9\\n" \(lat_t NULL, lon_t NULL, lat NULL, lon NULL\)/,
    /Preflight ok: warehouse semantics: trimming removes spaces only \(trimmed "\\t123-45-6789\\u00a0\\n"\)/,
    /Preflight ok: warehouse semantics: distance of one degree along the equator/,
    /Preflight ok: warehouse semantics: minute differences count minute boundaries/,
    /Preflight ok: warehouse semantics: window arithmetic at a month end/,
    /Preflight ok: warehouse semantics: window arithmetic at Feb 29/,
    /Preflight ok: warehouse semantics: upper-case and lower-case ids/,
    /Preflight ok: PostgreSQL: server version \(PostgreSQL \d+/,
    new RegExp(`Preflight ok: PostgreSQL: UPDATE on ${schema}\\.settings\\."InProgressFlag"`),
    new RegExp(`Preflight ok: PostgreSQL: INSERT on ${schema}\\.conflictvisitmaps`),
    /Preflight ok: PostgreSQL: create temporary tables/,
    new RegExp(`Preflight ok: PostgreSQL: advisory lock of schema ${schema} \\(taken and released\\)`),
    new RegExp(`Preflight ok: PostgreSQL: index on ${schema}\\.conflictvisitmaps \\("ConVisitID"\\)`),
    /Preflight: \d+ checks, 0 failed, 0 warnings/,
  ]) {
    assert.match(r.stdout, line);
  }
  const checks = preflightOf(e);
  assert.ok(checks.length > 40, `${checks.length} checks`);
  assert.deepEqual(checks.filter((c) => c.status !== 'ok'), []);
  assert.deepEqual(new Set(checks.map((c) => c.area)), new Set(['warehouse access', 'warehouse semantics', 'PostgreSQL']));
});

test('SNOWFLAKE_DATABASE and SNOWFLAKE_SCHEMA in lower case name the same tables (plain identifiers)', async () => {
  const r = await runCli(['test_connections'], env({ DUCKDB_PATH: good, SNOWFLAKE_DATABASE: 'analytics', SNOWFLAKE_SCHEMA: 'bi' }));
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, /Preflight ok: warehouse access: table bi\.DIMUSER readable/);
  assert.doesNotMatch(r.stdout, /Preflight mismatch/);
});

describe('warehouse access', () => {
  test('a missing column fails the action, naming the column, the type expected and what to do', async () => {
    const e = env({ DUCKDB_PATH: await warehouse(['ALTER TABLE BI.FACTVISITCALLPERFORMANCE_CR DROP COLUMN "Visit Updated Timestamp"']) });
    const r = await runCli(['test_connections'], e);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      /ERROR\s+Preflight mismatch: warehouse access: column BI\.FACTVISITCALLPERFORMANCE_CR\."Visit Updated Timestamp": expected a column of type TIMESTAMP, found no such column \(or not visible to the job's role\)\. What to do: add the column/,
    );
    assert.match(r.stdout, /test_connections: failed: 1 preflight check failed: warehouse access: column BI\.FACTVISITCALLPERFORMANCE_CR\."Visit Updated Timestamp"/);
    // the other checks still ran: the PostgreSQL ones too
    assert.match(r.stdout, /Preflight ok: PostgreSQL: create temporary tables/);
    const failed = preflightOf(e).filter((c) => c.status === 'failed');
    assert.deepEqual(failed.map((c) => [c.check, c.expected, c.found]), [
      ['column BI.FACTVISITCALLPERFORMANCE_CR."Visit Updated Timestamp"', 'a column of type TIMESTAMP', "no such column (or not visible to the job's role)"],
    ]);
    assert.match(failed[0].action ?? '', /warehouse-columns\.tsv/);
  });

  test('a column of a type the job cannot use fails the action', async () => {
    const e = env({ DUCKDB_PATH: await warehouse(['ALTER TABLE BI.DIMPATIENTADDRESS ALTER COLUMN "Latitude" TYPE VARCHAR', 'ALTER TABLE BI.FACTVISITCALLPERFORMANCE_CR ALTER COLUMN "Call In Time" TYPE TIMESTAMPTZ']) });
    const r = await runCli(['test_connections'], e);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /Preflight mismatch: warehouse access: column BI\.DIMPATIENTADDRESS\."Latitude": expected DOUBLE, found VARCHAR\. What to do: give BI\.DIMPATIENTADDRESS\."Latitude" the type DOUBLE/);
    assert.match(r.stdout, /Preflight mismatch: warehouse access: column BI\.FACTVISITCALLPERFORMANCE_CR\."Call In Time": expected TIMESTAMP, found TIMESTAMP WITH TIME ZONE/);
    assert.match(r.stdout, /test_connections: failed: 2 preflight checks failed: .*"Latitude".*; .*"Call In Time"/);
    assert.equal(preflightOf(e).filter((c) => c.status === 'failed').length, 2);
  });

  test('a missing table is one failure naming the table', async () => {
    const e = env({ DUCKDB_PATH: await warehouse(['DROP TABLE BI.DIMUSER']) });
    const r = await runCli(['test_connections'], e);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /Preflight mismatch: warehouse access: table BI\.DIMUSER: expected a table with 2 columns, found no such table/);
    assert.deepEqual(preflightOf(e).filter((c) => c.status === 'failed').map((c) => c.check), ['table BI.DIMUSER']);
  });
});

describe('PostgreSQL role', () => {
  const db = `pf_${Math.random().toString(36).slice(2, 10)}`;
  const noTemp = `${db}_notemp`;
  const noSettings = `${db}_nosettings`;
  const password = 'pf-test-password';
  const asSuper = (): Env => ({ ...env({ DUCKDB_PATH: good }), POSTGRES_DATABASE: db });

  before(async () => {
    const c = await testClient();
    try {
      await c.query(`CREATE DATABASE "${db}"`);
      // Temporary tables are PUBLIC's by default: taken back in this database only.
      await c.query(`REVOKE TEMPORARY ON DATABASE "${db}" FROM PUBLIC`);
      for (const role of [noTemp, noSettings]) await c.query(`CREATE ROLE "${role}" LOGIN PASSWORD '${password}'`);
      await c.query(`GRANT TEMPORARY ON DATABASE "${db}" TO "${noSettings}"`);
    } finally {
      await c.end();
    }
    assert.equal((await runCli(['init_db'], asSuper())).code, 0);
    const d = await testClient();
    const u = new URL(process.env.TEST_POSTGRES_URL as string);
    u.pathname = `/${db}`;
    const { default: pg } = await import('pg');
    const c2 = new pg.Client({ connectionString: u.toString() });
    await c2.connect();
    try {
      for (const role of [noTemp, noSettings]) {
        await c2.query(`GRANT USAGE ON SCHEMA "${schema}" TO "${role}"`);
        await c2.query(`GRANT SELECT ON ALL TABLES IN SCHEMA "${schema}" TO "${role}"`);
        await c2.query(`GRANT INSERT, UPDATE ON "${schema}"."conflictvisitmaps", "${schema}"."conflicts" TO "${role}"`);
        await c2.query(`GRANT USAGE, UPDATE ON ALL SEQUENCES IN SCHEMA "${schema}" TO "${role}"`);
      }
      await c2.query(`GRANT UPDATE ON "${schema}"."settings" TO "${noTemp}"`);
    } finally {
      await c2.end();
      await d.end();
    }
  });
  after(async () => {
    const c = await testClient();
    try {
      await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`);
      for (const role of [noTemp, noSettings]) await c.query(`DROP ROLE IF EXISTS "${role}"`);
    } finally {
      await c.end();
    }
  });

  test('a role that cannot create temporary tables fails the action, saying which GRANT is missing', async () => {
    const e = { ...asSuper(), POSTGRES_USER: noTemp, POSTGRES_PASSWORD: password };
    const r = await runCli(['test_connections'], e);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `Preflight mismatch: PostgreSQL: create temporary tables: expected role ${noTemp} may create temporary tables in database ${db}, ` +
          `found permission denied to create temporary tables in database "${db}"\\. What to do: GRANT TEMPORARY ON DATABASE "${db}" TO "${noTemp}"`,
      ),
    );
    assert.match(r.stdout, new RegExp(`Preflight ok: PostgreSQL: UPDATE on ${schema}\\.settings\\."InProgressFlag"`));
    assert.deepEqual(preflightOf(e).filter((c) => c.status === 'failed').map((c) => c.check), ['create temporary tables']);
  });

  test('a role that cannot update settings fails the action (InProgressFlag)', async () => {
    const e = { ...asSuper(), POSTGRES_USER: noSettings, POSTGRES_PASSWORD: password };
    const r = await runCli(['test_connections'], e);
    assert.equal(r.code, 1, r.stdout);
    assert.match(
      r.stdout,
      new RegExp(
        `Preflight mismatch: PostgreSQL: UPDATE on ${schema}\\.settings\\."InProgressFlag": expected UPDATE for role ${noSettings}, found not granted\\. ` +
          `What to do: GRANT UPDATE \\("InProgressFlag"\\) ON "${schema}"\\."settings" TO "${noSettings}"`,
      ),
    );
    assert.match(r.stdout, /Preflight ok: PostgreSQL: create temporary tables/);
    assert.deepEqual(preflightOf(e).filter((c) => c.status === 'failed').map((c) => c.check), [`UPDATE on ${schema}.settings."InProgressFlag"`]);
  });
});

test('a missing index is a warning naming the init_db that creates it; the action succeeds', async () => {
  const c = await testClient();
  try {
    await c.query(`DROP INDEX "${schema}"."cvm_convisit_idx"`);
  } finally {
    await c.end();
  }
  const e = env({ DUCKDB_PATH: good });
  const r = await runCli(['test_connections'], e);
  assert.equal(r.code, 0, r.stdout);
  assert.match(
    r.stdout,
    new RegExp(`WARNING\\s+Preflight warning: PostgreSQL: index on ${schema}\\.conflictvisitmaps \\("ConVisitID"\\): expected an index on these columns, found none\\. What to do: run init_db: it creates cvm_convisit_idx`),
  );
  assert.match(r.stdout, /Preflight: \d+ checks, 0 failed, 1 warning$/m);
  assert.deepEqual(preflightOf(e).filter((c) => c.status !== 'ok').map((c) => [c.status, c.check]), [['warning', `index on ${schema}.conflictvisitmaps ("ConVisitID")`]]);
  // init_db puts it back
  assert.equal((await runCli(['init_db'], e)).code, 0);
  assert.doesNotMatch((await runCli(['test_connections'], env({ DUCKDB_PATH: good }))).stdout, /Preflight warning/);
});
