// Spec: operations.md "Configuration" (RUN_REPORT_PATH: "where the run's statistics are written as
// JSON", default data/reports/<run start>.json), "Logs" ("Every run also writes its statistics as
// JSON"), "Exit codes"; sync.md "Statistics every run reports", "Invalid rows" (rejects in the run
// report). The report is written after the actions, before the EXECUTION RESULT block, and never
// changes the exit code.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Action } from '../../src/actions/context.js';
import { ACTIONS } from '../../src/actions/registry.js';
import { runActions } from '../../src/actions/run.js';
import { LockHeldError } from '../../src/errors.js';
import { finishRun, type RunEnd } from '../../src/report/finish.js';
import { reportPath, reportTimestamp } from '../../src/report/report.js';
import { Shutdown } from '../../src/run/shutdown.js';
import { tempDir } from '../helpers/tmp.js';
import { BASE_ENV, captureLogger, captureStdout, emfLines, makeCtx } from './helpers.js';

const tmpDir = tempDir('cu-report-');
let n = 0;
const fresh = () => join(tmpDir, `case-${++n}`);

const COMPLETED: RunEnd = {
  results: [
    { name: 'validate_config', outcome: 'success', ms: 120 },
    { name: 'task02_00_run_conflict_update', outcome: 'completed', ms: 506_900 },
  ],
  status: 'completed',
  exitCode: 0,
  totalMs: 507_020,
};

function readJson(path: string): any {
  return JSON.parse(readFileSync(path, 'utf8'));
}

