// The job around the sync (sync.md "One run at a time", detection.md "Reference data",
// operations.md "Exit codes"): lock, InProgressFlag, reference data errors, stop by SIGTERM.
// Detection is replaced by a stand-in fed with prepared rows; the warehouse is an empty DuckDB file.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { ActionContext } from '../../src/actions/context.js';
import { runActions } from '../../src/actions/run.js';
import { loadConfig } from '../../src/config/config.js';
import type { DetectionParams, DetectionRun } from '../../src/detection/types.js';
import { exitCodeFor, LockHeldError, StoppedError } from '../../src/errors.js';
import { runConflictUpdate, type CreateDetectionRun } from '../../src/job/runConflictUpdate.js';
import { RunRecorder } from '../../src/run/recorder.js';
import { Shutdown } from '../../src/run/shutdown.js';
import { lockKey } from '../../src/target/lock.js';
import type { WarehouseRow } from '../../src/warehouse/warehouse.js';
import { testClient, testPostgresEnv } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { batches, cvm, detected, insertCvm, memoryLogger, setup, snapshot, storedFrom, toRow, type Ctx, type Values } from '../sync/helpers.js';

let dir: string;
let duckdbPath: string;
before(async () => {
  dir = tempDir('cu-job-');
  duckdbPath = join(dir, 'empty.duckdb');
  const inst = await DuckDBInstance.create(duckdbPath);
  inst.closeSync();
});

function env(ctx: Ctx, extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    ...testPostgresEnv(ctx.schema),
    DUCKDB_PATH: duckdbPath,
    RUN_REPORT_PATH: join(dir, `${ctx.schema}.json`),
    AS_OF: '2026-02-14T12:00:00',
    ...extra,
  };
}

function actionContext(ctx: Ctx, extra: Record<string, string> = {}) {
  const log = memoryLogger();
  const shutdown = new Shutdown();
  const c: ActionContext = {
    config: loadConfig(env(ctx, extra)),
    log,
    shutdown,
    recorder: new RunRecorder(log),
    runId: 'test-run',
    startedAt: new Date(),
  };
  return { c, log, shutdown };
}

interface StandIn {
  create: CreateDetectionRun;
  params?: DetectionParams;
  /** InProgressFlag as another session saw it while detection streamed. */
  flagDuring?: number;
}

/** Detection stand-in: the given rows, groups and scope; `hang` waits for the stop signal. */
function standIn(ctx: Ctx, rows: Values[], opts: { groups?: Array<[string, string]>; fail?: Error; hang?: AbortSignal } = {}): StandIn {
  const s: StandIn = {
    create: (_session, params): DetectionRun => {
      s.params = params;
      return {
        resolveClock: async () => '2026-02-14 12:00:00',
        prepare: async () => {
          if (opts.fail) throw opts.fail;
        },
        sendOpenKeys: async () => undefined,
        affectedGroups: () => batches<WarehouseRow>(opts.groups ?? []),
        scopeVisitIds: () => batches<WarehouseRow>([]),
        detectedRows: () =>
          (async function* () {
            const c = await testClient();
            try {
              s.flagDuring = Number((await c.query(`SELECT "InProgressFlag" AS f FROM ${ctx.s}."settings"`)).rows[0].f);
            } finally {
              await c.end();
            }
            if (opts.hang) {
              const signal = opts.hang;
              await new Promise((_, reject) => {
                if (signal.aborted) reject(new Error('detection interrupted'));
                signal.addEventListener('abort', () => reject(new Error('detection interrupted')));
              });
            }
            yield* batches(rows.map(toRow));
          })(),
      };
    },
  };
  return s;
}

async function flag(ctx: Ctx): Promise<number | null> {
  const r = await ctx.client.query(`SELECT "InProgressFlag" AS f FROM ${ctx.s}."settings"`);
  return r.rowCount ? Number(r.rows[0].f) : null;
}

async function lockFree(ctx: Ctx): Promise<boolean> {
  const c = await testClient();
  try {
    const r = await c.query('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [lockKey(ctx.schema)]);
    if (r.rows[0].ok) await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [lockKey(ctx.schema)]);
    return r.rows[0].ok;
  } finally {
    await c.end();
  }
}

