// The real program end to end (operations.md "Actions", "Logs", "Exit codes"; sync.md
// "Idempotence"): `node bin/conflict-updater.js …` as a child process against the test
// PostgreSQL and a small DuckDB warehouse, init_db first, then the job twice with one AS_OF.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, test } from 'node:test';
import { lockKey } from '../../src/target/lock.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { uid } from '../detection/warehouse.js';
import { writeSmallWarehouse } from './warehouse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AS_OF = '2026-02-14T12:00:00';

let dir: string;
let warehouse: string;
before(async () => {
  dir = tempDir('cu-e2e-');
  warehouse = await writeSmallWarehouse(dir);
});

interface Run {
  code: number | null;
  out: string;
}

function program(args: string[], schema: string, extra: Record<string, string> = {}): Promise<Run> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(testPostgresEnv(schema) as Record<string, string>),
    DUCKDB_PATH: warehouse,
    AS_OF,
    TIMEZONE: 'UTC',
    RUN_REPORT_PATH: join(dir, `${schema}-${Date.now()}.json`),
    ...extra,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/conflict-updater.js', ...args], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

function stat(out: string, label: string): number {
  // Labels as report/statistics.ts writes them (sentence case): matched whatever the case.
  const m = new RegExp(`^.*  ${label.replace(/[()]/g, '\\$&')}\\s+([\\d,]+)$`, 'im').exec(out);
  assert.ok(m, `summary line "${label}" in:\n${out}`);
  return Number(m[1].replace(/,/g, ''));
}

test('operations.md Actions: init_db, then the job inserts the detected conflicts; a second run with the same AS_OF writes nothing (sync.md Idempotence)', async () => {
  const schema = uniqueSchema('e2e');
  const c = await testClient();
  try {
    const init = await program(['init_db'], schema);
    assert.equal(init.code, 0, init.out);
    // a stored conflict of caregiver 1 that no longer exists: resolved as stale by the first run
    await c.query(
      `INSERT INTO "${schema}"."conflictvisitmaps" ("SSN", "VisitDate", "VisitID", "ConVisitID", "CONFLICTID", "StatusFlag", "ConProviderName")
       VALUES ('111-22-3333', '2026-02-13', $1, $2, 1, 'U', 'Gone Agency')`,
      [uid('v', 1).toLowerCase(), uid('v', 99).toLowerCase()],
    );

    const first = await program(['task02_00_run_conflict_update'], schema);
    assert.equal(first.code, 0, first.out);
    assert.match(first.out, /EXECUTION RESULT\n.*  task02_00_run_conflict_update: completed \(\d+\.\ds\)\n.*Status: completed\n.*Duration: /);
    assert.equal(stat(first.out, 'detected rows'), 4);
    assert.equal(stat(first.out, 'inserted'), 4);
    assert.equal(stat(first.out, 'stale resolved'), 1);
    const rows = await c.query(
      `SELECT "VisitID"::text AS v, "ConVisitID"::text AS cv, "CONFLICTID" AS cid, "StatusFlag" AS s, "SSN" AS ssn,
              "VisitTimeOverAnotherVisitTimeFlag" AS r5, "SameSchTimeFlag" AS r1
         FROM "${schema}"."conflictvisitmaps" ORDER BY "ID"`,
    );
    assert.equal(rows.rowCount, 5);
    assert.equal(rows.rows[0].s, 'R', 'the stale row was resolved');
    const inserted = rows.rows.slice(1);
    assert.deepEqual(inserted.map((r) => r.s), ['U', 'U', 'U', 'U']);
    const v1 = inserted.find((r) => r.v === uid('v', 1).toLowerCase());
    assert.equal(v1?.cid, '1', 'visit 1 reuses the CONFLICTID of its stored row');
    assert.equal(v1?.r5, 'Y');
    assert.equal(inserted.find((r) => r.v === uid('v', 3).toLowerCase())?.r1, 'Y');
    const parents = await c.query(`SELECT "CONFLICTID" AS id FROM "${schema}"."conflicts" ORDER BY 1`);
    assert.deepEqual(parents.rows.map((r) => r.id), ['1', '2', '3', '4']);
    const flag = await c.query(`SELECT "InProgressFlag" AS f FROM "${schema}"."settings"`);
    assert.equal(Number(flag.rows[0].f), 0);

    const before = await c.query(`SELECT t::text AS r FROM "${schema}"."conflictvisitmaps" t ORDER BY "ID"`);
    const second = await program(['task02_00_run_conflict_update'], schema);
    assert.equal(second.code, 0, second.out);
    assert.equal(stat(second.out, 'detected rows'), 4);
    assert.equal(stat(second.out, 'updated'), 0);
    assert.equal(stat(second.out, 'inserted'), 0);
    assert.equal(stat(second.out, 'stale resolved'), 0);
    assert.equal(stat(second.out, 'resolved by exclusions'), 0);
    const afterRows = await c.query(`SELECT t::text AS r FROM "${schema}"."conflictvisitmaps" t ORDER BY "ID"`);
    assert.deepEqual(afterRows.rows, before.rows);
  } finally {
    await c.end();
    await dropSchema(schema);
  }
});