describe('run report written by finishRun', () => {
  test('completed run: every field, masked parameters, steps, statistics, rejects', async () => {
    const dir = fresh();
    const path = join(dir, 'nested', 'deeper', 'report.json');
    const cap = captureLogger();
    const ctx = makeCtx({ ...BASE_ENV, RUN_REPORT_PATH: path, BATCH_SIZE: '7000' }, cap.log);
    await ctx.recorder.step('Step 1 (delta_keys)', async () => 12_517_521, (rows) => ({ rows, unit: 'groups' }));
    await ctx.recorder.step('Step 4 (stale cleanup)', async () => undefined);
    ctx.recorder.set('changedVisits', 42_000);
    ctx.recorder.set('detectedRows', 117_717);
    ctx.recorder.set('inserted', 102_289);
    ctx.recorder.set('updated', 6_134);
    ctx.recorder.set('staleResolved', 9_000);
    ctx.recorder.set('exclusionResolved', 294);
    ctx.recorder.set('rejected', 2);
    ctx.recorder.rejects.push({
      reason: 'VisitID is not a UUID',
      count: 2,
      examples: [{ VisitID: 'abc', ConVisitID: 12345678901234567890n, column: 'VisitID' }],
    });
    let stdout = '';
    const summary = await finishRun(ctx, COMPLETED, { stdout: { write: (s: string) => (stdout += s) } });

    assert.equal(summary.reportWritten, true);
    assert.equal(summary.reportPath, path);
    const raw = readFileSync(path, 'utf8');
    const r = JSON.parse(raw);
    assert.equal(r.reportVersion, 1);
    assert.equal(r.runId, ctx.runId);
    assert.equal(r.startedAt, '2026-02-14T06:00:00.250Z');
    assert.ok(Date.parse(r.finishedAt) >= Date.parse(r.startedAt));
    assert.equal(r.durationSeconds, 507.02);
    assert.equal(r.environment, 'dev');
    assert.equal(r.schema, 'conflict_dev');
    assert.equal(r.status, 'completed');
    assert.equal(r.exitCode, 0);
    assert.equal(r.error, null);
    assert.deepEqual(r.actions, [
      { name: 'validate_config', outcome: 'success', seconds: 0.12 },
      { name: 'task02_00_run_conflict_update', outcome: 'completed', seconds: 506.9 },
    ]);
    // The parameters are validate_config's, secrets masked.
    assert.equal(r.parameters.BATCH_SIZE, '7000');
    assert.equal(r.parameters.POSTGRES_HOST, 'db.internal.example');
    assert.equal(r.parameters.POSTGRES_PASSWORD, '<set, 20 characters>');
    assert.equal(r.parameters.RUN_REPORT_PATH, path);
    assert.ok(!raw.includes(BASE_ENV.POSTGRES_PASSWORD as string), 'the password is not in the report');
    assert.equal(r.steps.length, 2);
    assert.equal(r.steps[0].name, 'Step 1 (delta_keys)');
    assert.equal(r.steps[0].rows, 12_517_521);
    assert.equal(r.steps[0].unit, 'groups');
    assert.equal(typeof r.steps[0].seconds, 'number');
    assert.equal(r.steps[1].name, 'Step 4 (stale cleanup)');
    assert.ok(!('rows' in r.steps[1]));
    assert.deepEqual(r.statistics, {
      changedVisits: 42_000,
      detectedRows: 117_717,
      inserted: 102_289,
      updated: 6_134,
      staleResolved: 9_000,
      exclusionResolved: 294,
      rejected: 2,
    });
    assert.deepEqual(r.rejects, [
      {
        reason: 'VisitID is not a UUID',
        count: 2,
        examples: [{ VisitID: 'abc', ConVisitID: '12345678901234567890', column: 'VisitID' }],
      },
    ]);
    // Atomic: nothing but the report in its directory (no temporary file left behind).
    assert.deepEqual(readdirSync(join(dir, 'nested', 'deeper')), ['report.json']);
    assert.match(cap.text(), /Run report written: .*report\.json/);
    // One EMF line.
    assert.equal(emfLines(stdout).length, 1);
  });

  test('default location: data/reports/<run start>.json under the working directory', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const cap = captureLogger();
      const ctx = makeCtx(BASE_ENV, cap.log, new Date('2026-02-14T06:00:00.987Z'));
      const summary = await finishRun(ctx, COMPLETED, { stdout: { write: () => true } });
      assert.equal(summary.reportPath, join('data', 'reports', '2026-02-14T06-00-00Z.json'));
      assert.ok(existsSync(join(dir, 'data', 'reports', '2026-02-14T06-00-00Z.json')));
      assert.equal(readJson(join(dir, 'data', 'reports', '2026-02-14T06-00-00Z.json')).status, 'completed');
    } finally {
      process.chdir(cwd);
    }
    assert.equal(reportTimestamp(new Date('2026-12-31T23:59:59.001Z')), '2026-12-31T23-59-59Z');
    assert.equal(reportPath('/x/y.json', new Date()), '/x/y.json');
  });

  test('failed run: status, exit code, error, failed and not-run actions; a secret in the error is masked', async () => {
    const path = join(fresh(), 'r.json');
    const cap = captureLogger();
    const ctx = makeCtx({ ...BASE_ENV, RUN_REPORT_PATH: path }, cap.log);
    ctx.recorder.set('changedVisits', 10);
    const error = `password authentication failed (tried ${BASE_ENV.POSTGRES_PASSWORD})`;
    await finishRun(
      ctx,
      {
        results: [
          { name: 'validate_config', outcome: 'success', ms: 100 },
          { name: 'test_connections', outcome: 'failed', ms: 2_000, error },
          { name: 'task02_00_run_conflict_update', outcome: 'not run', ms: 0 },
        ],
        status: 'failed',
        exitCode: 1,
        totalMs: 2_100,
        error,
      },
      { stdout: { write: () => true } },
    );
    const raw = readFileSync(path, 'utf8');
    const r = JSON.parse(raw);
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 1);
    assert.equal(r.error, 'password authentication failed (tried ***)');
    assert.deepEqual(
      r.actions.map((a: any) => [a.name, a.outcome]),
      [
        ['validate_config', 'success'],
        ['test_connections', 'failed'],
        ['task02_00_run_conflict_update', 'not run'],
      ],
    );
    assert.equal(r.actions[1].error, 'password authentication failed (tried ***)');
    assert.ok(!('error' in r.actions[0]));
    assert.deepEqual(r.statistics, { changedVisits: 10 });
    assert.ok(!raw.includes(BASE_ENV.POSTGRES_PASSWORD as string));
  });

  test('skipped and stopped runs', async () => {
    for (const [status, exitCode, error] of [
      ['skipped', 3, 'another run holds the lock (InProgressFlag = 1)'],
      ['stopped', 143, 'stopped by SIGTERM'],
    ] as const) {
      const path = join(fresh(), 'r.json');
      const ctx = makeCtx({ ...BASE_ENV, RUN_REPORT_PATH: path }, captureLogger().log);
      await finishRun(
        ctx,
        { results: [{ name: 'task02_00_run_conflict_update', outcome: status, ms: 50, error }], status, exitCode, totalMs: 60, error },
        { stdout: { write: () => true } },
      );
      const r = readJson(path);
      assert.equal(r.status, status);
      assert.equal(r.exitCode, exitCode);
      assert.equal(r.error, error);
      assert.equal(r.actions[0].outcome, status);
    }
  });

  test('a report that cannot be written is a warning; the metrics line still goes out; nothing throws', async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a-file'), 'x');
    const cap = captureLogger();
    const ctx = makeCtx({ ...BASE_ENV, RUN_REPORT_PATH: join(dir, 'a-file', 'r.json') }, cap.log);
    let stdout = '';
    const summary = await finishRun(ctx, COMPLETED, { stdout: { write: (s: string) => (stdout += s) } });
    assert.equal(summary.reportWritten, false);
    assert.match(cap.text(), /WARNING +Run report not written to .*a-file/);
    assert.equal(emfLines(stdout).length, 1);
  });

  test('finishRun never throws, even on a broken context', async () => {
    const cap = captureLogger();
    const ctx = { ...makeCtx(BASE_ENV, cap.log), recorder: undefined } as never;
    const summary = await finishRun(ctx, COMPLETED, { stdout: { write: () => true } });
    assert.equal(summary.reportWritten, false);
    assert.match(cap.text(), /End-of-run reporting failed/);
  });
});

