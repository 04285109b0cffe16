// Reliability: the maximum run time (operations.md, "Schedule and failure detection": a run that
// exceeds a maximum duration is stopped). A hung run would hold the lock for ever and every later
// run exit 3; with MAX_RUN_MINUTES it stops exactly as on SIGTERM (src/run/shutdown.ts): rolled
// back, InProgressFlag 2, lock released, exit 143, and the next run completes.
//
// The hang without timing luck: the test holds a SHARE lock on conflictvisitmaps, so the run's
// first write waits inside its transaction and would wait for ever; the limit (1 minute, the
// smallest value) ends it. Nothing here asserts a duration.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { uniqueSchema } from '../test/helpers/pg.js';
import {
  assertStoppedCleanly,
  blockWrites,
  businessChecksum,
  cloneSchema,
  dropSchemas,
  inProgressFlag,
  jobBackend,
  jobEnv,
  runJob,
  show,
  startJob,
  tablesChecksum,
  until,
  withClient,
} from './helpers/job.js';
import { seedAfterFirstRun, T1, T2 } from './helpers/seed.js';
import type { SyntheticOptions } from './helpers/warehouse.js';

const SHAPE: SyntheticOptions = {
  caregivers: 60,
  dates: 3,
  visitsPerDay: 4,
  providers: 4,
  firstDate: '2026-02-13',
  futureFrom: '2026-02-15',
  updatedAt: '2026-01-01 00:00:00',
  changedAt: '2026-02-14 06:00:00',
  changedEvery: 2,
};

const schemas: string[] = [];
let warehouse = '';
let seed = '';

before(async () => {
  const seeded = await seedAfterFirstRun('maxrun', SHAPE, T1, '2026-02-15 06:00:00', schemas);
  ({ warehouse, seed } = seeded);
  assert.equal(seeded.first.code, 0, show(seeded.first));
});

after(() => dropSchemas(schemas));

describe('MAX_RUN_MINUTES', () => {
  test('a run that hangs past the limit stops as on SIGTERM: exit 143, rolled back, flag 2, lock released; the next run completes', async () => {
    const schema = uniqueSchema('maxrun');
    schemas.push(schema);
    await cloneSchema(seed, schema);
    const control = uniqueSchema('maxrun_ctl');
    schemas.push(control);
    await cloneSchema(seed, control);
    const before = await tablesChecksum(schema);

    const lock = await blockWrites(schema);
    let r;
    try {
      const job = startJob(jobEnv(schema, warehouse, T2, { MAX_RUN_MINUTES: '1' }), { timeoutMs: 300_000 });
      await job.waitFor(/Sync: match: started/);
      await withClient((c) => until('the merge waiting on the test lock', async () => (await jobBackend(c, schema))?.wait === 'Lock'));
      // Hung: it would wait for ever. The limit, not the test, ends it.
      r = await job.done;
    } finally {
      await lock.release();
    }
    await assertStoppedCleanly(r, schema, before);
    assert.match(r.stdout, /the run exceeded MAX_RUN_MINUTES=1: cancelling the running statement and rolling back/);
    assert.doesNotMatch(r.stdout, /SIGTERM received/);

    // The next run is not skipped (exit 3): it completes, and reaches an undisturbed run's state.
    const next = await runJob(jobEnv(schema, warehouse, T2));
    assert.equal(next.code, 0, show(next));
    const undisturbed = await runJob(jobEnv(control, warehouse, T2));
    assert.equal(undisturbed.code, 0, show(undisturbed));
    assert.deepEqual(await businessChecksum(schema), await businessChecksum(control));
  });

  test('a run within the limit is not touched by it', async () => {
    const schema = uniqueSchema('maxrun_ok');
    schemas.push(schema);
    await cloneSchema(seed, schema);
    const r = await runJob(jobEnv(schema, warehouse, T2, { MAX_RUN_MINUTES: '1' }));
    assert.equal(r.code, 0, show(r));
    assert.doesNotMatch(r.stdout, /MAX_RUN_MINUTES=1: cancelling/);
    assert.equal(await inProgressFlag(schema), 0);
  });

  test('a malformed MAX_RUN_MINUTES is a configuration error: exit 2, nothing connected', async () => {
    for (const bad of ['0', '-5', '1.5', 'an hour']) {
      const r = await runJob(jobEnv(uniqueSchema('maxrun_bad'), warehouse, T2, { MAX_RUN_MINUTES: bad }));
      assert.equal(r.code, 2, show(r));
      assert.match(r.stdout + r.stderr, new RegExp(`MAX_RUN_MINUTES must be a whole number, at least 1 \\(got "${bad}"\\)`));
    }
  });
});
