// operations.md, "Dry run" (and "Security": the changes file is the one place values may appear,
// owner-only, and the log says so). The real job (lock, real detection on a small DuckDB
// warehouse, staging, every statement of the merge) against the test PostgreSQL, on a target
// prepared so that one run inserts, updates, repairs a CONFLICTID, allocates CONFLICTIDs, resolves
// a stale row and an excluded one, with both identity sequences lagging behind their tables (a
// real run moves them).
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import type pg from 'pg';
import type { ActionContext } from '../../src/actions/context.js';
import { describeConfig, loadConfig } from '../../src/config/config.js';
import { runConflictUpdate } from '../../src/job/runConflictUpdate.js';
import type { RunReport } from '../../src/report/report.js';
import { RunRecorder } from '../../src/run/recorder.js';
import { Shutdown } from '../../src/run/shutdown.js';
import { countChanges, readChanges, type ChangeLine } from '../../src/sync/index.js';
import { uid } from '../detection/warehouse.js';
import { runCli } from '../helpers/cli.js';
import { testPostgresEnv } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { memoryLogger, setup, type Ctx } from '../sync/helpers.js';
import { writeSmallWarehouse } from './warehouse.js';

const AS_OF = '2026-02-14T12:00:00';
const v = (n: number) => uid('v', n).toLowerCase();
const EXCLUDED_SSN = '999-00-1234';

let dir: string;
let warehouse: string;
before(async () => {
  dir = tempDir('cu-dry-');
  warehouse = await writeSmallWarehouse(dir);
});

function env(ctx: Ctx, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(testPostgresEnv(ctx.schema) as Record<string, string>),
    DUCKDB_PATH: warehouse,
    AS_OF,
    TIMEZONE: 'UTC',
    RUN_REPORT_PATH: join(dir, `${ctx.schema}-${Math.random().toString(36).slice(2)}.json`),
    ...extra,
  };
}

/** The job in this process, as the program runs it; its log kept. */
async function job(ctx: Ctx, extra: Record<string, string> = {}) {
  const log = memoryLogger();
  const c: ActionContext = {
    config: loadConfig(env(ctx, extra)),
    log,
    shutdown: new Shutdown(),
    recorder: new RunRecorder(log),
    runId: 'dry-run-test',
    startedAt: new Date(),
  };
  assert.equal(await runConflictUpdate(c), 'completed');
  return { stats: c.recorder.stats, recorder: c.recorder, log };
}

/**
 * A target on which the next run with AS_OF does every kind of write: after a first real run
 * (four conflict rows of the small warehouse), (v1, v2) has a changed visit start and provider
 * name (update), (v2, v1) lost its CONFLICTID (repair, with a new CONFLICTID), the rows of v3 and
 * v4 are gone (two inserts, two new CONFLICTIDs), (v1, v99) no longer exists in the warehouse
 * (stale), a row of an excluded SSN is open (exclusion); both sequences are set back.
 */
async function prepared(): Promise<Ctx> {
  const ctx = await setup('dry');
  await job(ctx);
  const s = ctx.s;
  const q = (sql: string, params: unknown[] = []) => ctx.client.query(sql, params);
  await q(`UPDATE ${s}."conflictvisitmaps" SET "VisitStartTime" = '2026-02-13 08:30:00', "ProviderName" = 'Old, "quoted" name' WHERE "VisitID" = $1`, [v(1)]);
  await q(`UPDATE ${s}."conflictvisitmaps" SET "CONFLICTID" = NULL WHERE "VisitID" = $1`, [v(2)]);
  await q(`DELETE FROM ${s}."conflictvisitmaps" WHERE "VisitID" IN ($1, $2)`, [v(3), v(4)]);
  await q(
    `INSERT INTO ${s}."conflictvisitmaps" ("SSN", "VisitDate", "VisitID", "ConVisitID", "CONFLICTID", "StatusFlag", "ConProviderName")
     VALUES ('111-22-3333', '2026-02-13', $1, $2, 1, 'U', 'Gone Agency'), ($3, '2025-06-01', $4, $5, 1, 'N', 'Other Agency')`,
    [v(1), v(99), EXCLUDED_SSN, v(97), v(98)],
  );
  await q(`INSERT INTO ${s}."excluded_ssn" ("SSN") VALUES ($1)`, [EXCLUDED_SSN]);
  // Both identities behind their tables: a real run advances them (setval) before using them.
  await q(`SELECT setval(pg_get_serial_sequence($1, 'ID'), 1)`, [`${s}."conflictvisitmaps"`]);
  await q(`SELECT setval(pg_get_serial_sequence($1, 'CONFLICTID'), 1)`, [`${s}."conflicts"`]);
  return ctx;
}