describe('run report through runActions (src/cli.ts)', () => {
  const registry = ACTIONS as Record<string, () => Promise<Action>>;
  const env = (path: string) => ({ ...BASE_ENV, RUN_REPORT_PATH: path });

  async function run(list: string, e: Record<string, string | undefined>, shutdown?: Shutdown) {
    return captureStdout(() => runActions(list, e, shutdown));
  }

  test('ACTION=validate_config: exit 0, the report, one EMF line, EXECUTION RESULT last', async () => {
    const path = join(fresh(), 'report.json');
    const { result, out } = await run('validate_config', env(path));
    assert.equal(result, 0);
    const r = readJson(path);
    assert.equal(r.status, 'completed');
    assert.equal(r.exitCode, 0);
    assert.deepEqual(r.actions.map((a: any) => [a.name, a.outcome]), [['validate_config', 'success']]);
    assert.equal(r.parameters.POSTGRES_PASSWORD, '<set, 20 characters>');
    assert.match(r.runId, /^[0-9a-f-]{36}$/);
    const emf = emfLines(out);
    assert.equal(emf.length, 1);
    assert.equal(emf[0].RunId, r.runId);
    const lines = out.trimEnd().split('\n');
    assert.match(lines.at(-4) as string, /INFO +EXECUTION RESULT$/);
    assert.match(lines.at(-3) as string, /INFO +  validate_config: success \(\d+\.\ds\)$/);
    assert.match(lines.at(-2) as string, /INFO +Status: completed$/);
    assert.match(lines.at(-1) as string, /INFO +Duration: \d/);
    assert.ok(!out.includes(BASE_ENV.POSTGRES_PASSWORD as string));
  });

  test('a failing action: exit 1, report failed with the error', async () => {
    registry.test_fail_action = async () => async () => {
      throw new Error('relation "conflictvisitmaps" does not exist');
    };
    try {
      const path = join(fresh(), 'report.json');
      const { result, out } = await run('validate_config,test_fail_action,init_db', env(path));
      assert.equal(result, 1);
      const r = readJson(path);
      assert.equal(r.status, 'failed');
      assert.equal(r.exitCode, 1);
      assert.equal(r.error, 'relation "conflictvisitmaps" does not exist');
      assert.deepEqual(r.actions.map((a: any) => a.outcome), ['success', 'failed', 'not run']);
      assert.equal(emfLines(out)[0].RunFailed, 1);
      assert.match(out.trimEnd().split('\n').at(-2) as string, /Status: failed \(relation "conflictvisitmaps" does not exist\)$/);
    } finally {
      delete registry.test_fail_action;
    }
  });

  test('the lock held by another run: exit 3, report skipped', async () => {
    registry.test_locked_action = async () => async () => {
      throw new LockHeldError('another run holds the lock');
    };
    try {
      const path = join(fresh(), 'report.json');
      const { result, out } = await run('test_locked_action', env(path));
      assert.equal(result, 3);
      const r = readJson(path);
      assert.equal(r.status, 'skipped');
      assert.equal(r.exitCode, 3);
      assert.equal(r.actions[0].outcome, 'skipped');
      const emf = emfLines(out)[0];
      assert.equal(emf.RunSkipped, 1);
      assert.equal(emf.RunFailed, 0);
      assert.match(out.trimEnd().split('\n').at(-2) as string, /Status: skipped/);
    } finally {
      delete registry.test_locked_action;
    }
  });

  test('stopped by SIGTERM: exit 143, report stopped', async () => {
    const shutdown = new Shutdown();
    registry.test_stopped_action = async () => async () => {
      await shutdown.stop('SIGTERM');
      throw new Error('canceling statement due to user request');
    };
    try {
      const path = join(fresh(), 'report.json');
      const { result, out } = await run('test_stopped_action', env(path), shutdown);
      assert.equal(result, 143);
      const r = readJson(path);
      assert.equal(r.status, 'stopped');
      assert.equal(r.exitCode, 143);
      assert.equal(emfLines(out)[0].RunFailed, 1);
    } finally {
      delete registry.test_stopped_action;
    }
  });

  test('configuration error: exit 2, a report without parameters, RunFailed', async () => {
    const path = join(fresh(), 'report.json');
    const { result, out } = await run('validate_config', { ...env(path), LOOKBACK_HOURS: 'soon' });
    assert.equal(result, 2);
    const r = readJson(path);
    assert.equal(r.status, 'failed');
    assert.equal(r.exitCode, 2);
    assert.match(r.error, /LOOKBACK_HOURS must be a whole number/);
    assert.equal(r.parameters, null);
    assert.equal(r.schema, null);
    assert.deepEqual(r.actions, [{ name: 'validate_config', outcome: 'not run', seconds: 0 }]);
    assert.equal(emfLines(out)[0].RunFailed, 1);
    assert.match(out.trimEnd().split('\n').at(-1) as string, /Status: failed$/);
    assert.ok(!out.includes(BASE_ENV.POSTGRES_PASSWORD as string));
  });
});
