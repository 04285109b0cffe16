// Reliability: one run at a time (sync.md, "One run at a time"; operations.md, "Exit codes": 3).
// Two runs are started together on one schema. While the first is inside its write transaction
// (held there by a SHARE lock the test takes on conflictvisitmaps, so the runs overlap for sure),
// the second finds the advisory lock taken: it logs that, writes nothing (not even
// InProgressFlag), and exits 3 with `Status: skipped`. The first completes; the end state is the
// one a single run reaches.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { uniqueSchema } from '../test/helpers/pg.js';
import {
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
} from './helpers/job.js';
import { writeSynthetic } from './helpers/warehouse.js';

const T = '2026-02-14 12:00:00';
const schemas: string[] = [];
let warehouse = '';
let empty = '';
let control: Awaited<ReturnType<typeof businessChecksum>>;

before(async () => {
  warehouse = join(tempDir(), 'concurrent.duckdb');
  await writeSynthetic(warehouse, {
    caregivers: 40,
    dates: 2,
    visitsPerDay: 4,
    providers: 6,
    firstDate: '2026-02-13',
    updatedAt: '2026-02-14 06:00:00',
  });
  empty = uniqueSchema('conc_empty');
  const ctl = uniqueSchema('conc_ctl');
  schemas.push(empty, ctl);
  await initSchema(empty);
  await cloneSchema(empty, ctl);
  const r = await runJob(jobEnv(ctl, warehouse, T));
  assert.equal(r.code, 0, show(r));
  control = await businessChecksum(ctl);
});

after(() => dropSchemas(schemas));

test('two runs started together on one schema: one completes, the other exits 3 having written nothing', async () => {
  const schema = uniqueSchema('conc');
  schemas.push(schema);
  await cloneSchema(empty, schema);
  const lock = await blockWrites(schema);
  let results;
  try {
    const a = startJob(jobEnv(schema, warehouse, T));
    const b = startJob(jobEnv(schema, warehouse, T));
    // The loser ends on its own; the winner waits in its merge until the test lets it go.
    const first = await Promise.race([a.done.then(() => a), b.done.then(() => b)]);
    const loser = await first.done;
    assert.equal(loser.code, 3, show(loser));
    await withClient((c) => until('the other run waiting in its merge', async () => (await jobBackend(c, schema))?.wait === 'Lock'));
    assert.equal(await inProgressFlag(schema), 1, 'the running one set InProgressFlag = 1; the skipped one left it alone');
    assert.deepEqual(await tablesChecksum(schema), await tablesChecksum(empty), 'nothing written yet');
    await lock.release();
    const winner = await (first === a ? b : a).done;
    results = { winner, loser };
  } finally {
    await lock.release();
  }
  const { winner, loser } = results;
  assert.equal(winner.code, 0, show(winner));
  assert.match(loser.stdout, /Another run holds the lock of schema/);
  assert.match(loser.stdout, /task02_00_run_conflict_update: skipped/);
  assert.match(loser.stdout, /Status: skipped \(another run holds the advisory lock/);
  assert.doesNotMatch(loser.stdout, /Reference data: started|Step \d/, 'the skipped run read and wrote nothing');
  assert.equal(loser.report?.status, 'skipped');
  assert.equal(loser.report?.exitCode, 3);
  assert.equal(await inProgressFlag(schema), 0);
  assert.deepEqual(await businessChecksum(schema), control, 'the state of a single run');
});

test('a run killed mid-merge (SIGKILL: ECS after stopTimeout, the OOM killer): its session ends within seconds, the lock is free, nothing written, the next run runs', async () => {
  const schema = uniqueSchema('conc_kill');
  schemas.push(schema);
  await cloneSchema(empty, schema);
  const lock = await blockWrites(schema);
  try {
    const job = startJob(jobEnv(schema, warehouse, T));
    await job.waitFor(/Sync: match: started/);
    await withClient((c) => until('the merge waiting on the test lock', async () => (await jobBackend(c, schema))?.wait === 'Lock'));
    job.child.kill('SIGKILL');
    const r = await job.done;
    assert.equal(r.signal, 'SIGKILL');
    // The orphaned session still waits on the test's lock: the server must notice its client is gone.
    await withClient((c) => until('the killed run\'s session to end', async () => (await jobBackend(c, schema)) === undefined, 15_000));
  } finally {
    await lock.release();
  }
  assert.deepEqual(await tablesChecksum(schema), await tablesChecksum(empty), 'nothing written');
  assert.equal(await inProgressFlag(schema), 1, 'a killed run cannot reset the flag');
  const next = await runJob(jobEnv(schema, warehouse, T));
  assert.equal(next.code, 0, show(next));
  assert.deepEqual(await businessChecksum(schema), control);
});
