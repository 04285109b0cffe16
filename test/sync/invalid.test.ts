// sync.md "Invalid rows", "All or nothing" and "Idempotence", and the COPY text format.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Shutdown } from '../../src/run/shutdown.js';
import { copyField, copyLine } from '../../src/sync/copy.js';
import { RejectsError } from '../../src/sync/index.js';
import { testClient } from '../helpers/pg.js';
import { until } from '../helpers/wait.js';
import { cvm, detected, insertCvm, runSync, setup, snapshot, storedFrom, uuid, type Ctx } from './helpers.js';

let ctx: Ctx;
before(async () => {
  ctx = await setup('inv');
});
after(async () => {
  await ctx.close();
});

test('sync.md All or nothing (COPY text format): backslash, tab, newline, carriage return escaped; NULL as \\N', () => {
  assert.equal(copyField(null), '\\N');
  assert.equal(copyField(undefined), '\\N');
  assert.equal(copyField('a\\b\tc\nd\re'), 'a\\\\b\\tc\\nd\\re');
  assert.equal(copyField('\\N'), '\\\\N', 'the text \\N is not NULL');
  assert.equal(copyField(true), 't');
  assert.equal(copyField(12.5), '12.5');
  assert.equal(copyLine(['x', null, 3]), 'x\t\\N\t3\n');
});

test('sync.md All or nothing (COPY text format): awkward text arrives in PostgreSQL exactly', async () => {
  const nasty = ['back\\slash', 'tab\there', 'new\nline', 'cr\rhere', '\\N', 'quote\'"', 'ünïcödé ✓', ''];
  const rows = nasty.map((t) => detected({ PAddressL1: t }));
  await runSync(ctx, { detected: rows });
  const stored = await cvm(ctx, `"VisitID" = ANY($1::uuid[])`, [rows.map((r) => r.VisitID)]);
  const byVisit = new Map(stored.map((r) => [r.VisitID, r.PAddressL1]));
  for (const r of rows) assert.equal(byVisit.get(r.VisitID), r.PAddressL1);
});

test('sync.md Invalid rows: a row the precheck cannot vouch for (numbers as padded text) is checked in SQL, cast and stored, awkward text and all', async () => {
  const nasty = 'a "quoted", {braced} back\\slash\ttab\nline NULL';
  const vouched = detected();
  const textual = detected({ MinuteDiffBetweenSch: ' 12.6 ', AppVisitID: ' 1001 ', PLatitude: ' 40.25 ', PAddressL1: nasty, PAddressL2: 'NULL', PCity: null });
  const { stats } = await runSync(ctx, { detected: [vouched, textual] });
  assert.equal(stats.rejected, 0);
  assert.equal(stats.inserted, 2);
  const [row] = await cvm(ctx, `"VisitID" = $1`, [textual.VisitID]);
  assert.equal(row.MinuteDiffBetweenSch, 13, 'rounded half away from zero (detection.md)');
  assert.equal(String(row.AppVisitID), '1001');
  assert.equal(row.PLatitude, 40.25);
  assert.equal(row.PAddressL1, nasty);
  assert.equal(row.PAddressL2, 'NULL', 'the text NULL is not NULL');
  assert.equal(row.PCity, null);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [vouched.VisitID])).length, 1);
});

test('sync.md Invalid rows: not a UUID, text too long, numbers out of range, bad dates are rejected with reasons, the rest is written', async () => {
  const good = detected();
  const bad = [
    detected({ VisitID: 'not-a-uuid' }),
    detected({ CaregiverID: '1234' }),
    detected({ ProviderName: 'x'.repeat(101) }),
    detected({ SSN: '1'.repeat(21) }),
    detected({ MinuteDiffBetweenSch: 3_000_000_000 }),
    detected({ AppVisitID: '99999999999999999999' }),
    detected({ PLatitude: 1e39 }),
    detected({ DistanceMilesFromLatLng: Number.NaN }),
    detected({ VisitDate: '2026-02-30' }),
    detected({ SchStartTime: 'yesterday' }),
    detected({ IsMissed: 'maybe' }),
  ];
  const { stats, recorder, log } = await runSync(ctx, { detected: [good, ...bad] });
  assert.equal(stats.detected, 12);
  assert.equal(stats.rejected, 11);
  assert.equal(stats.inserted, 1);
  const reasons = new Map(recorder.rejects.map((r) => [r.reason, r.count]));
  for (const reason of [
    'VisitID: not a UUID',
    'CaregiverID: not a UUID',
    'ProviderName: longer than 100 characters',
    'SSN: longer than 20 characters',
    'MinuteDiffBetweenSch: out of range for int4',
    'AppVisitID: out of range for int8',
    'PLatitude: out of range for real',
    'DistanceMilesFromLatLng: not a number',
    'VisitDate: not a date',
    'SchStartTime: not a timestamp',
    'IsMissed: not a boolean',
  ]) {
    assert.equal(reasons.get(reason), 1, `${reason} in ${[...reasons.keys()].join(', ')}`);
  }
  const ex = recorder.rejects.find((r) => r.reason === 'CaregiverID: not a UUID')!;
  assert.deepEqual(ex.examples, [{ VisitID: bad[1].VisitID, ConVisitID: bad[1].ConVisitID, column: 'CaregiverID' }]);
  assert.ok(log.lines.some((l) => /11 detected rows rejected as invalid/.test(l)));
  assert.ok(log.lines.some((l) => l.includes(`rejected: VisitID ${bad[1].VisitID}`) && l.includes('CaregiverID not a UUID (a value of 4 characters)')));
  // operations.md "Security" (issue 18): a rejected value never reaches the log or the report.
  for (const value of ['1'.repeat(21), 'x'.repeat(101), '2026-02-30', 'yesterday', 'maybe']) {
    assert.ok(!log.lines.some((l) => l.includes(value)), `a log line shows the rejected value ${value}`);
  }
  for (const r of recorder.rejects) for (const e of r.examples) assert.ok(!('value' in e), `${r.reason}: an example carries a value`);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [good.VisitID])).length, 1);
});

