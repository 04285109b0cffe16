// operations.md, "Actions": test_connections connects to both databases and reports the tables.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { runCli } from '../helpers/cli.js';
import { dropSchema, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';

const dir = tempDir('cu-tc-');
const schema = uniqueSchema('tc');
after(() => dropSchema(schema));

async function warehouseFile(): Promise<string> {
  const path = join(dir, 'wh.duckdb');
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  await c.run('CREATE SCHEMA BI; CREATE TABLE BI.DIMCAREGIVER ("Caregiver Id" VARCHAR, "SSN" VARCHAR)');
  c.closeSync();
  inst.closeSync();
  return path;
}

test('before init_db: both connections succeed, each missing table is a warning', async () => {
  const env = { ...testPostgresEnv(schema), DUCKDB_PATH: await warehouseFile() };
  const r = await runCli(['test_connections'], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /DuckDB connection successful: v\d+\.\d+\.\d+/);
  assert.match(r.stdout, /PostgreSQL connection successful/);
  for (const t of ['settings', 'excluded_agency', 'excluded_ssn', 'mph', 'conflictvisitmaps']) {
    assert.match(r.stdout, new RegExp(`WARNING Table ${schema}\\.${t} is missing`));
  }
});

test('after init_db: the tables of the schema and the reference-table counts', async () => {
  const env = { ...testPostgresEnv(schema), DUCKDB_PATH: join(dir, 'wh.duckdb') };
  assert.equal((await runCli(['init_db'], env)).code, 0);
  const r = await runCli(['test_connections'], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`Schema ${schema}: conflicts, conflictvisitmaps, excluded_agency, excluded_ssn, mph, settings`));
  assert.match(r.stdout, /settings\s+1 rows/);
  assert.match(r.stdout, /mph\s+4 rows/);
  assert.match(r.stdout, /conflictvisitmaps\s+0 rows/);
  assert.doesNotMatch(r.stdout, /is missing/);
});

test('a missing DuckDB file is a clear error naming DUCKDB_PATH', async () => {
  const r = await runCli(['test_connections'], { ...testPostgresEnv(schema), DUCKDB_PATH: join(dir, 'nope.duckdb') });
  assert.equal(r.code, 2);
  assert.match(r.stdout, /DUCKDB_PATH: no DuckDB warehouse at .*nope\.duckdb/);
});

test('an unreachable PostgreSQL fails with exit 1 and one clear line', async () => {
  const env = { ...testPostgresEnv(schema), DUCKDB_PATH: join(dir, 'wh.duckdb'), POSTGRES_PORT: '1' };
  const r = await runCli(['test_connections'], env);
  assert.equal(r.code, 1);
  assert.match(r.stdout, /test_connections: failed: .*ECONNREFUSED/);
  assert.match(r.stdout, /Status: failed/);
});