test('sync.md One run at a time: InProgressFlag is 1 while running and 0 after success; the lock is released', async () => {
  const ctx = await setup('job');
  try {
    const d = detected();
    const s = standIn(ctx, [d, detected()]);
    const { c, log } = actionContext(ctx);
    assert.equal(await runConflictUpdate(c, { createDetectionRun: s.create }), 'completed');
    assert.equal(s.flagDuring, 1);
    assert.equal(await flag(ctx), 0);
    assert.equal(await lockFree(ctx), true);
    assert.equal((await cvm(ctx)).length, 2);
    assert.equal(c.recorder.stats.inserted, 2);
    assert.ok(log.lines.some((l) => /Summary:/.test(l)));
    assert.ok(log.lines.some((l) => /inserted\s+2$/i.test(l)));
    assert.ok(log.lines.some((l) => l.includes(`Target schema: ${ctx.schema}`)));
  } finally {
    await ctx.close();
  }
});

test('sync.md One run at a time: another session holds the lock: logged, nothing written, exit code 3', async () => {
  const ctx = await setup('job');
  const holder = await testClient();
  try {
    await holder.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [lockKey(ctx.schema)]);
    const before = await snapshot(ctx);
    const { c, log } = actionContext(ctx);
    const err = await runConflictUpdate(c, { createDetectionRun: standIn(ctx, [detected()]).create }).catch((e: unknown) => e);
    assert.ok(err instanceof LockHeldError);
    assert.equal(exitCodeFor(err), 3);
    assert.ok(log.lines.some((l) => /Another run holds the lock/.test(l)));
    assert.deepEqual(await snapshot(ctx), before);
    assert.equal(await flag(ctx), 0, 'InProgressFlag untouched');
    // the same through the program's action runner: exit 3, Status: skipped
    const code = await runActions('task02_00_run_conflict_update', env(ctx));
    assert.equal(code, 3);
  } finally {
    await holder.end();
    await ctx.close();
  }
});

test('sync.md One run at a time: a failure sets InProgressFlag 2, writes nothing and releases the lock', async () => {
  const ctx = await setup('job');
  try {
    await insertCvm(ctx, storedFrom(detected()));
    const before = await snapshot(ctx);
    const { c } = actionContext(ctx);
    const err = await runConflictUpdate(c, { createDetectionRun: standIn(ctx, [detected()], { fail: new Error('warehouse exploded') }).create }).catch((e: unknown) => e);
    assert.match(String(err), /warehouse exploded/);
    assert.equal(exitCodeFor(err), 1);
    assert.equal(await flag(ctx), 2);
    assert.deepEqual(await snapshot(ctx), before);
    assert.equal(await lockFree(ctx), true);
  } finally {
    await ctx.close();
  }
});

test('sync.md One run at a time: FAIL_ON_REJECTS with a reject fails the run (exit 1, InProgressFlag 2, nothing written)', async () => {
  const ctx = await setup('job');
  try {
    const before = await snapshot(ctx);
    const { c } = actionContext(ctx, { FAIL_ON_REJECTS: 'true' });
    const err = await runConflictUpdate(c, { createDetectionRun: standIn(ctx, [detected(), detected({ PatientID: 'x' })]).create }).catch((e: unknown) => e);
    assert.match(String(err), /FAIL_ON_REJECTS/);
    assert.equal(exitCodeFor(err), 1);
    assert.equal(await flag(ctx), 2);
    assert.deepEqual(await snapshot(ctx), before);
    assert.equal(c.recorder.rejects[0].reason, 'PatientID: not a UUID');
  } finally {
    await ctx.close();
  }
});

