// sync.md "Insert (new rows)" and the CONFLICTID repair of "Update": defaults, CONFLICTID reuse
// and allocation, parent rows, CRDATEUNIQUE and the identity sequences. Each test has its own
// schema: allocation depends on the largest ids of the tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DETECTED_COLUMNS } from '../../src/schema/columns.js';
import { conflictsRows, cvm, detected, insertCvm, one, runSync, setup, storedFrom, type Ctx } from './helpers.js';

async function withSchema(fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const ctx = await setup('ins');
  try {
    await fn(ctx);
  } finally {
    await ctx.close();
  }
}

async function today(ctx: Ctx): Promise<string> {
  return (await ctx.client.query(`SELECT CURRENT_DATE::timestamp::text AS d`)).rows[0].d;
}

test('sync.md Insert: every detected column plus StatusFlag U, InServiceFlag N, PTOFlag N, CreatedDate now, UpdatedDate NULL', () =>
  withSchema(async (ctx) => {
    const d = detected({ AideName: 'Tab\there', PName: 'Back\\slash', PAddressL1: 'Line\nbreak', ETATravelMinutes: 12.5, PLatitude: 40.123 });
    const t0 = (await ctx.client.query(`SELECT now()::timestamp::text AS t`)).rows[0].t as string;
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.new, 1);
    assert.equal(stats.inserted, 1);
    const [row] = await cvm(ctx);
    for (const c of DETECTED_COLUMNS) {
      const want = d[c.name];
      const got = row[c.name];
      if (want === undefined || want === null) assert.equal(got, null, c.name);
      else if (c.name === 'ETATravelMinutes') assert.equal(got, 13, 'rounded half away from zero');
      else if (typeof want === 'number') assert.ok(Math.abs(Number(got) - want) < 1e-4, `${c.name}: ${got}`);
      else if (typeof want === 'boolean') assert.equal(got, want, c.name);
      else assert.equal(String(got), String(want), c.name);
    }
    assert.equal(row.StatusFlag, 'U');
    assert.equal(row.InServiceFlag, 'N');
    assert.equal(row.PTOFlag, 'N');
    assert.equal(row.UpdatedDate, null);
    assert.ok(row.CreatedDate >= t0.slice(0, 19));
    for (const c of ['GroupID', 'TempGroupID', 'G_CRDATEUNIQUE', 'ResolveDate', 'ResolvedBy', 'UpdateFlag', 'ReverseUUID', 'BilledRateMinute', 'ShVTSTTime']) {
      assert.equal(row[c], null, c);
    }
    assert.equal(row.CRDATEUNIQUE, row.CreatedDate, 'CRDATEUNIQUE: its own CreatedDate when it is the first of its CONFLICTID');
  }));

test('sync.md Insert: CONFLICTID reused from the same visit (the smallest, any status, InService/PTO rows included)', () =>
  withSchema(async (ctx) => {
    const d = detected();
    const other = detected({ VisitID: d.VisitID });
    await insertCvm(ctx, storedFrom(other, { CONFLICTID: 40, StatusFlag: 'R', CreatedDate: '2026-01-05 00:00:00' }));
    await insertCvm(ctx, storedFrom(detected({ VisitID: d.VisitID }), { CONFLICTID: 30, StatusFlag: 'W', InserviceStartDate: '2026-01-01 00:00:00', CreatedDate: '2026-01-03 00:00:00' }));
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 10 }));
    await ctx.client.query(`INSERT INTO ${ctx.s}."conflicts" ("CONFLICTID", "StatusFlag") OVERRIDING SYSTEM VALUE VALUES (30, 'W')`);
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.inserted, 1);
    assert.equal(stats.conflictIdsReused, 1);
    assert.equal(stats.conflictIdsAllocated, 0);
    const [row] = await cvm(ctx, `"VisitID" = $1 AND "ConVisitID" = $2`, [d.VisitID, d.ConVisitID]);
    assert.equal(row.CONFLICTID, '30');
    assert.equal(row.CRDATEUNIQUE, '2026-01-03 00:00:00', 'the earliest CreatedDate among the rows of CONFLICTID 30');
    const parents = await conflictsRows(ctx);
    assert.equal(parents.length, 1, 'the existing parent is untouched, no other created');
    assert.equal(parents[0].StatusFlag, 'W');
    assert.equal(parents[0].CreatedDate, null);
  }));

