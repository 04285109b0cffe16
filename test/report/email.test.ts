// Spec: operations.md "Configuration": EMAIL_SENDER, EMAIL_RECIPIENTS, AWS_REGION — "when sender and
// recipients (comma-separated) are both set, a status email goes out through Amazon SES after every
// run, success or failure". Issue: subject with environment and outcome, HTML body (actions,
// durations, counts, before/after, failures highlighted) and a plain-text part, every data-derived
// value HTML-escaped; a failure to send is a warning and never changes the exit code.
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';

import { runActions } from '../../src/actions/run.js';
import { buildStatusEmail, escapeHtml, type SesSender } from '../../src/report/email.js';
import { finishRun, type RunEnd } from '../../src/report/finish.js';
import { tempDir } from '../helpers/tmp.js';
import { BASE_ENV, captureLogger, captureStdout, makeCtx } from './helpers.js';

const tmpDir = tempDir('cu-report-');
let n = 0;
const reportFile = () => join(tmpDir, `r-${++n}.json`);

const EMAIL_ENV = {
  ...BASE_ENV,
  EMAIL_SENDER: 'conflict-updater@example.com',
  EMAIL_RECIPIENTS: 'ops@example.com, oncall@example.org',
  AWS_REGION: 'eu-west-1',
};

const ses = mockClient(SESv2Client);
beforeEach(() => {
  ses.reset();
  ses.on(SendEmailCommand).resolves({ MessageId: 'msg-0001' });
});
after(() => ses.restore());

function sent() {
  const calls = ses.commandCalls(SendEmailCommand);
  return calls.map((c) => {
    const input = c.args[0].input;
    return {
      input,
      subject: input.Content?.Simple?.Subject?.Data as string,
      html: input.Content?.Simple?.Body?.Html?.Data as string,
      text: input.Content?.Simple?.Body?.Text?.Data as string,
    };
  });
}

const COMPLETED: RunEnd = {
  results: [
    { name: 'validate_config', outcome: 'success', ms: 100 },
    { name: 'test_connections', outcome: 'success', ms: 2_300 },
    { name: 'task02_00_run_conflict_update', outcome: 'completed', ms: 506_000 },
  ],
  status: 'completed',
  exitCode: 0,
  totalMs: 509_000,
};

const ALLOWED_TAGS = new Set(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'div', 'h3', 'table', 'tr', 'th', 'td']);