test('detection.md Reference data: settings."ExtraDistancePer" NULL is a clear error: exit 1, InProgressFlag 2, detection never runs', async () => {
  const ctx = await setup('job');
  try {
    await ctx.client.query(`UPDATE ${ctx.s}."settings" SET "ExtraDistancePer" = NULL`);
    const s = standIn(ctx, [detected()]);
    const { c } = actionContext(ctx);
    const err = await runConflictUpdate(c, { createDetectionRun: s.create }).catch((e: unknown) => e);
    assert.match(String(err), /ExtraDistancePer" is NULL/);
    assert.equal(exitCodeFor(err), 1);
    assert.equal(await flag(ctx), 2);
    assert.equal(s.params, undefined);
  } finally {
    await ctx.close();
  }
});

test('detection.md Reference data: a missing settings row is a clear error (exit 1)', async () => {
  const ctx = await setup('job');
  try {
    await ctx.client.query(`DELETE FROM ${ctx.s}."settings"`);
    const { c, log } = actionContext(ctx);
    const err = await runConflictUpdate(c, { createDetectionRun: standIn(ctx, []).create }).catch((e: unknown) => e);
    assert.match(String(err), /settings has no row/);
    assert.equal(exitCodeFor(err), 1);
    assert.ok(log.lines.some((l) => /InProgressFlag not set/.test(l)));
  } finally {
    await ctx.close();
  }
});

test('detection.md Reference data: excluded ids lower-cased, SSNs trimmed non-empty, MPH rows with a NULL ignored with a warning', async () => {
  const ctx = await setup('job');
  try {
    await ctx.client.query(`UPDATE ${ctx.s}."settings" SET "ExtraDistancePer" = 1.2`);
    await ctx.client.query(`INSERT INTO ${ctx.s}."excluded_agency" ("ProviderID") VALUES ('AAAAAAAA-0000-4000-8000-000000000001'), (NULL)`);
    await ctx.client.query(`INSERT INTO ${ctx.s}."excluded_ssn" ("SSN") VALUES (' 123 '), (''), ('  '), (NULL), ('123')`);
    await ctx.client.query(`INSERT INTO ${ctx.s}."mph" ("From", "To", "AverageMilesPerHour") VALUES (NULL, 3, 10), (1, 2, NULL)`);
    const s = standIn(ctx, []);
    const { c, log } = actionContext(ctx);
    await runConflictUpdate(c, { createDetectionRun: s.create });
    assert.deepEqual(s.params?.excludedProviders, ['aaaaaaaa-0000-4000-8000-000000000001']);
    assert.deepEqual(s.params?.excludedSsns, ['123']);
    assert.equal(s.params?.mphBands.length, 4);
    assert.deepEqual(s.params?.mphBands[0], { from: 0, to: 5, mph: 15 });
    assert.ok(Math.abs((s.params?.extraDistancePer ?? 0) - 1.2) < 1e-6);
    assert.equal(s.params?.extraDistancePer, Math.fround(1.2), 'the stored real read as a double');
    assert.ok(log.lines.some((l) => /mph: 2 rows with a NULL/.test(l)));
    await ctx.client.query(`DELETE FROM ${ctx.s}."mph" WHERE "AverageMilesPerHour" IS NOT NULL AND "From" IS NOT NULL`);
    const again = actionContext(ctx);
    await runConflictUpdate(again.c, { createDetectionRun: s.create });
    assert.equal(s.params?.mphBands.length, 0);
    assert.ok(again.log.lines.some((l) => /no usable band/.test(l)));
  } finally {
    await ctx.close();
  }
});

test('operations.md Exit codes: SIGTERM during detection stops the run: rolled back, InProgressFlag 2, lock released, exit 143', async () => {
  const ctx = await setup('job');
  try {
    await insertCvm(ctx, storedFrom(detected()));
    const before = await snapshot(ctx);
    const { c, shutdown, log } = actionContext(ctx);
    const s = standIn(ctx, [detected()], { hang: shutdown.signal });
    const run = runConflictUpdate(c, { createDetectionRun: s.create }).then(
      () => undefined,
      (e: unknown) => e,
    );
    await until('detection (the stand-in) to start', () => s.flagDuring !== undefined);
    const t0 = Date.now();
    await shutdown.stop('SIGTERM', log);
    const err = await run;
    assert.ok(err, 'the run failed');
    assert.ok(Date.now() - t0 < 5000, 'unwound within seconds');
    // the program (runActions) turns a failure after a stop into StoppedError: exit 143
    assert.ok(shutdown.stopped && !(err instanceof LockHeldError));
    assert.equal(exitCodeFor(new StoppedError()), 143);
    assert.equal(await flag(ctx), 2);
    assert.deepEqual(await snapshot(ctx), before);
    assert.equal(await lockFree(ctx), true);
    assert.ok(log.lines.some((l) => /rolled back/.test(l)));
  } finally {
    await ctx.close();
  }
});