test('sync.md Invalid rows: a row without a VisitID or a ConVisitID is rejected as missing its key, not silently dropped', async () => {
  const good = detected();
  const noVisit = detected({ VisitID: null });
  const noCon = detected({ ConVisitID: null });
  const { stats, recorder } = await runSync(ctx, { detected: [good, noVisit, noCon] });
  assert.equal(stats.detected, 3);
  assert.equal(stats.rejected, 2);
  assert.equal(stats.inserted, 1);
  const reasons = new Map(recorder.rejects.map((r) => [r.reason, r.count]));
  assert.equal(reasons.get('VisitID: missing (NULL)'), 1);
  assert.equal(reasons.get('ConVisitID: missing (NULL)'), 1);
  assert.equal((await cvm(ctx, `"ConVisitID" = $1`, [noVisit.ConVisitID])).length, 0);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [noCon.VisitID])).length, 0);
});

test('sync.md Invalid rows: a second row with the same (VisitID, ConVisitID) is rejected as a duplicate', async () => {
  const d = detected();
  const { stats, recorder } = await runSync(ctx, { detected: [d, { ...d, AideName: 'second' }] });
  assert.equal(stats.rejected, 1);
  assert.equal(stats.inserted, 1);
  assert.match(recorder.rejects[0].reason, /duplicate/);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [d.VisitID]))[0].AideName, 'Ann Aide');
});

test('sync.md Invalid rows: the same keys in upper case are a duplicate (a UUID is the same whatever its case)', async () => {
  const d = detected();
  const upper = { ...d, VisitID: String(d.VisitID).toUpperCase(), ConVisitID: String(d.ConVisitID).toUpperCase(), AideName: 'second' };
  const { stats, recorder } = await runSync(ctx, { detected: [d, upper] });
  assert.equal(stats.rejected, 1);
  assert.equal(stats.inserted, 1);
  assert.deepEqual(recorder.rejects[0].examples, [{ VisitID: upper.VisitID, ConVisitID: upper.ConVisitID, column: 'VisitID, ConVisitID' }]);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [d.VisitID]))[0].AideName, 'Ann Aide');
});

test('sync.md Invalid rows: a later duplicate with an invalid value is rejected once, for its value; the first row stands', async () => {
  const d = detected();
  const { stats, recorder } = await runSync(ctx, { detected: [d, { ...d, CaregiverID: '1234' }] });
  assert.equal(stats.rejected, 1);
  assert.equal(stats.inserted, 1);
  assert.deepEqual(recorder.rejects.map((r) => [r.reason, r.count]), [['CaregiverID: not a UUID', 1]]);
  assert.equal((await cvm(ctx, `"VisitID" = $1`, [d.VisitID]))[0].CaregiverID, d.CaregiverID);
});

test('sync.md Invalid rows: FAIL_ON_REJECTS=true turns any reject into a failed run with nothing written', async () => {
  const existing = detected();
  await insertCvm(ctx, storedFrom({ ...existing, SchStartTime: '2026-02-14 05:00:00' }));
  const before = await snapshot(ctx);
  await assert.rejects(
    runSync(ctx, { detected: [existing, detected(), detected({ OfficeID: 'nope' })], options: { failOnRejects: true } }),
    (err: Error) => err instanceof RejectsError && /FAIL_ON_REJECTS: 1 detected row could not be stored/.test(err.message),
  );
  assert.deepEqual(await snapshot(ctx), before);
});

