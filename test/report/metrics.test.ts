// Issue (observability): one CloudWatch Embedded Metric Format line per run on stdout, a bare JSON
// object in both LOG_FORMAT modes: namespace ConflictUpdater, dimension Environment, metrics
// DurationSeconds, Detected, Inserted, Updated, Resolved, Rejected, RunFailed (1 on failed/stopped),
// RunSkipped; properties Environment and Outcome. The infra alarm watches RunFailed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { finishRun, type RunEnd } from '../../src/report/finish.js';
import { buildEmf, emfLine, headline, METRIC_NAMESPACE } from '../../src/report/metrics.js';
import { buildRunReport, type RunReport } from '../../src/report/report.js';
import type { RejectRecord } from '../../src/run/recorder.js';
import { tempDir } from '../helpers/tmp.js';
import { BASE_ENV, captureLogger, emfLines, makeCtx } from './helpers.js';

const NAMES = ['DurationSeconds', 'Detected', 'Inserted', 'Updated', 'Resolved', 'Rejected', 'RunFailed', 'RunSkipped'];

function report(status: RunEnd['status'], stats: Record<string, number> = {}, rejects: RejectRecord[] = []): RunReport {
  const exitCode = { completed: 0, failed: 1, skipped: 3, stopped: 143 }[status];
  return buildRunReport({
    runId: 'r-1',
    startedAt: new Date('2026-02-14T06:00:00Z'),
    finishedAt: new Date('2026-02-14T06:08:29.500Z'),
    environment: 'prod',
    schema: 'conflict_prod',
    end: { results: [{ name: 'task02_00_run_conflict_update', outcome: status === 'completed' ? 'completed' : status, ms: 509_000 }], status, exitCode, totalMs: 509_500 },
    parameters: [['ENVIRONMENT', 'prod']],
    steps: [],
    stats,
    rejects,
  });
}

describe('EMF metrics line', () => {
  test('operations.md Dry run: a dry run publishes under the dimensions Environment and Mode=dry-run, apart from the runs that write (and their alarm)', () => {
    const real = buildEmf(report('failed', { inserted: 5 }));
    const dry = buildEmf({ ...report('failed', { inserted: 5 }), dryRun: true });
    const dims = (o: Record<string, unknown>) => (o._aws as { CloudWatchMetrics: Array<{ Dimensions: string[][] }> }).CloudWatchMetrics[0].Dimensions;
    assert.deepEqual(dims(real), [['Environment']]);
    assert.equal(real.Mode, undefined);
    assert.deepEqual(dims(dry), [['Environment', 'Mode']]);
    assert.equal(dry.Mode, 'dry-run');
    assert.equal(dry.Inserted, 5);
    assert.equal(dry.RunFailed, 1);
  });

  test('shape: one JSON line, _aws with Timestamp ms and the CloudWatchMetrics directive, values as members', () => {
    const line = emfLine(
      report('completed', { detectedRows: 117_717, inserted: 102_289, updated: 6_134, staleResolved: 9_000, exclusionResolved: 294, rejected: 3 }),
    );
    assert.ok(line.endsWith('\n'));
    assert.equal(line.trimEnd().includes('\n'), false, 'a single line');
    const o = JSON.parse(line);
    assert.equal(o._aws.Timestamp, Date.parse('2026-02-14T06:08:29.500Z'));
    assert.equal(Number.isInteger(o._aws.Timestamp), true);
    assert.equal(o._aws.CloudWatchMetrics.length, 1);
    const d = o._aws.CloudWatchMetrics[0];
    assert.equal(d.Namespace, 'ConflictUpdater');
    assert.equal(METRIC_NAMESPACE, 'ConflictUpdater');
    assert.deepEqual(d.Dimensions, [['Environment']]);
    assert.deepEqual(d.Metrics.map((m: any) => m.Name), NAMES);
    assert.equal(d.Metrics.find((m: any) => m.Name === 'DurationSeconds').Unit, 'Seconds');
    assert.equal(d.Metrics.find((m: any) => m.Name === 'Inserted').Unit, 'Count');
    // Every metric and dimension is a top-level member (EMF requires it).
    for (const name of NAMES) assert.equal(typeof o[name], 'number', name);
    assert.equal(o.Environment, 'prod');
    assert.equal(o.Outcome, 'completed');
    assert.equal(o.RunId, 'r-1');
    assert.equal(o.DurationSeconds, 509.5);
    assert.equal(o.Detected, 117_717);
    assert.equal(o.Inserted, 102_289);
    assert.equal(o.Updated, 6_134);
    assert.equal(o.Resolved, 9_294);
    assert.equal(o.Rejected, 3);
    assert.equal(o.RunFailed, 0);
    assert.equal(o.RunSkipped, 0);
  });

  test('RunFailed on failed and stopped, RunSkipped on skipped; counts not recorded are 0', () => {
    const cases: Array<[RunEnd['status'], number, number]> = [
      ['completed', 0, 0],
      ['failed', 1, 0],
      ['stopped', 1, 0],
      ['skipped', 0, 1],
    ];
    for (const [status, failed, skipped] of cases) {
      const o = buildEmf(report(status));
      assert.equal(o.RunFailed, failed, status);
      assert.equal(o.RunSkipped, skipped, status);
      assert.equal(o.Outcome, status);
      assert.equal(o.Detected, 0);
      assert.equal(o.Inserted, 0);
    }
  });

  test('Rejected falls back to the reject counts, Resolved prefers a recorded total', () => {
    const h = headline(
      report('completed', { resolved: 7, staleResolved: 1 }, [
        { reason: 'a', count: 2, examples: [] },
        { reason: 'b', count: 5, examples: [] },
      ]),
    );
    assert.equal(h.resolved, 7);
    assert.equal(h.rejected, 7);
    assert.equal(h.hasSync, true);
    assert.equal(headline(report('completed')).hasSync, false);
  });

  test('finishRun prints exactly one EMF line, in text and in JSON log format alike', async () => {
    const tmpDir = tempDir('cu-report-');
    for (const format of ['text', 'json'] as const) {
      let stdout = '';
      const cap = captureLogger({ format });
      const ctx = makeCtx({ ...BASE_ENV, LOG_FORMAT: format, RUN_REPORT_PATH: `${tmpDir}/${format}.json` }, cap.log);
      ctx.recorder.set('inserted', 5);
      await finishRun(ctx, { results: [], status: 'completed', exitCode: 0, totalMs: 1000 }, { stdout: { write: (s: string) => (stdout += s) } });
      const lines = stdout.split('\n').filter(Boolean);
      assert.equal(lines.length, 1);
      assert.ok(lines[0].startsWith('{"_aws":'), 'a bare JSON object, no timestamp or level prefix');
      assert.equal(emfLines(stdout)[0].Inserted, 5);
      assert.equal(emfLines(stdout)[0].Environment, 'dev');
    }
  });
});
