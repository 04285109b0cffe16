// The whole job (detection and sync) through the real snowflake-sdk, against the stand-in of
// Snowflake's HTTP service running each statement's DuckDB twin on the `small` generated warehouse
// (issue 15; detection.md "one set of step definitions, two dialects"; performance.md). The end
// state in PostgreSQL must be the DuckDB path's, row for row: two schemas of the test server, the
// same reference data, the same AS_OF and TIMEZONE; then again, with the first run's conflicts open.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { loadConfig, type Env } from '../../src/config/config.js';
import { chunkParseFromLog } from '../../src/bench/job.js';
import { paramsFromTarget } from '../../src/bench/targetReference.js';
import { generateWarehouse } from '../../src/generate/generate.js';
import { createLogger } from '../../src/log.js';
import { runCli } from '../helpers/cli.js';
import { detectionTwins } from '../helpers/detectionTwins.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import type { SnowflakeStandIn } from '../helpers/snowflakeStandIn.js';
import { warehouseExecutor, type WarehouseExecutor } from '../helpers/snowflakeStandInWarehouse.js';
import { loginEnv, standIn } from './fixtures.js';

const havePostgres = Boolean(process.env.TEST_POSTGRES_URL);
const skip = havePostgres ? false : 'needs TEST_POSTGRES_URL (npm test starts one)';

// An instant: the clock statement runs on both engines, in the session's zone (T = 12:00 there).
const AS_OF = '2026-02-14T12:00:00-05:00';
const TIMEZONE = 'America/New_York';
/** Values PostgreSQL sets from its own clock during the run: they differ between any two runs. */
const RUN_TIME_COLUMNS = ['CreatedDate', 'CRDATEUNIQUE', 'UpdatedDate', 'ResolveDate', 'RECORDEDDATETIME'];

const dir = mkdtempSync(join(tmpdir(), 'cu-sf-whole-'));
const warehouse = join(dir, 'small.duckdb');
const duckSchema = uniqueSchema('sfw_duck');
const sfSchema = uniqueSchema('sfw_sf');
let si: SnowflakeStandIn | undefined;
let executor: WarehouseExecutor | undefined;

before(async () => {
  await generateWarehouse({ profile: 'small', seed: 7, out: warehouse, asOf: '2026-02-14 12:00:00' });
});
after(async () => {
  await si?.close();
  await executor?.close();
  rmSync(dir, { recursive: true, force: true });
  if (havePostgres) {
    await dropSchema(duckSchema);
    await dropSchema(sfSchema);
  }
});