test('sync.md Insert: new CONFLICTIDs are consecutive from the largest of both tables + 1, in VisitID order, shared per visit', () =>
  withSchema(async (ctx) => {
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 90 }));
    await ctx.client.query(`INSERT INTO ${ctx.s}."conflicts" ("CONFLICTID") OVERRIDING SYSTEM VALUE VALUES (120)`);
    const v1 = 'ffffffff-0000-4000-8000-000000000001';
    const v2 = '0fffffff-0000-4000-8000-000000000002';
    const v3 = 'aaaaaaaa-0000-4000-8000-000000000003';
    const rows = [detected({ VisitID: v1 }), detected({ VisitID: v2 }), detected({ VisitID: v1 }), detected({ VisitID: v3 })];
    const { stats } = await runSync(ctx, { detected: rows });
    assert.equal(stats.inserted, 4);
    assert.equal(stats.conflictIdsAllocated, 3);
    const byVisit = new Map((await cvm(ctx, `"VisitID" = ANY($1::uuid[])`, [[v1, v2, v3]])).map((r) => [r.VisitID, r.CONFLICTID]));
    assert.equal(byVisit.get(v2), '121');
    assert.equal(byVisit.get(v3), '122');
    assert.equal(byVisit.get(v1), '123');
    const both = await cvm(ctx, `"VisitID" = $1`, [v1]);
    assert.deepEqual(both.map((r) => r.CONFLICTID), ['123', '123']);
    const today_ = await today(ctx);
    const parents = await conflictsRows(ctx);
    assert.deepEqual(parents.map((p) => p.CONFLICTID), ['120', '121', '122', '123']);
    for (const p of parents.slice(1)) {
      assert.equal(p.CreatedDate, today_, 'CreatedDate = CURRENT_DATE');
      assert.equal(p.StatusFlag, 'U', 'other columns at their defaults');
    }
    // the conflicts identity was advanced past the largest id used
    const next = await ctx.client.query(`INSERT INTO ${ctx.s}."conflicts" DEFAULT VALUES RETURNING "CONFLICTID"`);
    assert.equal(next.rows[0].CONFLICTID, '124');
    assert.equal(stats.parentsCreated, 3);
  }));

test('sync.md Insert: the conflictvisitmaps identity is advanced first when it lags behind MAX("ID")', () =>
  withSchema(async (ctx) => {
    await ctx.client.query(
      `INSERT INTO ${ctx.s}."conflictvisitmaps" ("ID", "VisitID", "ConVisitID", "CONFLICTID") VALUES (500, gen_random_uuid(), gen_random_uuid(), 1)`,
    );
    const { stats } = await runSync(ctx, { detected: [detected(), detected()] });
    assert.equal(stats.inserted, 2);
    const ids = (await cvm(ctx)).map((r) => Number(r.ID));
    assert.deepEqual(ids, [500, 501, 502]);
  }));

test('sync.md Insert: with GENERATED ALWAYS identities (production) explicit ids still go in', () =>
  withSchema(async (ctx) => {
    await ctx.client.query(`ALTER TABLE ${ctx.s}."conflicts" ALTER COLUMN "CONFLICTID" SET GENERATED ALWAYS`);
    await ctx.client.query(`ALTER TABLE ${ctx.s}."conflictvisitmaps" ALTER COLUMN "ID" SET GENERATED ALWAYS`);
    const { stats } = await runSync(ctx, { detected: [detected()] });
    assert.equal(stats.inserted, 1);
    assert.equal(stats.parentsCreated, 1);
  }));

test('sync.md Insert: a key present only as an InService/PTO row is not inserted', () =>
  withSchema(async (ctx) => {
    const d = detected();
    await insertCvm(ctx, storedFrom(d, { PTOStartDate: '2026-02-14 00:00:00' }));
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.inserted, 0);
    assert.equal((await cvm(ctx)).length, 1);
  }));

