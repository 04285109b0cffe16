// Reliability: SIGTERM (operations.md, "Exit codes" and the SIGTERM paragraph; sync.md, "All or
// nothing", "One run at a time"). ECS stops a task with SIGTERM: the job cancels the running
// warehouse statement, rolls back, sets InProgressFlag = 2, closes, and exits 143 within 20 s.
//
// The real program runs against the test PostgreSQL and a synthetic DuckDB warehouse, stopped in
// each phase of a run:
// - detection: when Step 2 starts (and, separately, a Step 3 that runs for many seconds over one
//   caregiver's day of 5,000 visits must be interrupted, not waited for);
// - the COPY into staging: once PostgreSQL reports rows received by the COPY (pg_stat_progress_copy),
//   the program is frozen (SIGSTOP), sent SIGTERM and let go (SIGCONT): it meets the signal mid-COPY
//   (detection too is frozen at the line that starts Step 2, so the signal lands in that step);
// - the merge: the test holds a SHARE lock on conflictvisitmaps, so the run's first write waits
//   inside its write transaction; stopped while it waits.
// Each time: exit 143 within 20 s, both tables byte-for-byte as before, InProgressFlag = 2, and
// the next run completes and reaches the state of a run that was never disturbed.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { postgresIdent as quoteIdent } from '../src/sqlText.js';
import pg from 'pg';
import { testPostgresUrl, uniqueSchema } from '../test/helpers/pg.js';
import {
  assertStoppedCleanly,
  blockWrites,
  businessChecksum,
  cloneSchema,
  dropSchemas,
  inProgressFlag,
  initSchema,
  jobBackend,
  jobEnv,
  runJob,
  show,
  startJob,
  tablesChecksum,
  tempDir,
  until,
  withClient,
  type Job,
  type JobResult,
} from './helpers/job.js';
import { seedAfterFirstRun, T1, T2 } from './helpers/seed.js';
import { writeBusyDay, type SyntheticOptions } from './helpers/warehouse.js';

const SHAPE: SyntheticOptions = {
  caregivers: 150,
  dates: 3,
  visitsPerDay: 4,
  providers: 6,
  firstDate: '2026-02-13',
  futureFrom: '2026-02-15',
  updatedAt: '2026-01-01 00:00:00',
  changedAt: '2026-02-14 06:00:00',
  changedEvery: 2,
};

const schemas: string[] = [];
let warehouse = '';
let seed = '';
let control: Awaited<ReturnType<typeof businessChecksum>>;

before(async () => {
  // The state before: a run at T1. Then the warehouse changes (visits move, become missed, change
  // provider or date, are added or deleted; the busy day is touched again) and T2 is the run.
  const seeded = await seedAfterFirstRun('sig', SHAPE, T1, '2026-02-15 06:00:00', schemas);
  ({ warehouse, seed } = seeded);
  const first = seeded.first;
  assert.equal(first.code, 0, show(first));
  assert.ok((first.report?.statistics.inserted ?? 0) > 500, 'the seed run inserted conflicts');
  // The undisturbed run from the same state.
  const ctl = uniqueSchema('sig_ctl');
  schemas.push(ctl);
  await cloneSchema(seed, ctl);
  const r = await runJob(jobEnv(ctl, warehouse, T2));
  assert.equal(r.code, 0, show(r));
  if (process.env.RELIABILITY_DEBUG) console.log(first.stdout, r.stdout);
  const s = r.report!.statistics;
  assert.ok(s.inserted > 0 && s.updated > 0 && s.staleResolved > 0, `the run under test inserts, updates and resolves: ${JSON.stringify(s)}`);
  control = await businessChecksum(ctl);
});

after(() => dropSchemas(schemas));

/** Stop a run at T2 over a copy of the seed state where `trigger` says, then check everything. */
async function stopAndRecover(
  trigger: (job: Job, schema: string) => Promise<void>,
  opts: { lock?: boolean; freeze?: boolean; env?: Record<string, string> } = {},
): Promise<JobResult> {
  const schema = uniqueSchema('sig');
  schemas.push(schema);
  await cloneSchema(seed, schema);
  const before = await tablesChecksum(schema);
  const lock = opts.lock ? await blockWrites(schema) : undefined;
  let r: JobResult;
  try {
    const job = startJob(jobEnv(schema, warehouse, T2, opts.env));
    await trigger(job, schema);
    if (opts.freeze) {
      // Frozen where the trigger found it, the program gets SIGTERM and handles it as it resumes.
      job.freeze();
      job.terminate();
      job.thaw();
    } else {
      job.terminate();
    }
    r = await job.done;
  } finally {
    await lock?.release();
  }
  await assertStoppedCleanly(r, schema, before);
  assert.ok(r.ms < 20_000, `exited ${r.ms} ms after SIGTERM`);
  assert.match(r.stdout, /SIGTERM received: cancelling the running statement and rolling back/);

  const next = await runJob(jobEnv(schema, warehouse, T2));
  assert.equal(next.code, 0, show(next));
  assert.equal(await inProgressFlag(schema), 0);
  assert.deepEqual(await businessChecksum(schema), control, 'the next run reaches the state of an undisturbed run');
  return r;
}

