// sync.md "Statistics every run reports", through the whole job in every mode: the affected
// groups are detection's (Step 1), whatever ENABLE_ASYMMETRIC_JOIN and ENABLE_STALE_CLEANUP say.
// (The sync once recorded the groups it received over them: 0 when it received none.)
import assert from 'node:assert/strict';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { runActions } from '../../src/actions/run.js';
import type { RunReport } from '../../src/report/report.js';
import { dropSchema, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { captureStdout } from '../report/helpers.js';
import { writeSmallWarehouse } from './warehouse.js';

let dir: string;
let warehouse: string;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cu-stats-'));
  warehouse = await writeSmallWarehouse(dir); // three affected groups
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** init_db and the job on a fresh schema; the report, and the log as printed. */
async function runJob(extra: Record<string, string>, actions = 'init_db,task02_00_run_conflict_update'): Promise<{ code: number; report: RunReport; out: string }> {
  const schema = uniqueSchema('stats');
  const reportPath = join(dir, `${schema}.json`);
  try {
    const env = {
      ...testPostgresEnv(schema),
      DUCKDB_PATH: warehouse,
      AS_OF: '2026-02-14T12:00:00',
      TIMEZONE: 'UTC',
      RUN_REPORT_PATH: reportPath,
      ...extra,
    };
    const { result: code, out } = await captureStdout(() => runActions(actions, env));
    return { code, report: JSON.parse(readFileSync(reportPath, 'utf8')) as RunReport, out };
  } finally {
    await dropSchema(schema);
  }
}

/** The count Step 1 logged. */
function step1Groups(out: string): number {
  const m = /Step 1 \(delta_keys\): [^,]+, ([\d,]+) groups/.exec(out);
  assert.ok(m, `a Step 1 line in:\n${out}`);
  return Number(m[1].replace(/,/g, ''));
}

/** The value of a summary line. */
function summary(out: string, label: string): number {
  const m = new RegExp(`^.*INFO +  ${label}\\s+([\\d,]+)$`, 'm').exec(out);
  assert.ok(m, `summary line "${label}" in:\n${out}`);
  return Number(m[1].replace(/,/g, ''));
}

for (const [mode, extra] of [
  ['default (comprehensive, stale cleanup on)', {}],
  ['ENABLE_ASYMMETRIC_JOIN=false', { ENABLE_ASYMMETRIC_JOIN: 'false' }],
  ['ENABLE_STALE_CLEANUP=false', { ENABLE_STALE_CLEANUP: 'false' }],
  ['ENABLE_ASYMMETRIC_JOIN=false and ENABLE_STALE_CLEANUP=false', { ENABLE_ASYMMETRIC_JOIN: 'false', ENABLE_STALE_CLEANUP: 'false' }],
] as const) {
  test(`sync.md Statistics: affected groups in the run report and the summary are Step 1's, ${mode}`, async () => {
    const { code, report, out } = await runJob(extra);
    assert.equal(code, 0, out);
    assert.equal(step1Groups(out), 3);
    assert.equal(report.statistics.affectedGroups, 3);
    assert.equal(summary(out, 'Affected groups'), 3);
    assert.ok(report.statistics.inserted > 0, 'the job ran the sync');
    // What the sync received for the stale scope is its own statistic: only the groups that reach
    // an open row come back from the warehouse, and this first run has none.
    assert.equal(report.statistics.affectedGroupsReceived, 0);
  });
}

test("sync.md Stale resolution: a second run receives only the affected groups and changed ids that reach its open rows (the first run's conflicts)", async () => {
  // The report is the second run's. Of the three affected groups, two hold the first run's
  // conflicts (v1-v2 on 02-13, v3-v4 on 02-16); the third (v5 alone) reaches no open row.
  const { code, report, out } = await runJob({}, 'init_db,task02_00_run_conflict_update,task02_00_run_conflict_update');
  assert.equal(code, 0, out);
  assert.equal(report.statistics.affectedGroups, 3, "Step 1's count is every affected group");
  assert.equal(report.statistics.affectedGroupsReceived, 2);
  assert.equal(report.statistics.scopeVisitIds, 4, 'v1 to v4: changed, and on an open row');
  assert.equal(report.statistics.staleResolved, 0, 'detected again: nothing stale');
});