test('operations.md Exit codes: 3 when another run holds the lock (Status: skipped), 1 on a reference-data error (Status: failed)', async () => {
  const schema = uniqueSchema('e2e');
  const holder = await testClient();
  try {
    assert.equal((await program(['init_db'], schema)).code, 0);
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey(schema)]);
    const skipped = await program(['task02_00_run_conflict_update'], schema);
    assert.equal(skipped.code, 3, skipped.out);
    assert.match(skipped.out, /task02_00_run_conflict_update: skipped/);
    assert.match(skipped.out, /Status: skipped/);
    const n = await holder.query(`SELECT count(*)::int AS n FROM "${schema}"."conflictvisitmaps"`);
    assert.equal(n.rows[0].n, 0);
    await holder.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(schema)]);

    await holder.query(`UPDATE "${schema}"."settings" SET "ExtraDistancePer" = NULL`);
    const failed = await program(['task02_00_run_conflict_update'], schema);
    assert.equal(failed.code, 1, failed.out);
    assert.match(failed.out, /ExtraDistancePer/);
    assert.match(failed.out, /Status: failed/);
    const flag = await holder.query(`SELECT "InProgressFlag" AS f FROM "${schema}"."settings"`);
    assert.equal(Number(flag.rows[0].f), 2);
  } finally {
    await holder.end();
    await dropSchema(schema);
  }
});

test('operations.md Exit codes: SIGTERM stops the program with 143, rolled back, InProgressFlag 2', async () => {
  const schema = uniqueSchema('e2e');
  const holder = await testClient();
  try {
    assert.equal((await program(['init_db'], schema)).code, 0);
    // Block the run inside its write transaction, then send SIGTERM.
    await holder.query('BEGIN');
    await holder.query(`LOCK TABLE "${schema}"."conflicts" IN EXCLUSIVE MODE`);
    const env = { ...(testPostgresEnv(schema) as Record<string, string>), PATH: process.env.PATH ?? '', DUCKDB_PATH: warehouse, AS_OF, TIMEZONE: 'UTC', RUN_REPORT_PATH: join(dir, `${schema}.json`) };
    const child = spawn(process.execPath, ['bin/conflict-updater.js', 'task02_00_run_conflict_update'], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await until('the run waiting for its lock on conflicts', async () => {
      const w = await holder.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = $1::regclass`, [`"${schema}"."conflicts"`]);
      return w.rowCount !== 0;
    });
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await closed;
    assert.equal(code, 143, out);
    assert.ok(Date.now() - t0 < 20_000);
    await holder.query('ROLLBACK');
    assert.match(out, /Status: stopped/);
    const n = await holder.query(`SELECT count(*)::int AS n FROM "${schema}"."conflictvisitmaps"`);
    assert.equal(n.rows[0].n, 0);
    const flag = await holder.query(`SELECT "InProgressFlag" AS f FROM "${schema}"."settings"`);
    assert.equal(Number(flag.rows[0].f), 2);
  } finally {
    await holder.query('ROLLBACK').catch(() => undefined);
    await holder.end();
    await dropSchema(schema);
  }
});