/** Every row of every table of the schema with its version (xmin, ctid), and every sequence's state. */
async function state(ctx: Ctx): Promise<string[]> {
  const out: string[] = [];
  const tables = await ctx.client.query(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [ctx.schema]);
  assert.ok(tables.rows.length >= 6);
  for (const { t } of tables.rows) {
    const r = await ctx.client.query(`SELECT x.xmin::text AS xmin, x.ctid::text AS ctid, x::text AS r FROM ${ctx.s}."${t}" x ORDER BY x.ctid`);
    for (const row of r.rows) out.push(`${t} ${row.xmin} ${row.ctid} ${row.r}`);
  }
  const seqs = await ctx.client.query(`SELECT sequencename AS q FROM pg_sequences WHERE schemaname = $1 ORDER BY 1`, [ctx.schema]);
  assert.ok(seqs.rows.length >= 2);
  for (const { q } of seqs.rows) {
    const r = await ctx.client.query(`SELECT last_value, log_cnt, is_called FROM ${ctx.s}."${q}"`);
    out.push(`sequence ${q} ${JSON.stringify(r.rows[0])}`);
  }
  return out;
}

/** The lines of a changes file as comparable text. */
function lines(changes: readonly ChangeLine[]): string[] {
  return changes.map((l) => [l.outcome, l.ID, l.VisitID, l.ConVisitID, l.CONFLICTID, l.column, l.stored, l.new].map((x) => x ?? '∅').join(' | ')).sort();
}

test('operations.md Dry run: nothing in PostgreSQL changes (rows, sequences, settings and InProgressFlag); the log and summary give the counts it would have written', async () => {
  const ctx = await prepared();
  try {
    const beforeState = await state(ctx);
    const { stats, log } = await job(ctx, { DRY_RUN: 'true' });
    assert.deepEqual(await state(ctx), beforeState);
    // the counts of the statements inside the rolled back transaction
    assert.equal(stats.inserted, 2);
    assert.equal(stats.updated, 1);
    assert.equal(stats.updatedByColumn, 1);
    assert.equal(stats.conflictIdsRepaired, 1);
    assert.equal(stats.conflictIdsAllocated, 3);
    assert.equal(stats.parentsCreated, 3);
    assert.equal(stats.staleResolved, 1);
    assert.equal(stats.exclusionResolved, 1);
    assert.ok(log.lines.some((l) => /DRY RUN: .*rolls back: nothing in .* changes \(rows, sequences, InProgressFlag\)/.test(l)), log.text);
    assert.ok(log.lines.some((l) => /Dry run: .*settings\."InProgressFlag" left as it is/.test(l)));
    assert.ok(log.lines.some((l) => /Sync: rollback \(dry run\): /.test(l)));
    assert.ok(!log.lines.some((l) => /Sync: commit/.test(l)));
    assert.ok(log.lines.some((l) => /Dry run: the summary gives the counts the run would have written/.test(l)));
    assert.ok(log.lines.some((l) => /^.*  Inserted\s+2$/.test(l)));
    assert.ok(log.lines.some((l) => /^.*  Stale resolved\s+1$/.test(l)));
  } finally {
    await ctx.close();
  }
});

