// Spec: operations.md "Logs": "progress every few seconds during long steps … On a terminal, long
// steps show a progress bar instead of progress lines." src/run/progress.ts: startProgress(log,
// label, total?) → { tick(n), done() }.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

import { startProgress } from '../../src/run/progress.js';
import { captureLogger } from './helpers.js';

const CLEAR = '\r\x1b[K';

describe('progress', () => {
  test('not a terminal: periodic INFO lines with count, total, percentage, rate; none after done()', async () => {
    const cap = captureLogger();
    const p = startProgress(cap.log, 'Step 3 (conflict detection)', 1_000_000, { intervalMs: 40 });
    p.tick(250_000);
    p.tick(250_000);
    assert.equal(p.count, 500_000);
    await sleep(130);
    p.done();
    const lines = cap.lines();
    assert.ok(lines.length >= 2, `expected periodic lines, got ${lines.length}`);
    assert.match(lines[0], /INFO +Step 3 \(conflict detection\): 500,000 of 1,000,000 rows \(50\.0%\), [\d,]+ rows\/s, [\d.]+s elapsed, ~[\d.]+s left$/);
    assert.ok(!cap.text().includes('\r'), 'no carriage returns in a log file');
    const before = cap.lines().length;
    await sleep(100);
    assert.equal(cap.lines().length, before, 'no line after done()');
    p.done(); // idempotent
    p.tick(5); // ignored after done
    assert.equal(p.count, 500_000);
  });

  test('JSON lines carry the figures as fields; without a total, no percentage', async () => {
    const cap = captureLogger({ format: 'json' });
    const p = startProgress(cap.log, 'Sync: insert', undefined, { intervalMs: 30, unit: 'batches' });
    p.tick();
    p.tick(2);
    await sleep(80);
    p.done();
    const o = JSON.parse(cap.lines()[0]);
    assert.equal(o.level, 'INFO');
    assert.match(o.msg, /^Sync: insert: 3 batches, [\d,]+ batches\/s, [\d.]+s elapsed$/);
    assert.equal(o.progress, 'Sync: insert');
    assert.equal(o.count, 3);
    assert.equal(o.unit, 'batches');
    assert.equal('total' in o, false);
    assert.equal(typeof o.seconds, 'number');
  });

  test('a step shorter than the interval logs no progress line', () => {
    const cap = captureLogger();
    const p = startProgress(cap.log, 'quick', 10);
    p.tick(10);
    p.done();
    assert.equal(cap.text(), '');
  });

  test('terminal: a \\r progress bar, kept below log lines written meanwhile, cleared by done()', async () => {
    const cap = captureLogger({ isTTY: true });
    const p = startProgress(cap.log, 'Step 2', 200, { redrawMs: 0, barWidth: 10 });
    p.tick(100);
    assert.ok(cap.text().includes(`${CLEAR}Step 2 [#####-----]  50.0% 100/200 rows`), JSON.stringify(cap.text()));
    cap.log.info('a log line during the step');
    // The bar is erased before the line and drawn again after it.
    assert.match(cap.text(), /\r\x1b\[K[^\r\n]*INFO +a log line during the step\n\S/);
    p.tick(100);
    assert.ok(cap.text().includes('[##########] 100.0% 200/200 rows'));
    p.done();
    assert.ok(cap.text().endsWith(CLEAR), 'done() clears the bar');
    const len = cap.text().length;
    cap.log.info('after');
    assert.ok(!cap.text().slice(len).includes('Step 2'), 'the bar is not redrawn after done()');
    assert.equal(cap.text().slice(len).split('\n').filter(Boolean).length, 1);
    // No periodic INFO lines on a terminal.
    assert.ok(!/INFO +Step 2/.test(cap.text()));
  });

  test('status() does nothing when the log is not a terminal', () => {
    const cap = captureLogger();
    cap.log.status?.('bar');
    cap.log.status?.(undefined);
    assert.equal(cap.text(), '');
  });
});
