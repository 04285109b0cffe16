// detection.md, "Step 2" candidate sets and "Step 3" pairs: comprehensive mode (every ordered pair
// of an affected group, changed or not) and delta-only mode (changed visits only); the affected
// groups and scope streams of the DetectionRun contract (sync.md, "Stale resolution").
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect, pair, provider, uid, UNCHANGED, visitAt as at, type VisitSpec } from './warehouse.js';

const A = (n: number) => uid('a', n);
const V = (n: number) => uid('v', n);

const allOrdered = (ns: number[]) => ns.flatMap((a) => ns.filter((b) => b !== a).map((b) => pair(V(a), V(b)))).sort();

describe('candidate modes (detection.md, Step 2 "candidate set", Step 3)', () => {
  // Three mutually overlapping visits at three agencies; only the first changed.
  const three = [at(1, 1), at(2, 2, { updated: UNCHANGED }), at(3, 3, { updated: null })];

  test('comprehensive: all six ordered pairs, including the two between unchanged visits', async () => {
    const r = await detect({ visits: three }, { comprehensive: true });
    assert.deepEqual([...r.byPair.keys()].sort(), allOrdered([1, 2, 3]));
    assert.equal(r.rows.length, 6, 'one row per ordered pair');
    assert.equal(r.stats.candidatesPartA, 1);
    assert.equal(r.stats.candidatesPartB, 2);
    assert.equal(r.stats.detectedRows, 6);
    assert.ok(r.steps.some((s) => s.name === 'Step 2b (base_visits unchanged)'));
  });

  test('delta only: candidates are the changed visits only; one changed visit has no pair', async () => {
    const r = await detect({ visits: three }, { comprehensive: false });
    assert.equal(r.rows.length, 0);
    assert.equal(r.stats.candidatesPartA, 1);
    assert.equal(r.stats.candidatesPartB, 0);
    assert.ok(!r.steps.some((s) => s.name === 'Step 2b (base_visits unchanged)'), 'no part B in delta-only mode');
  });

  test('delta only: two changed visits pair with each other, not with the unchanged one', async () => {
    const visits = [at(1, 1), at(2, 2), at(3, 3, { updated: UNCHANGED })];
    const r = await detect({ visits }, { comprehensive: false });
    assert.deepEqual([...r.byPair.keys()].sort(), allOrdered([1, 2]));
  });
});

describe('affected groups and scope streams (DetectionRun contract, sync.md "Stale resolution")', () => {
  const visits: VisitSpec[] = [
    at(1, 1), // changed candidate
    at(2, 2, { updated: UNCHANGED }),
    at(3, 3, { missed: true, date: '2026-02-15' }), // changed, missed
    at(4, 4, { date: '2026-02-16' }), // changed, inactive provider
    at(5, 1, { date: '2020-01-01' }), // changed, outside the window
    { ...at(6, 2), id: 'not-a-uuid' }, // changed, id not a UUID
    { ...at(7, 1, { date: '2026-02-17' }), caregiver: uid('c', 2) }, // changed, other caregiver
  ];
  const providers = [provider(A(1)), provider(A(2)), provider(A(3)), provider(A(4), { 'Is Active': false })];

  test('affected groups: [VisitDate, SSN] of changed visits passing the shared filters', async () => {
    const r = await detect({ visits, providers });
    const groups = r.groups.map((g) => g.join(' ')).sort();
    assert.deepEqual(groups, ['2026-02-14 SSN-1', '2026-02-15 SSN-1', '2026-02-16 SSN-1', '2026-02-17 SSN-2']);
    assert.equal(r.stats.affectedGroups, 4);
    assert.equal(r.stats.affectedSsns, 2);
    assert.equal(r.stats.affectedDates, 4);
    // As streamed: one row per SSN, its dates joined by commas.
    const packed = r.packedGroups.map(([ssn, dates]) => `${String(ssn)} ${String(dates).split(',').sort().join(',')}`).sort();
    assert.deepEqual(packed, ['SSN-1 2026-02-14,2026-02-15,2026-02-16', 'SSN-2 2026-02-17']);
  });

  test('scope, comprehensive: every changed fact row (any filter), lower-cased, valid UUIDs only', async () => {
    const r = await detect({ visits, providers }, { comprehensive: true });
    assert.deepEqual(r.scope, [1, 3, 4, 5, 7].map((n) => V(n).toLowerCase()).sort());
    // As streamed: ids joined by commas in hash buckets, each id once.
    assert.ok(r.packedScope.every((ids) => /^[0-9a-f-]{36}(,[0-9a-f-]{36})*$/.test(ids)), r.packedScope.join(' | '));
  });

  test('scope, delta only: the changed candidate visits', async () => {
    const r = await detect({ visits, providers }, { comprehensive: false });
    assert.deepEqual(r.scope, [1, 7].map((n) => V(n).toLowerCase()).sort());
  });
});

test("detectedRows streams in chunks of 0.4 × batchSize: wide rows, the job's memory (DetectionRun contract)", async () => {
  const visits = [at(1, 1), at(2, 2, { updated: UNCHANGED }), at(3, 3, { updated: UNCHANGED })];
  const r = await detect({ visits }, { batchSize: 10 });
  assert.deepEqual(r.batches, [4, 2]);
  assert.deepEqual((await detect({ visits }, { batchSize: 2 })).batches, [1, 1, 1, 1, 1, 1], 'at least one row a chunk');
  assert.equal(r.stats.detectedRows, 6);
  const step = r.steps.find((s) => s.name === 'Step 3 (conflicts)');
  assert.equal(step?.rows, 6);
  assert.deepEqual(
    r.steps.map((s) => s.name),
    ['Step 0 (excluded_ssns)', 'Step 1 (delta_keys)', 'Step 2a (base_visits changed)', 'Step 2b (base_visits unchanged)', 'Step 3 (conflicts)'],
  );
});

test('a failing statement names its step in the error (operations.md, "Logs")', async () => {
  const { createDetectionRun } = await import('../../src/detection/detection.js');
  const { openDuckDb } = await import('../../src/warehouse/duckdb.js');
  const { RunRecorder } = await import('../../src/run/recorder.js');
  const { silentLog } = await import('../helpers/log.js');
  const { writeWarehouse, tempDir, params, duckdbConfig } = await import('./warehouse.js');
  const path = await writeWarehouse(tempDir(), { visits: [at(1, 1)] });
  const log = silentLog();
  const session = await openDuckDb(duckdbConfig(path), { timezone: 'UTC', log });
  try {
    // A schema that does not exist: Step 0 only creates temporary tables, Step 1 reads the fact table.
    const run = createDetectionRun(session, params(), { database: 'ANALYTICS', schema: 'NOPE', recorder: new RunRecorder(log), log });
    await run.resolveClock();
    await assert.rejects(() => run.prepare(), (err: Error) => err.message.startsWith('Step 1 (delta_keys): '));
    assert.throws(() => createDetectionRun(session, params({ extraDistancePer: Number.NaN }), { database: 'ANALYTICS', schema: 'BI', recorder: new RunRecorder(log), log }), /ExtraDistancePer/);
  } finally {
    await session.close();
  }
});