/** The line that ends a step: `Step 3 (conflicts): 7.3s, 8,144 detected rows` (not a progress line). */
function ended(step: string): RegExp {
  return new RegExp(`${step.replace(/[()]/g, '\\$&')}: (\\d+(\\.\\d+)?s|\\d+m \\d+s)(,|$)`, 'm');
}

describe('SIGTERM', () => {
  test('during detection (Step 2 running in the warehouse): exit 143, nothing written, next run converges', async () => {
    const r = await stopAndRecover(
      async (job) => {
        await job.waitFor(/Step 2a \(base_visits changed\): started/);
      },
      { freeze: true },
    );
    assert.match(r.stdout, /stopped: Step 2[ab] \(base_visits (un)?changed\): INTERRUPT/);
    assert.doesNotMatch(r.stdout, /Sync: staging \(COPY\): started/, 'the stop came during detection');
  });

  test('a long warehouse statement is interrupted, not waited for', async () => {
    // 5,000 visits of one caregiver on one day: Step 3 evaluates 25 million pairs, many seconds.
    const busy = join(tempDir(), 'busy.duckdb');
    await writeBusyDay(busy, { visits: 5000, date: '2026-02-15', updatedAt: '2026-02-15 06:00:00' });
    const schema = uniqueSchema('sig_busy');
    schemas.push(schema);
    await initSchema(schema);
    const job = startJob(jobEnv(schema, busy, T2));
    await job.waitFor(/Step 3 \(conflicts\): started/);
    await new Promise((res) => setTimeout(res, 300));
    job.terminate();
    const r = await job.done;
    assert.equal(r.code, 143, show(r));
    assert.ok(r.ms < 5_000, `exited ${r.ms} ms after SIGTERM: the statement was not interrupted`);
    // DuckDB's own message: the statement was running and was interrupted
    assert.match(r.stdout, /stopped: Step 3 \(conflicts\): INTERRUPT Error: Interrupted/);
    assert.doesNotMatch(r.stdout, ended('Step 3 (conflicts)'));
    assert.equal(await inProgressFlag(schema), 2);
    assert.deepEqual(await tablesChecksum(schema), { cvm: '0:d41d8cd98f00b204e9800998ecf8427e', conflicts: '0:d41d8cd98f00b204e9800998ecf8427e' });
  });

  test('during the COPY into staging: exit 143, nothing written, next run converges', async () => {
    const r = await stopAndRecover(
      async (job, schema) => {
        await job.waitFor(/Sync: staging \(COPY\): started/);
        await withClient((c) =>
          until('rows arriving in the staging COPY', async () => {
            const b = await jobBackend(c, schema);
            if (!b) return undefined;
            const p = await c.query<{ n: string }>('SELECT tuples_processed AS n FROM pg_stat_progress_copy WHERE pid = $1', [b.pid]);
            return Number(p.rows[0]?.n ?? 0) > 0;
          }),
        );
      },
      // Rows in batches of 50: the program is frozen with most of the batches still to come.
      { freeze: true, env: { BATCH_SIZE: '50' } },
    );
    assert.doesNotMatch(r.stdout, ended('Sync: staging (COPY)'), 'the stop came before the COPY ended');
  });

  test('during the merge (a write waiting inside the transaction): exit 143, rolled back, next run converges', async () => {
    const r = await stopAndRecover(
      async (job, schema) => {
        await job.waitFor(/Sync: match: started/);
        await withClient((c) => until('the merge waiting on the test lock', async () => (await jobBackend(c, schema))?.wait === 'Lock'));
      },
      { lock: true },
    );
    assert.match(r.stdout, /Sync: (update|repair conflict ids|insert): started/);
    assert.doesNotMatch(r.stdout, /Sync: commit: started/);
    assert.match(r.stdout, /PostgreSQL: running statement of backend \d+ cancelled/);
  });

  test('after the commit (the final InProgressFlag update waits on a row lock): the changes stay committed and the log says so', async () => {
    const schema = uniqueSchema('sig_late');
    schemas.push(schema);
    await cloneSchema(seed, schema);
    const job = startJob(jobEnv(schema, warehouse, T2));
    // InProgressFlag = 1 is set before the reference data is read: from then on the row can be held.
    await job.waitFor(/Reference data: started/);
    const c = new pg.Client({ connectionString: testPostgresUrl().toString() });
    await c.connect();
    try {
      await c.query('BEGIN');
      await c.query(`SELECT 1 FROM ${quoteIdent(schema)}."settings" FOR UPDATE`);
      await job.waitFor(/Sync: commit: \d/);
      await withClient((db) => until('the InProgressFlag update waiting on the row lock', async () => (await jobBackend(db, schema))?.wait === 'Lock'));
      job.terminate();
      await job.waitFor(/PostgreSQL: running statement of backend \d+ cancelled/);
    } finally {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end();
    }
    const r = await job.done;
    assert.equal(r.code, 143, show(r));
    assert.ok(r.ms < 20_000);
    assert.doesNotMatch(r.stdout, /nothing was written/, 'the log does not claim the committed changes away');
    assert.match(r.stdout, /changes .*committed before the stop/);
    assert.equal(await inProgressFlag(schema), 2);
    assert.deepEqual(await businessChecksum(schema), control, 'the committed changes are the run\'s');
  });
});