test('sync.md Insert: ENABLE_INSERT=false inserts nothing and creates no parent', () =>
  withSchema(async (ctx) => {
    const { stats } = await runSync(ctx, { detected: [detected(), detected()], options: { enableInsert: false } });
    assert.equal(stats.new, 2);
    assert.equal(stats.inserted, 0);
    assert.equal((await cvm(ctx)).length, 0);
    assert.equal((await conflictsRows(ctx)).length, 0);
  }));

test('sync.md Update (repair): a clean matched row with NULL CONFLICTID gets one and its parent, nothing else changes, even with ENABLE_INSERT=false', () =>
  withSchema(async (ctx) => {
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 7 }));
    const d = detected();
    const id = await insertCvm(ctx, storedFrom(d, { CONFLICTID: null, UpdatedDate: null }));
    const before = await one(ctx, id);
    const { stats } = await runSync(ctx, { detected: [d], options: { enableInsert: false } });
    assert.equal(stats.updated, 0);
    assert.equal(stats.conflictIdsRepaired, 1);
    const after = await one(ctx, id);
    assert.equal(after.CONFLICTID, '8');
    assert.deepEqual({ ...after, CONFLICTID: null }, { ...before, CONFLICTID: null });
    const parents = await conflictsRows(ctx);
    assert.deepEqual(parents.map((p) => p.CONFLICTID), ['8']);
    assert.equal(parents[0].CreatedDate, await today(ctx));
  }));

test('sync.md Update (repair): the repair reuses the visit\'s CONFLICTID and also applies to a dirty row', () =>
  withSchema(async (ctx) => {
    const d = detected();
    await insertCvm(ctx, storedFrom(detected({ VisitID: d.VisitID }), { CONFLICTID: 55 }));
    const id = await insertCvm(ctx, storedFrom({ ...d, SchStartTime: '2026-02-14 08:00:00' }, { CONFLICTID: null }));
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.updated, 1);
    assert.equal(stats.conflictIdsRepaired, 1);
    const row = await one(ctx, id);
    assert.equal(row.CONFLICTID, '55');
    assert.equal(row.SchStartTime, '2026-02-14 09:00:00');
    assert.deepEqual((await conflictsRows(ctx)).map((p) => p.CONFLICTID), ['55'], 'a missing parent of a reused id is created');
  }));

test('sync.md Insert: CRDATEUNIQUE of an inserted row is the earliest CreatedDate of its CONFLICTID; other rows are left alone', () =>
  withSchema(async (ctx) => {
    const d = detected();
    const oldId = await insertCvm(ctx, storedFrom(detected({ VisitID: d.VisitID }), { CONFLICTID: 3, CreatedDate: '2025-12-24 10:00:00', CRDATEUNIQUE: null }));
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 3, CreatedDate: '2025-12-20 09:00:00', CRDATEUNIQUE: null }));
    await runSync(ctx, { detected: [d] });
    const [row] = await cvm(ctx, `"ConVisitID" = $1`, [d.ConVisitID]);
    assert.equal(row.CONFLICTID, '3');
    assert.equal(row.CRDATEUNIQUE, '2025-12-20 09:00:00');
    assert.equal((await one(ctx, oldId)).CRDATEUNIQUE, null);
  }));

test('sync.md Insert: the largest CONFLICTID may be a stored row\'s without a parent, in any status: new ones follow it', () =>
  withSchema(async (ctx) => {
    await ctx.client.query(`INSERT INTO ${ctx.s}."conflicts" ("CONFLICTID") OVERRIDING SYSTEM VALUE VALUES (120)`);
    // resolved and InService: nothing else would make the job look at this row
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 500, StatusFlag: 'R', InserviceStartDate: '2026-02-01 08:00:00' }));
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 130, StatusFlag: 'D' }));
    const d = detected();
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.conflictIdsAllocated, 1);
    const [row] = await cvm(ctx, `"VisitID" = $1`, [d.VisitID]);
    assert.equal(row.CONFLICTID, '501');
  }));

