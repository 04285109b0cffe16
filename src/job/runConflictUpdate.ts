// task02_00_run_conflict_update: the whole job (sync.md, detection.md, operations.md).
// Target, advisory lock, InProgressFlag, reference data, warehouse session, detection, sync;
// every resource is released in a finally block, and a stop (SIGTERM) cancels the running
// warehouse statement and the running PostgreSQL query so the run unwinds through its rollback.
import type pg from 'pg';
import type { ActionContext } from '../actions/context.js';
import { createDetectionRun, detectionParams, type DetectionContext } from '../detection/detection.js';
import type { DetectionParams, DetectionRun } from '../detection/types.js';
import { errorMessage, LockHeldError } from '../errors.js';
import type { Logger } from '../log.js';
import { dryRunChangesPath, reportPath } from '../report/report.js';
import { closeSync, merge, openSync, stage, type DryRun } from '../sync/index.js';
import { setInProgress } from '../target/inProgress.js';
import { tryLock, unlock } from '../target/lock.js';
import { readReferenceData } from '../target/referenceData.js';
import { openTarget, type Target } from '../target/postgres.js';
import { openWarehouse, type WarehouseSession } from '../warehouse/warehouse.js';
import { logSummary } from './summary.js';

export const JOB_NAME = 'task02_00_run_conflict_update';

export type CreateDetectionRun = (session: WarehouseSession, params: DetectionParams, opts: DetectionContext) => DetectionRun;

export interface JobDependencies {
  /** Detection; by default the one of src/detection. Tests pass a stand-in. */
  readonly createDetectionRun?: CreateDetectionRun;
}

/** The whole job: reference data, detection, sync, report (sync.md). */
export async function runConflictUpdate(ctx: ActionContext, deps: JobDependencies = {}): Promise<'completed'> {
  const { config, log, shutdown } = ctx;
  const schema = config.postgres.schema;
  log.info(`Target schema: ${schema}`);
  if (config.dryRun) {
    log.info(
      `DRY RUN: every statement runs, then the transaction rolls back: nothing in ${schema} changes (rows, sequences, InProgressFlag); ` +
        `the counts are what the run would have written, the rows in ${jobDryRun(ctx).changesPath}`,
    );
  }
  shutdown.throwIfStopped();
  const target = await openTarget(config.postgres, log);
  try {
    const client = await target.connect();
    const unhook = shutdown.onStop(() => target.cancel(client));
    try {
      await client.query(`SET application_name = 'conflict-updater ${JOB_NAME}'`);
      if (!(await tryLock(client, schema))) {
        log.warn(`Another run holds the lock of schema ${schema}: nothing written`);
        throw new LockHeldError(`another run holds the advisory lock of schema ${schema}`);
      }
      log.info(`Advisory lock of schema ${schema} taken`);
      try {
        await runLocked(ctx, target, client, deps);
      } finally {
        await unlock(client, schema).catch((err) => log.warn(`releasing the advisory lock: ${errorMessage(err)} (the session's end releases it)`));
      }
    } finally {
      unhook();
      await client.end().catch(() => undefined);
    }
  } finally {
    await target.close();
  }
  return 'completed';
}

/** DRY_RUN: the changes file, DRY_RUN_CHANGES_PATH or next to this run's report. */
export function jobDryRun(ctx: Pick<ActionContext, 'config' | 'startedAt'>): DryRun {
  const { config } = ctx;
  return { changesPath: dryRunChangesPath(config.dryRunChangesPath, reportPath(config.runReportPath, ctx.startedAt)) };
}

async function runLocked(ctx: ActionContext, target: Target, client: pg.Client, deps: JobDependencies): Promise<void> {
  const { config, log, shutdown, recorder } = ctx;
  const schema = config.postgres.schema;
  // A dry run leaves settings alone: InProgressFlag is neither set to 1 nor reset.
  const dryRun = config.dryRun ? jobDryRun(ctx) : undefined;
  if (dryRun) log.info(`Dry run: ${schema}.settings."InProgressFlag" left as it is`);
  else if ((await setInProgress(client, schema, 1)) === 0) log.warn(`${schema}.settings has no row: InProgressFlag not set`);
  let wh: WarehouseSession | undefined;
  let unhookWh: (() => void) | undefined;
  let committed = false;
  try {
    const ref = await recorder.step('Reference data', () => readReferenceData(client, schema, log));
    shutdown.throwIfStopped();
    const createRun = deps.createDetectionRun ?? createDetectionRun;
    const session = await openWarehouse(config.warehouse, {
      timezone: config.timezone,
      queryTag: `conflict-updater ${JOB_NAME} run ${ctx.runId}`,
      log,
    });
    wh = session;
    unhookWh = shutdown.onStop(() => session.cancel());
    shutdown.throwIfStopped();
    const params = detectionParams(config, ref);
    const run = createRun(session, params, {
      database: config.warehouse.database,
      schema: config.warehouse.schema,
      recorder,
      log,
    });
    await run.resolveClock();
    shutdown.throwIfStopped();
    // The sync first: PostgreSQL takes the open rows while the warehouse runs Steps 0-2.
    const sync = await openSync(client, {
      schema,
      comprehensive: config.enableAsymmetricJoin,
      skipUnchanged: config.skipUnchangedRecords,
      enableInsert: config.enableInsert,
      enableStaleCleanup: config.enableStaleCleanup,
      failOnRejects: config.failOnRejects,
      dryRun,
      recorder,
      log,
      shutdown,
    });
    await run.prepare();
    shutdown.throwIfStopped();
    const staged = await stage(sync, run);
    // Detection is fully received: the warehouse session is no longer needed.
    unhookWh();
    unhookWh = undefined;
    await session.close();
    wh = undefined;
    shutdown.throwIfStopped();

    await merge(sync, staged);
    committed = !dryRun;
    await closeSync(sync).catch(() => undefined);
    if (dryRun) log.info('Dry run: the summary gives the counts the run would have written; nothing was written');
    else await setInProgress(client, schema, 0);
    logSummary(log, recorder);
  } catch (err) {
    // After the commit only the bookkeeping is left: the run's changes are in, whatever follows.
    if (committed) log.warn(`The run's changes were committed before the ${shutdown.stopped ? 'stop' : 'failure'}`);
    else if (shutdown.stopped) log.warn('Stopped: the open transaction was rolled back, nothing was written');
    if (dryRun) {
      await client.query('ROLLBACK').catch(() => undefined);
      log.info(`Dry run: ${schema}.settings."InProgressFlag" left as it is`);
    } else await markFailed(target, client, schema, log);
    throw err;
  } finally {
    unhookWh?.();
    if (wh) await wh.close().catch((err) => log.warn(`closing the warehouse session: ${errorMessage(err)}`));
  }
}

/** InProgressFlag = 2, on the run's session or, if that one is unusable, on a new one. */
async function markFailed(target: Target, client: pg.Client, schema: string, log: Logger): Promise<void> {
  try {
    await client.query('ROLLBACK').catch(() => undefined);
    await setInProgress(client, schema, 2);
    log.info(`${schema}.settings: InProgressFlag = 2`);
    return;
  } catch {
    // a cancel may have hit this statement, or the connection is gone: try a fresh one
  }
  try {
    const c = await target.connect();
    try {
      await setInProgress(c, schema, 2);
      log.info(`${schema}.settings: InProgressFlag = 2`);
    } finally {
      await c.end();
    }
  } catch (err) {
    log.error(`could not set InProgressFlag = 2: ${errorMessage(err)}`);
  }
}
