// Reliability: a warehouse statement fails mid-run (operations.md, "Exit codes": 1 when an action
// fails; sync.md, "All or nothing"). The warehouse file is broken the ways a real one breaks: a
// table missing, a column of the wrong type, a value a step cannot convert. The run exits 1 with
// a one-line message that names the failing step, sets InProgressFlag = 2, and leaves
// conflictvisitmaps and conflicts exactly as they were.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { uniqueSchema } from '../test/helpers/pg.js';
import { cloneSchema, dropSchemas, inProgressFlag, jobEnv, runJob, show, tablesChecksum, tempDir } from './helpers/job.js';
import { seedAfterFirstRun, T1, T2 } from './helpers/seed.js';
import { onWarehouse, type SyntheticOptions } from './helpers/warehouse.js';

const SHAPE: SyntheticOptions = {
  caregivers: 40,
  dates: 3,
  visitsPerDay: 4,
  providers: 6,
  firstDate: '2026-02-13',
  futureFrom: '2026-02-15',
  updatedAt: '2026-02-14 06:00:00',
};
const F = 'BI.FACTVISITCALLPERFORMANCE_CR';

const schemas: string[] = [];
let good = '';
let seed = '';

before(async () => {
  // A target with conflicts in it (a run at T1), and the warehouse as it is at T2.
  const seeded = await seedAfterFirstRun('whf', SHAPE, T1, '2026-02-15 06:00:00', schemas);
  ({ warehouse: good, seed } = seeded);
  assert.equal(seeded.first.code, 0, show(seeded.first));
});

after(() => dropSchemas(schemas));

/** Run at T2 over a copy of the good warehouse broken by `statements`; check the failure. */
async function failsIn(name: string, statements: string[], step: RegExp, why: RegExp): Promise<string> {
  const path = join(tempDir(), `${name}.duckdb`);
  copyFileSync(good, path);
  await onWarehouse(path, statements);
  const schema = uniqueSchema(`whf_${name}`);
  schemas.push(schema);
  await cloneSchema(seed, schema);
  const before = await tablesChecksum(schema);
  const r = await runJob(jobEnv(schema, path, T2));
  assert.equal(r.code, 1, show(r));
  assert.equal(r.report?.status, 'failed');
  const status = r.lines.find((l) => /Status: failed/.test(l));
  assert.ok(status, show(r));
  const reason = status.replace(/^.*Status: failed \(/, '').replace(/\)$/, '');
  assert.match(reason, step, `the message names the step: ${reason}`);
  assert.match(reason, why);
  assert.match(r.lines[r.lines.indexOf(status) + 1] ?? '', /^\d{4}-\d\d-\d\d .*Duration: /, `one line:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  assert.deepEqual(await tablesChecksum(schema), before, 'PostgreSQL untouched');
  assert.equal(await inProgressFlag(schema), 2);
  return reason;
}

describe('a warehouse statement fails mid-run', () => {
  test('a missing table: exit 1, PostgreSQL untouched, the message names the step', async () => {
    await failsIn('missing', ['DROP TABLE BI.DIMPAYER'], /^Step 2a \(base_visits changed\): /, /DIMPAYER/);
  });

  test('a column of the wrong type: exit 1, PostgreSQL untouched, the message names the step', async () => {
    await failsIn(
      'type',
      [`ALTER TABLE ${F} ALTER "Visit Updated Timestamp" TYPE VARCHAR`, `UPDATE ${F} SET "Visit Updated Timestamp" = 'yesterday' WHERE "Application Visit Id" % 7 = 0`],
      /^Step 1 \(delta_keys\): /,
      /yesterday|VARCHAR|TIMESTAMP/i,
    );
  });

  test('a value no step can convert (text in a date column): exit 1, PostgreSQL untouched, the message names the step', async () => {
    await failsIn(
      'value',
      [`ALTER TABLE ${F} ALTER "Invoice Date" TYPE VARCHAR`, `UPDATE ${F} SET "Invoice Date" = 'n/a' WHERE "Application Visit Id" % 5 = 0`],
      /^Step \d[ab]? \([a-z_ ]+\): /,
      /n\/a|Conversion/i,
    );
  });
});