test('sync.md Insert: CRDATEUNIQUE counts the CONFLICTID\'s rows in every status (a deleted row included)', () =>
  withSchema(async (ctx) => {
    const d = detected();
    await insertCvm(ctx, storedFrom(detected({ VisitID: d.VisitID }), { CONFLICTID: 7, CreatedDate: '2025-12-24 10:00:00', StatusFlag: 'R' }));
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 7, CreatedDate: '2025-11-02 07:00:00', StatusFlag: 'D', PTOStartDate: '2025-11-01 00:00:00' }));
    await runSync(ctx, { detected: [d] });
    const [row] = await cvm(ctx, `"ConVisitID" = $1`, [d.ConVisitID]);
    assert.equal(row.CONFLICTID, '7');
    assert.equal(row.CRDATEUNIQUE, '2025-11-02 07:00:00');
  }));

test('sync.md Insert: parents already present are never changed; only ids given to inserted or repaired rows get one', () =>
  withSchema(async (ctx) => {
    const d = detected();
    await insertCvm(ctx, storedFrom(detected({ VisitID: d.VisitID }), { CONFLICTID: 9 }));
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 4 })); // no parent, not touched by this run
    await ctx.client.query(
      `INSERT INTO ${ctx.s}."conflicts" ("CONFLICTID", "StatusFlag", "CreatedDate", "ResolvedBy") OVERRIDING SYSTEM VALUE VALUES (9, 'R', '2025-01-01', 'x')`,
    );
    const before = await conflictsRows(ctx);
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.parentsCreated, 0);
    assert.deepEqual(await conflictsRows(ctx), before);
  }));

test('sync.md Insert: CRDATEUNIQUE counts a row repaired in the same run with the newly allocated CONFLICTID (a clean matched row without one)', () =>
  withSchema(async (ctx) => {
    await insertCvm(ctx, storedFrom(detected(), { CONFLICTID: 20, CreatedDate: '2025-01-01 00:00:00' })); // another visit
    const matchedNoId = detected();
    const id = await insertCvm(ctx, storedFrom(matchedNoId, { CONFLICTID: null, CreatedDate: '2025-10-05 06:00:00' }));
    const fresh = detected({ VisitID: matchedNoId.VisitID });
    const { stats } = await runSync(ctx, { detected: [matchedNoId, fresh] });
    assert.equal(stats.conflictIdsAllocated, 1);
    assert.equal(stats.conflictIdsRepaired, 1);
    assert.equal(stats.inserted, 1);
    const repaired = await one(ctx, id);
    assert.equal(repaired.CONFLICTID, '21');
    const [row] = await cvm(ctx, `"ConVisitID" = $1`, [fresh.ConVisitID]);
    assert.equal(row.CONFLICTID, '21');
    assert.equal(row.CRDATEUNIQUE, '2025-10-05 06:00:00', "the repaired row's CreatedDate is the CONFLICTID's earliest");
    assert.equal(repaired.CRDATEUNIQUE, null, "the repaired row's own CRDATEUNIQUE is left alone");
  }));

test('sync.md Insert: CRDATEUNIQUE counts a dirty row repaired in the same run with a reused CONFLICTID, when it is the earliest', () =>
  withSchema(async (ctx) => {
    const withId = detected();
    await insertCvm(ctx, storedFrom(detected({ VisitID: withId.VisitID }), { CONFLICTID: 12, CreatedDate: '2025-12-01 10:00:00' }));
    const dirtyNoId = detected({ VisitID: withId.VisitID });
    const id = await insertCvm(ctx, storedFrom({ ...dirtyNoId, SchStartTime: '2026-02-14 08:00:00' }, { CONFLICTID: null, CreatedDate: '2025-09-01 07:30:00' }));
    const fresh = detected({ VisitID: withId.VisitID });
    const { stats } = await runSync(ctx, { detected: [dirtyNoId, fresh] });
    assert.equal(stats.updated, 1);
    assert.equal(stats.conflictIdsRepaired, 1);
    assert.equal(stats.conflictIdsReused, 1);
    assert.equal((await one(ctx, id)).CONFLICTID, '12');
    const [row] = await cvm(ctx, `"ConVisitID" = $1`, [fresh.ConVisitID]);
    assert.equal(row.CONFLICTID, '12');
    assert.equal(row.CRDATEUNIQUE, '2025-09-01 07:30:00');
  }));