/** A few SSNs and one agency of the warehouse, excluded in both schemas: the excluded values travel as bound data. */
async function exclusions(): Promise<{ ssns: string[]; provider: string }> {
  const instance = await DuckDBInstance.create(warehouse, { access_mode: 'READ_ONLY' });
  const c = await instance.connect();
  try {
    const ssns = (await c.runAndReadAll(`SELECT DISTINCT "SSN" AS s FROM BI."DIMCAREGIVER" WHERE trim("SSN") <> '' ORDER BY 1 LIMIT 5`)).getRowObjectsJson();
    const provider = (await c.runAndReadAll(`SELECT "Provider Id" AS p FROM BI."DIMPROVIDER" ORDER BY 1 LIMIT 1`)).getRowObjectsJson();
    return { ssns: ssns.map((r) => ` ${String(r.s)} `), provider: String(provider[0].p) };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function prepareSchema(schema: string, env: Env, ex: { ssns: string[]; provider: string }): Promise<void> {
  const init = await runCli(['init_db'], env);
  assert.equal(init.code, 0, init.stdout + init.stderr);
  const c = await testClient();
  try {
    for (const s of ex.ssns) await c.query(`INSERT INTO "${schema}".excluded_ssn ("SSN") VALUES ($1)`, [s]);
    await c.query(`INSERT INTO "${schema}".excluded_agency ("ProviderID") VALUES ($1)`, [ex.provider]);
  } finally {
    await c.end();
  }
}

/** Every row of a table as JSON, run-time timestamps left out, in key order. */
async function endState(schema: string, table: string, order: string): Promise<unknown[]> {
  const c = await testClient();
  try {
    const r = await c.query(`SELECT to_jsonb(t) - $1::text[] AS r FROM "${schema}"."${table}" t ORDER BY ${order}`, [RUN_TIME_COLUMNS]);
    return r.rows.map((x) => x.r);
  } finally {
    await c.end();
  }
}

function statistics(path: string): Record<string, number> {
  return (JSON.parse(readFileSync(path, 'utf8')) as { statistics: Record<string, number> }).statistics;
}

test('the whole job through snowflake-sdk against the stand-in on the small warehouse ends in the DuckDB path\'s PostgreSQL state, row for row', { skip }, async () => {
  const ex = await exclusions();
  const common = { AS_OF, TIMEZONE, LOG_LEVEL: 'DEBUG' };

  // The DuckDB path.
  const duckEnv: Env = { ...testPostgresEnv(duckSchema), ...common, DUCKDB_PATH: warehouse, RUN_REPORT_PATH: join(dir, 'duck.json') };
  await prepareSchema(duckSchema, duckEnv, ex);
  const duck = await runCli(['task02_00_run_conflict_update'], duckEnv, { timeoutMs: 300_000 });
  assert.equal(duck.code, 0, duck.stdout + duck.stderr);

  // The Snowflake path: the stand-in finds each statement's DuckDB twin in plans built from the
  // parameters the job builds (its configuration and the reference data of its schema).
  const sfEnv: Env = {
    ...testPostgresEnv(sfSchema),
    ...common,
    ...loginEnv(),
    RUN_REPORT_PATH: join(dir, 'sf.json'),
  };
  await prepareSchema(sfSchema, sfEnv, ex);
  const config = loadConfig({ ...sfEnv, SNOWFLAKE_ACCESS_URL: 'http://127.0.0.1:1' });
  const params = await paramsFromTarget(config, createLogger({ level: 'ERROR' }));
  const { database, schema } = config.warehouse;
  executor = await warehouseExecutor({
    path: warehouse,
    database,
    twins: detectionTwins(params, { database, schema }),
    // small parts, so the results of a small warehouse span several chunks
    inlineBytes: 2_000,
    firstChunkBytes: 1_000,
  });
  si = await standIn({ warehouse: executor });
  const sf = await runCli(['task02_00_run_conflict_update'], { ...sfEnv, SNOWFLAKE_ACCESS_URL: si.url }, { timeoutMs: 300_000 });
  assert.equal(sf.code, 0, sf.stdout + sf.stderr);
  assert.match(sf.stdout, /Snowflake connection|Clock T = 2026-02-14 12:00:00/);

  // A second run on each path: the first run's conflicts are open rows now, so their keys go up to
  // the warehouse and the groups and ids that reach them come back (sync.md, "Stale resolution").
  const duck2 = await runCli(['task02_00_run_conflict_update'], { ...duckEnv, RUN_REPORT_PATH: join(dir, 'duck2.json') }, { timeoutMs: 300_000 });
  assert.equal(duck2.code, 0, duck2.stdout + duck2.stderr);
  const sf2 = await runCli(['task02_00_run_conflict_update'], { ...sfEnv, SNOWFLAKE_ACCESS_URL: si.url, RUN_REPORT_PATH: join(dir, 'sf2.json') }, { timeoutMs: 300_000 });
  assert.equal(sf2.code, 0, sf2.stdout + sf2.stderr);

  // It went through the driver and the twins: one session a run, every detection statement run on
  // DuckDB, the big results in several gzip chunks, the excluded SSNs and open keys bound as data.
  assert.equal(new Set(si.statements.map((s) => s.sessionToken)).size, 2, 'one session per run');
  assert.ok(executor.stats.statements >= 30, `${executor.stats.statements} statements ran as DuckDB twins`);
  assert.ok(si.chunkRequests.length >= 3, `${si.chunkRequests.length} result chunks downloaded`);
  assert.ok(new Set(si.chunkRequests.map((r) => r.queryId)).size >= 2, 'more than one result came in chunks');
  // The job's log says how many chunks the driver parsed, and how long that took (as the bench reads it).
  const parsed = chunkParseFromLog(sf.stdout);
  assert.ok(parsed, sf.stdout);
  const parsed2 = chunkParseFromLog(sf2.stdout);
  assert.equal(parsed.chunks + (parsed2?.chunks ?? 0), si.chunkRequests.length, 'every downloaded chunk parsed once');
  const insert = si.statements.find((s) => s.sql.startsWith('INSERT INTO cu_excluded_ssns'));
  assert.deepEqual((insert?.bindings?.['1']?.value as string[]).sort(), ex.ssns.map((s) => s.trim()).sort());
  const keys = si.statements.filter((s) => s.sql.startsWith('INSERT INTO cu_open_ids_packed'));
  assert.ok(keys.length >= 1, 'the second run sent its open keys');
  assert.ok(keys.every((s) => (s.bindings?.['1']?.value as string[]).every((v) => /^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/.test(v))), 'packed ids');

  const duck2Stats = statistics(join(dir, 'duck2.json'));
  assert.ok(duck2Stats.affectedGroupsReceived > 0 && duck2Stats.scopeVisitIds > 0, `the second run's scope reaches open rows: ${JSON.stringify(duck2Stats)}`);
  assert.deepEqual(statistics(join(dir, 'sf2.json')), duck2Stats, 'the second runs agree');

  // The same run, seen from PostgreSQL.
  const duckStats = statistics(join(dir, 'duck.json'));
  const sfStats = statistics(join(dir, 'sf.json'));
  assert.ok(duckStats.detectedRows > 0 && duckStats.inserted > 0, `the small warehouse has conflicts: ${JSON.stringify(duckStats)}`);
  assert.deepEqual(sfStats, duckStats, sf.stdout.split("\n").filter((l) => /reject/i.test(l)).join("\n"));
  for (const [table, order] of [
    ['conflictvisitmaps', '"ID"'],
    ['conflicts', '"CONFLICTID"'],
    ['settings', '"ID"'],
  ] as const) {
    const a = await endState(duckSchema, table, order);
    const b = await endState(sfSchema, table, order);
    assert.equal(b.length, a.length, `${table}: row count`);
    assert.deepEqual(b, a, `${table}: the Snowflake path's rows equal the DuckDB path's`);
  }
});