test('operations.md Dry run: the changes file lists an insert, an update with its differing columns (stored and new values), a repair, a stale and an exclusion resolve and the new conflicts; mode 0600 and the log says so', async () => {
  const ctx = await prepared();
  try {
    const path = join(dir, `${ctx.schema}-changes.csv`);
    // an older file of another mode is replaced, not reused with its mode
    writeFileSync(path, 'old\n', { mode: 0o644 });
    const { log, recorder } = await job(ctx, { DRY_RUN: 'yes', DRY_RUN_CHANGES_PATH: path });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(log.lines.some((l) => l.includes(`Dry run: ${path} holds personal values`) && /owner-only \(mode 0600\)/.test(l)), log.text);
    const changes = await readChanges(path);
    assert.deepEqual(recorder.dryRunChanges, { path, lines: changes.length });
    const ids = await ctx.client.query<{ id: string; v: string; cv: string }>(
      `SELECT "ID"::text AS id, "VisitID"::text AS v, "ConVisitID"::text AS cv FROM ${ctx.s}."conflictvisitmaps"`,
    );
    const idOf = (a: number, b: number) => ids.rows.find((r) => r.v === v(a) && r.cv === v(b))?.id ?? null;
    // v1's agency is the warehouse's first (`Agency 0001`). Allocation: the largest CONFLICTID is 4 (four visits of the first run); new ids in VisitID order: v2, v3, v4.
    const row = (outcome: string, id: string | null, a: number | null, b: number | null, cid: string, col?: string, stored?: string | null, nw?: string | null) =>
      [outcome, id, a === null ? null : v(a), b === null ? null : v(b), cid, col ?? null, stored ?? null, nw ?? null].map((x) => x ?? '∅').join(' | ');
    const cidV1 = (await ctx.client.query(`SELECT "CONFLICTID"::text AS c FROM ${ctx.s}."conflictvisitmaps" WHERE "VisitID" = $1 AND "ConVisitID" = $2`, [v(1), v(2)])).rows[0].c;
    const excludedId = (await ctx.client.query(`SELECT "ID"::text AS id FROM ${ctx.s}."conflictvisitmaps" WHERE "SSN" = $1`, [EXCLUDED_SSN])).rows[0].id;
    const expected = [
      row('insert', null, 3, 4, '6'),
      row('insert', null, 4, 3, '7'),
      row('update', idOf(1, 2), 1, 2, cidV1, 'VisitStartTime', '2026-02-13 08:30:00', '2026-02-13 09:00:00'),
      row('update', idOf(1, 2), 1, 2, cidV1, 'ProviderName', 'Old, "quoted" name', 'Agency 0001'),
      row('repair', idOf(2, 1), 2, 1, '5', 'CONFLICTID', null, '5'),
      row('resolve-stale', idOf(1, 99), 1, 99, '1'),
      [('resolve-excluded'), excludedId, v(97), v(98), '1', '∅', '∅', '∅'].join(' | '),
      row('insert-conflict', null, null, null, '5'),
      row('insert-conflict', null, null, null, '6'),
      row('insert-conflict', null, null, null, '7'),
    ].sort();
    assert.deepEqual(lines(changes), expected);
    assert.deepEqual(countChanges(changes), { insert: 2, update: 1, repair: 1, 'resolve-stale': 1, 'resolve-excluded': 1, 'insert-conflict': 3 });
    // the file lists in outcome order, then by keys
    assert.deepEqual([...new Set(changes.map((c) => c.outcome))], ['insert', 'update', 'repair', 'resolve-stale', 'resolve-excluded', 'insert-conflict']);
    assert.match(readFileSync(path, 'utf8').split('\n')[0], /^outcome,ID,VisitID,ConVisitID,CONFLICTID,column,stored,new$/);
  } finally {
    await ctx.close();
  }
});

test('operations.md Dry run: with SKIP_UNCHANGED_RECORDS=false every matched row is an update, one line without a column when only UpdatedDate would change; ENABLE_STALE_CLEANUP=false: no resolve', async () => {
  const ctx = await setup('dry');
  try {
    await job(ctx);
    const beforeState = await state(ctx);
    const path = join(dir, `${ctx.schema}-all.csv`);
    const { stats } = await job(ctx, { DRY_RUN: 'true', DRY_RUN_CHANGES_PATH: path, SKIP_UNCHANGED_RECORDS: 'false', ENABLE_STALE_CLEANUP: 'false' });
    assert.deepEqual(await state(ctx), beforeState);
    assert.equal(stats.updated, 4);
    const changes = await readChanges(path);
    assert.equal(changes.length, 4);
    for (const l of changes) {
      assert.equal(l.outcome, 'update');
      assert.equal(l.column, null);
      assert.ok(l.ID !== null && l.CONFLICTID !== null);
    }
  } finally {
    await ctx.close();
  }
});

/** Every row of the two written tables, each value as PostgreSQL prints it (as the changes file has it). */
async function rawRows(client: pg.Client, sql: string): Promise<Map<string, Record<string, string | null>>> {
  const r = await client.query({ text: sql, types: { getTypeParser: () => (x: string) => x } });
  return new Map(r.rows.map((x: Record<string, string | null>) => [String(x.ID ?? x.CONFLICTID), x]));
}

