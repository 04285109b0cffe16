// operations.md, "Actions": test_connections connects to both databases and reports the tables.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { warehouseDdl } from '../../src/generate/sql-util.js';
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
  for (const sql of warehouseDdl()) await c.run(sql);
  c.closeSync();
  inst.closeSync();
  return path;
}

test('before init_db: both connections succeed, the missing schema is a warning', async () => {
  const env = { ...testPostgresEnv(schema), DUCKDB_PATH: await warehouseFile() };
  const r = await runCli(['test_connections'], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /DuckDB connection successful: v\d+\.\d+\.\d+/);
  assert.match(r.stdout, /PostgreSQL connection successful/);
  assert.match(r.stdout, new RegExp(`WARNING Preflight warning: PostgreSQL: schema ${schema}: expected the schema, found no such schema\\. What to do: run init_db`));
  assert.match(r.stdout, /Preflight: \d+ checks, 0 failed, 1 warning$/m);
});

test('after init_db: the tables of the schema and the reference-table counts', async () => {
  const env = { ...testPostgresEnv(schema), DUCKDB_PATH: join(dir, 'wh.duckdb') };
  assert.equal((await runCli(['init_db'], env)).code, 0);
  const r = await runCli(['test_connections'], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, new RegExp(`Preflight ok: PostgreSQL: schema ${schema} tables \\(conflicts, conflictvisitmaps, excluded_agency, excluded_ssn, mph, settings\\)`));
  assert.match(r.stdout, new RegExp(`table ${schema}\\.settings rows \\(1 rows\\)`));
  assert.match(r.stdout, new RegExp(`table ${schema}\\.mph rows \\(4 rows\\)`));
  assert.match(r.stdout, new RegExp(`table ${schema}\\.conflictvisitmaps rows \\(0 rows\\)`));
  assert.doesNotMatch(r.stdout, /Preflight (warning|mismatch)/);
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