/** Every tag in the HTML is one the template writes; every & starts an entity. */
function assertOnlyTemplateMarkup(html: string): void {
  for (const m of html.matchAll(/<\/?([!a-zA-Z][a-zA-Z0-9]*)/g)) {
    assert.ok(ALLOWED_TAGS.has(m[1].toLowerCase()), `unexpected tag <${m[1]}> in the email HTML`);
  }
  assert.doesNotMatch(html, /&(?!(amp|lt|gt|quot|#39);)/, 'a raw & in the email HTML');
}

describe('status email', () => {
  test('completed run: sent through SES in AWS_REGION, subject with counts, HTML and text parts', async () => {
    const cap = captureLogger();
    const ctx = makeCtx({ ...EMAIL_ENV, RUN_REPORT_PATH: reportFile() }, cap.log);
    await ctx.recorder.step('Step 1 (delta_keys)', async () => 12_517_521, (rows) => ({ rows, unit: 'groups' }));
    Object.assign(ctx.recorder.stats, {
      changedVisits: 48_210,
      detectedRows: 117_717,
      inserted: 102_289,
      updated: 6_134,
      staleResolved: 9_000,
      exclusionResolved: 294,
      cvmRowsBefore: 1_000_000,
      cvmRowsAfter: 1_102_289,
    });
    const summary = await finishRun(ctx, COMPLETED, { stdout: { write: () => true } });
    assert.equal(summary.emailSent, true);
    assert.equal(summary.messageId, 'msg-0001');
    const calls = ses.commandCalls(SendEmailCommand);
    assert.equal(calls.length, 1);
    const client = calls[0].thisValue as SESv2Client;
    assert.equal(await client.config.region(), 'eu-west-1');
    const [m] = sent();
    assert.equal(m.input.FromEmailAddress, 'conflict-updater@example.com');
    assert.deepEqual(m.input.Destination?.ToAddresses, ['ops@example.com', 'oncall@example.org']);
    assert.equal(m.subject, '[conflict-updater dev] completed: 102,289 inserted, 6,134 updated, 9,294 resolved');
    // HTML: actions with durations, statistics, steps, before/after table; green banner.
    assert.match(m.html, /COMPLETED: conflict-updater dev/);
    assert.match(m.html, /#2e7d32/);
    assert.doesNotMatch(m.html, /#c62828/);
    for (const s of ['validate_config', 'test_connections', 'task02_00_run_conflict_update', '8m 26s', '2.3s']) assert.ok(m.html.includes(s), s);
    for (const s of ['Changed visits', '48,210', 'Detected rows', '117,717', 'Inserted', '102,289', 'Stale resolved', '9,000']) assert.ok(m.html.includes(s), s);
    assert.ok(m.html.includes('Step 1 (delta_keys)') && m.html.includes('12,517,521 groups'));
    assert.match(m.html, /Row counts before and after/);
    assert.match(m.html, /1,000,000<\/td><td[^>]*>1,102,289<\/td><td[^>]*>\+102,289/);
    assert.ok(!m.html.includes('Cvm rows before'), 'before/after pairs are not repeated in the statistics table');
    assertOnlyTemplateMarkup(m.html);
    // Text part: the same content.
    for (const s of ['COMPLETED: conflict-updater dev', 'Actions', 'task02_00_run_conflict_update', '8m 26s', 'Statistics', 'Changed visits', '48,210', 'Row counts before and after', '+102,289', 'Steps', '12,517,521 groups', 'Parameters', 'POSTGRES_PASSWORD']) {
      assert.ok(m.text.includes(s), `text part lacks ${s}`);
    }
    for (const part of [m.html, m.text, m.subject]) assert.ok(!part.includes(BASE_ENV.POSTGRES_PASSWORD as string));
    assert.match(cap.text(), /INFO +Status email sent to ops@example.com, oncall@example.org \(message msg-0001\)/);
  });

  test('failed run: FAILED subject with the error, red banner, failed action highlighted', async () => {
    const ctx = makeCtx({ ...EMAIL_ENV, ENVIRONMENT: 'prod', RUN_REPORT_PATH: reportFile() }, captureLogger().log);
    const error = 'connect ECONNREFUSED 10.0.0.5:5432';
    await finishRun(
      ctx,
      {
        results: [
          { name: 'validate_config', outcome: 'success', ms: 100 },
          { name: 'test_connections', outcome: 'failed', ms: 1_200, error },
          { name: 'task02_00_run_conflict_update', outcome: 'not run', ms: 0 },
        ],
        status: 'failed',
        exitCode: 1,
        totalMs: 1_300,
        error,
      },
      { stdout: { write: () => true } },
    );
    const [m] = sent();
    assert.equal(m.subject, '[conflict-updater prod] FAILED: connect ECONNREFUSED 10.0.0.5:5432');
    assert.match(m.html, /background:#c62828[^>]*>FAILED: conflict-updater prod/);
    assert.match(m.html, /<tr style="background:#fdecea;color:#b71c1c"><td[^>]*>test_connections<\/td><td[^>]*>failed</);
    assert.ok(m.text.includes('FAILED: conflict-updater prod'));
    assert.ok(m.text.includes(`Error: ${error}`));
    assert.match(m.text, /^! test_connections +failed/m);
  });

  test('skipped and stopped runs have their own subjects', async () => {
    for (const [status, exitCode, error, subject] of [
      ['skipped', 3, 'another run holds the lock', '[conflict-updater dev] skipped: another run holds the lock'],
      ['stopped', 143, 'stopped by SIGTERM', '[conflict-updater dev] STOPPED: stopped by SIGTERM'],
    ] as const) {
      ses.resetHistory();
      const ctx = makeCtx({ ...EMAIL_ENV, RUN_REPORT_PATH: reportFile() }, captureLogger().log);
      await finishRun(ctx, { results: [], status, exitCode, totalMs: 10, error }, { stdout: { write: () => true } });
      assert.equal(sent()[0].subject, subject);
    }
  });

  test('every value from data, errors or the configuration is HTML-escaped', async () => {
    const evil = '<script>alert("x")</script> & \'quoted\'';
    const ctx = makeCtx(
      { ...EMAIL_ENV, DUCKDB_PATH: '/data/<b>warehouse</b>&co.duckdb', RUN_REPORT_PATH: join(tmpDir, `<i>&${++n}.json`) },
      captureLogger().log,
    );
    await ctx.recorder.step('<b>Step</b> & co', async () => 3, (rows) => ({ rows, unit: '<u>rows</u>' }));
    // A statistic name outside the table (a report's statistics are open) is escaped too.
    Object.assign(ctx.recorder.stats, { 'a<b&c': 1 });
    ctx.recorder.set('rejected', 4);
    ctx.recorder.rejects.push({
      reason: `${evil} in reject reason`,
      count: 4,
      examples: [{ VisitID: '<img src=x onerror=alert(1)>', ConVisitID: 'a&b', column: 'SSN' }],
    });
    const error = `${evil} in the error`;
    await finishRun(
      ctx,
      { results: [{ name: 'task02_00_run_conflict_update', outcome: 'failed', ms: 5, error }], status: 'failed', exitCode: 1, totalMs: 6, error },
      { stdout: { write: () => true } },
    );
    const [m] = sent();
    assertOnlyTemplateMarkup(m.html);
    assert.ok(!m.html.includes('<script>'));
    assert.ok(m.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; in the error'));
    assert.ok(m.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; in reject reason'));
    assert.ok(m.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
    assert.ok(m.html.includes('&lt;b&gt;Step&lt;/b&gt; &amp; co'));
    assert.ok(m.html.includes('/data/&lt;b&gt;warehouse&lt;/b&gt;&amp;co.duckdb'));
    // The text part carries the values as they are.
    assert.ok(m.text.includes(error));
    assert.ok(m.text.includes(`${evil} in reject reason`));
    // The subject is one line, whatever the error holds.
    assert.equal(m.subject, `[conflict-updater dev] FAILED: ${error}`);
    assert.equal(escapeHtml(`<>&"'`), '&lt;&gt;&amp;&quot;&#39;');
  });

  test('subject: one line, at most 200 characters; a run without the job names its actions', () => {
    const base = {
      reportVersion: 1, runId: 'x', startedAt: '2026-02-14T06:00:00.000Z', finishedAt: '2026-02-14T06:00:01.000Z',
      durationSeconds: 1, environment: 'dev', schema: 'conflict_dev', parameters: null, steps: [], statistics: {}, rejects: [],
    };
    const long = buildStatusEmail({
      ...base, status: 'failed', exitCode: 1, error: `line one\nline two\r\n${'x'.repeat(500)}`, actions: [],
    });
    assert.ok(long.subject.length <= 200);
    assert.ok(!/[\r\n]/.test(long.subject));
    assert.ok(long.subject.startsWith('[conflict-updater dev] FAILED: line one line two xxx'));
    const plain = buildStatusEmail({
      ...base, status: 'completed', exitCode: 0, error: null,
      actions: [{ name: 'validate_config', outcome: 'success', seconds: 0.1 }, { name: 'test_connections', outcome: 'success', seconds: 2 }],
    });
    assert.equal(plain.subject, '[conflict-updater dev] completed: validate_config, test_connections');
  });

  test('operations.md Dry run: the subject says DRY RUN, with the counts it would have written', () => {
    const base = {
      reportVersion: 1, runId: 'x', startedAt: '2026-02-14T06:00:00.000Z', finishedAt: '2026-02-14T06:00:01.000Z',
      durationSeconds: 1, environment: 'prod', schema: 'conflict_prod', parameters: null, steps: [], rejects: [],
      status: 'completed' as const, exitCode: 0, error: null, actions: [{ name: 'task02_00_run_conflict_update', outcome: 'completed' as const, seconds: 1 }],
      statistics: { inserted: 2, updated: 1, staleResolved: 1, exclusionResolved: 1 },
    };
    assert.equal(buildStatusEmail({ ...base, dryRun: true }).subject, '[conflict-updater prod DRY RUN] completed: 2 inserted, 1 updated, 2 resolved');
    assert.equal(buildStatusEmail({ ...base, dryRun: false }).subject, '[conflict-updater prod] completed: 2 inserted, 1 updated, 2 resolved');
  });

  test('no email when EMAIL_SENDER / EMAIL_RECIPIENTS are not set', async () => {
    const ctx = makeCtx({ ...BASE_ENV, RUN_REPORT_PATH: reportFile() }, captureLogger().log);
    const summary = await finishRun(ctx, COMPLETED, { stdout: { write: () => true } });
    assert.equal(summary.emailSent, false);
    assert.equal(ses.commandCalls(SendEmailCommand).length, 0);
  });

  test('an injected client is used; one that never answers is given up after the timeout, as a warning', async () => {
    const cap = captureLogger();
    const ctx = makeCtx({ ...EMAIL_ENV, RUN_REPORT_PATH: reportFile() }, cap.log);
    let aborted = false;
    const hanging: SesSender = {
      send: (_cmd, opts) =>
        new Promise((_resolve, reject) => {
          opts?.abortSignal?.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('aborted'));
          });
        }),
    };
    const t0 = Date.now();
    const summary = await finishRun(ctx, COMPLETED, { ses: hanging, emailTimeoutMs: 100, stdout: { write: () => true } });
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal(summary.emailSent, false);
    assert.equal(aborted, true);
    assert.match(cap.text(), /WARNING +Status email not sent \(SES eu-west-1\): no answer from SES within 0.1s/);
    assert.equal(ses.commandCalls(SendEmailCommand).length, 0, 'the default client was not used');
  });
});

describe('status email through runActions', () => {
  afterEach(() => ses.reset());

  test('sent on success; a send failure is a warning and the exit code stays 0', async () => {
    const { result } = await captureStdout(() => runActions('validate_config', { ...EMAIL_ENV, RUN_REPORT_PATH: reportFile() }));
    assert.equal(result, 0);
    assert.equal(sent().length, 1);
    assert.equal(sent()[0].subject, '[conflict-updater dev] completed: validate_config');

    ses.reset();
    ses.on(SendEmailCommand).rejects(new Error('Email address is not verified. The following identities failed the check: <a@b>'));
    const { result: code, out } = await captureStdout(() => runActions('validate_config', { ...EMAIL_ENV, RUN_REPORT_PATH: reportFile() }));
    assert.equal(code, 0);
    assert.match(out, /WARNING +Status email not sent \(SES eu-west-1\): Email address is not verified/);
    const lines = out.trimEnd().split('\n');
    assert.match(lines.at(-2) as string, /Status: completed$/);
  });

  test('sent on a configuration error too, when the email settings themselves are valid', async () => {
    const { result } = await captureStdout(() =>
      runActions('validate_config', { ...EMAIL_ENV, ENVIRONMENT: 'prod', BATCH_SIZE: '0', RUN_REPORT_PATH: reportFile() }),
    );
    assert.equal(result, 2);
    const [m] = sent();
    assert.equal(m.subject, '[conflict-updater prod] FAILED: Configuration error: BATCH_SIZE must be a whole number, at least 1 (got "0")');
    assert.deepEqual(m.input.Destination?.ToAddresses, ['ops@example.com', 'oncall@example.org']);
    assert.ok(!m.html.includes(BASE_ENV.POSTGRES_PASSWORD as string));
  });
});