test('sync.md All or nothing: a failure before the commit leaves both tables byte-for-byte unchanged', async () => {
  const s = '555000111';
  const dirty = detected({ SSN: s });
  await insertCvm(ctx, storedFrom({ ...dirty, SchStartTime: '2026-02-14 05:00:00' }, { CONFLICTID: null }));
  await insertCvm(ctx, storedFrom(detected({ SSN: s })));
  const before = await snapshot(ctx);
  // Make the very last step fail: a trigger on conflicts violates a deferred constraint, so the
  // COMMIT itself fails after every update, insert and resolution has run.
  await ctx.client.query(
    `CREATE TABLE ${ctx.s}.guard (x int, CONSTRAINT guard_ck UNIQUE (x) DEFERRABLE INITIALLY DEFERRED);
     CREATE FUNCTION ${ctx.s}.guard_fn() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN INSERT INTO ${ctx.s}.guard VALUES (1), (1); RETURN NULL; END $$;
     CREATE TRIGGER guard_tg AFTER INSERT ON ${ctx.s}."conflicts" FOR EACH STATEMENT EXECUTE FUNCTION ${ctx.s}.guard_fn();`,
  );
  try {
    await assert.rejects(runSync(ctx, { detected: [dirty, detected({ SSN: s })], groups: [['2026-02-14', s]] }), /guard_ck|duplicate key/);
    assert.deepEqual(await snapshot(ctx), before);
  } finally {
    await ctx.client.query(`DROP TRIGGER guard_tg ON ${ctx.s}."conflicts"; DROP TABLE ${ctx.s}.guard; DROP FUNCTION ${ctx.s}.guard_fn()`);
  }
});

test('sync.md All or nothing: a stop (SIGTERM) during the write rolls back and leaves the tables unchanged', async () => {
  const s = '555000222';
  const d = detected({ SSN: s });
  await insertCvm(ctx, storedFrom({ ...d, SchStartTime: '2026-02-14 05:00:00' }));
  const before = await snapshot(ctx);
  const shutdown = new Shutdown();
  const client = await testClient();
  const blocker = await testClient();
  try {
    // Hold a row lock on conflicts so the run blocks inside its transaction, then stop it.
    await blocker.query('BEGIN');
    await blocker.query(`LOCK TABLE ${ctx.s}."conflicts" IN EXCLUSIVE MODE`);
    const pid = (client as unknown as { processID: number }).processID;
    shutdown.onStop(async () => {
      const c = await testClient();
      await c.query('SELECT pg_cancel_backend($1)', [pid]);
      await c.end();
    });
    const run = runSync(ctx, { detected: [d, detected({ SSN: s })], shutdown, client }).then(
      () => new Error('the run was not stopped'),
      (err: Error) => err,
    );
    await until('the run waiting for the lock', async () => {
      const w = await blocker.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`, [pid]);
      return w.rowCount !== 0;
    });
    await shutdown.stop('SIGTERM');
    assert.match((await run).message, /cancel/i);
    await blocker.query('ROLLBACK');
    assert.deepEqual(await snapshot(ctx), before);
    const tx = await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'relation' AND relation::regclass::text LIKE '%conflicts%'`);
    assert.equal(tx.rows[0].n, 0, 'no lock left behind: the transaction was rolled back');
  } finally {
    await blocker.end();
    await client.end();
  }
});

test('sync.md Idempotence: a second sync of the same detected rows and scope writes nothing', async () => {
  const s = '555000333';
  const rows = [detected({ SSN: s }), detected({ SSN: s }), detected({ SSN: s, StatusFlag: undefined })];
  await insertCvm(ctx, storedFrom(detected({ SSN: s }))); // stale: resolved by the first sync only
  const first = await runSync(ctx, { detected: rows, groups: [['2026-02-14', s]], scope: [uuid()] });
  assert.equal(first.stats.inserted, 3);
  assert.equal(first.stats.staleResolved, 1);
  const before = await snapshot(ctx);
  const second = await runSync(ctx, { detected: rows, groups: [['2026-02-14', s]], scope: [uuid()] });
  assert.equal(second.stats.updated, 0);
  assert.equal(second.stats.inserted, 0);
  assert.equal(second.stats.staleResolved, 0);
  assert.equal(second.stats.exclusionResolved, 0);
  assert.equal(second.stats.parentsCreated, 0);
  assert.deepEqual(await snapshot(ctx), before);
});

test('sync.md Statistics: every step is timed in the recorder and the counts land in recorder.stats', async () => {
  const { recorder } = await runSync(ctx, { detected: [detected()] });
  const names = recorder.steps.map((s) => s.name);
  for (const n of ['Sync: staging (COPY)', 'Sync: validate', 'Sync: match', 'Sync: update', 'Sync: insert', 'Sync: resolve stale', 'Sync: commit']) {
    assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  }
  for (const k of <const>['detected', 'matched', 'new', 'inserted', 'updated', 'updatedByFlag', 'updatedByColumn', 'reopened', 'clean', 'staleResolved', 'exclusionResolved', 'conflictIdsRepaired', 'rejected']) {
    assert.equal(typeof recorder.stats[k], 'number', k);
  }
  assert.equal(recorder.stats.inserted, 1);
});