test('operations.md Dry run: a dry run followed by a real run with the same AS_OF writes exactly the rows the changes file listed', async () => {
  const ctx = await prepared();
  try {
    const path = join(dir, `${ctx.schema}-then-real.csv`);
    const dry = await job(ctx, { DRY_RUN: 'true', DRY_RUN_CHANGES_PATH: path });
    const listed = await readChanges(path);
    const cvmSql = `SELECT * FROM ${ctx.s}."conflictvisitmaps"`;
    const parentSql = `SELECT * FROM ${ctx.s}."conflicts"`;
    const before = { cvm: await rawRows(ctx.client, cvmSql), parents: await rawRows(ctx.client, parentSql) };
    const real = await job(ctx);
    const after = { cvm: await rawRows(ctx.client, cvmSql), parents: await rawRows(ctx.client, parentSql) };

    // The real run's writes, in the changes file's terms: resolves by their key (the file gives
    // no columns for them), updated columns but UpdatedDate (the run's time) with both values.
    const written: string[] = [];
    for (const [id, row] of after.cvm) {
      const old = before.cvm.get(id);
      if (!old) {
        written.push(['insert', '∅', row.VisitID, row.ConVisitID, row.CONFLICTID].join(' | '));
        continue;
      }
      if (old.StatusFlag !== 'R' && row.StatusFlag === 'R') {
        written.push(['resolve', id, row.VisitID, row.ConVisitID, row.CONFLICTID].join(' | '));
        continue;
      }
      for (const col of Object.keys(row)) {
        if (col !== 'UpdatedDate' && row[col] !== old[col]) written.push([id, row.VisitID, row.ConVisitID, row.CONFLICTID, col, old[col] ?? '∅', row[col] ?? '∅'].join(' | '));
      }
    }
    for (const cid of after.parents.keys()) if (!before.parents.has(cid)) written.push(`insert-conflict ${cid}`);
    const fromFile = listed.map((l) => {
      const f = (x: string | null) => x ?? '∅';
      if (l.outcome === 'insert') return ['insert', '∅', l.VisitID, l.ConVisitID, l.CONFLICTID].join(' | ');
      if (l.outcome === 'resolve-stale' || l.outcome === 'resolve-excluded') return ['resolve', l.ID, l.VisitID, l.ConVisitID, l.CONFLICTID].join(' | ');
      if (l.outcome === 'insert-conflict') return `insert-conflict ${l.CONFLICTID}`;
      return [l.ID, l.VisitID, l.ConVisitID, l.CONFLICTID, f(l.column), f(l.stored), f(l.new)].join(' | ');
    });
    assert.ok(written.length >= 10);
    assert.deepEqual(written.sort(), fromFile.sort());
    // and the same counts
    for (const k of ['inserted', 'updated', 'conflictIdsRepaired', 'parentsCreated', 'staleResolved', 'exclusionResolved'] as const) {
      assert.equal(real.stats[k], dry.stats[k], k);
    }
  } finally {
    await ctx.close();
  }
});

async function program(ctx: Ctx, extra: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const r = await runCli(['task02_00_run_conflict_update'], env(ctx, extra));
  return { code: r.code, out: r.stdout + r.stderr };
}

test('operations.md Dry run: the program with DRY_RUN=true: the report has dryRun and the changes file (by default next to the report), the log says dry run; exit 0', async () => {
  const ctx = await prepared();
  try {
    const report = join(dir, `${ctx.schema}-program.json`);
    const run = await program(ctx, { DRY_RUN: 'TRUE', RUN_REPORT_PATH: report });
    assert.equal(run.code, 0, run.out);
    assert.match(run.out, /DRY RUN: every statement runs, then the transaction rolls back/);
    assert.match(run.out, /Status: completed/);
    const r = JSON.parse(readFileSync(report, 'utf8')) as RunReport;
    const changes = join(dir, `${ctx.schema}-program.changes.csv`);
    assert.equal(r.dryRun, true);
    assert.deepEqual(r.dryRunChanges, { path: changes, lines: (await readChanges(changes)).length });
    assert.equal(r.parameters?.DRY_RUN, 'true');
    assert.equal(r.statistics.inserted, 2);
    assert.equal(statSync(changes).mode & 0o777, 0o600);
    assert.match(run.out, new RegExp(`Dry run: ${changes.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} holds personal values`));
    // a real run's report says it was not one
    const realReport = join(dir, `${ctx.schema}-program-real.json`);
    assert.equal((await program(ctx, { RUN_REPORT_PATH: realReport })).code, 0);
    const rr = JSON.parse(readFileSync(realReport, 'utf8')) as RunReport;
    assert.equal(rr.dryRun, false);
    assert.equal(rr.dryRunChanges, null);
  } finally {
    await ctx.close();
  }
});

test('operations.md Configuration: DRY_RUN is a boolean (default false), DRY_RUN_CHANGES_PATH a path (default next to the run report); both in the effective configuration', () => {
  const base = { POSTGRES_SCHEMA: 'x' };
  assert.equal(loadConfig(base).dryRun, false);
  assert.equal(loadConfig({ ...base, DRY_RUN: 'No' }).dryRun, false);
  assert.equal(loadConfig({ ...base, DRY_RUN: '1' }).dryRun, true);
  assert.throws(() => loadConfig({ ...base, DRY_RUN: 'maybe' }), /DRY_RUN must be one of true\/false\/1\/0\/yes\/no \(got "maybe"\)/);
  const listed = new Map(describeConfig(loadConfig({ ...base, DRY_RUN: 'true', DRY_RUN_CHANGES_PATH: '/tmp/c.csv' })));
  assert.equal(listed.get('DRY_RUN'), 'true');
  assert.equal(listed.get('DRY_RUN_CHANGES_PATH'), '/tmp/c.csv');
  assert.equal(new Map(describeConfig(loadConfig(base))).get('DRY_RUN_CHANGES_PATH'), '<next to the run report>.changes.csv');
});
