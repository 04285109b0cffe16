// sync.md "Matching" and "Update (matched rows)": each rule against the real PostgreSQL, with
// CVM rows and detected rows prepared for it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cvm, detected, insertCvm, one, runSync, setup, snapshot, storedFrom, uuid, type Ctx, type Values } from './helpers.js';

let ctx: Ctx;
before(async () => {
  ctx = await setup('upd');
});
after(async () => {
  await ctx.close();
});

test('sync.md Update: a clean matched row is not written at all, not even UpdatedDate', async () => {
  const d = detected();
  const id = await insertCvm(ctx, storedFrom(d, { UpdatedDate: null }));
  const before = await snapshot(ctx);
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.deepEqual(await snapshot(ctx), before);
  assert.equal((await one(ctx, id)).UpdatedDate, null);
  assert.equal(stats.matched, 1);
  assert.equal(stats.updated, 0);
  assert.equal(stats.clean, 1);
  assert.equal(stats.inserted, 0);
});

test('sync.md Update rule 1: a rule flag that is N and differs makes the row dirty; Y and NULL are kept', async () => {
  const d = detected({ SameSchTimeFlag: 'Y', DistanceFlag: 'Y', SchOverAnotherSchTimeFlag: 'Y', VisitTimeOverAnotherVisitTimeFlag: 'N' });
  // N → Y (dirty), DistanceFlag NULL kept, SchOverAnotherSchTimeFlag NULL kept, VisitTimeOver… Y never downgraded
  const id = await insertCvm(
    ctx,
    storedFrom(d, { SameSchTimeFlag: 'N', DistanceFlag: null, SchOverAnotherSchTimeFlag: null, VisitTimeOverAnotherVisitTimeFlag: 'Y', UpdateFlag: 1 }),
  );
  const { stats } = await runSync(ctx, { detected: [d] });
  const row = await one(ctx, id);
  assert.equal(stats.updated, 1);
  assert.equal(stats.updatedByFlag, 1);
  assert.equal(stats.updatedByColumn, 0);
  assert.equal(row.SameSchTimeFlag, 'Y');
  assert.equal(row.DistanceFlag, null);
  assert.equal(row.SchOverAnotherSchTimeFlag, null);
  assert.equal(row.VisitTimeOverAnotherVisitTimeFlag, 'Y');
  assert.equal(row.UpdateFlag, null);
  assert.notEqual(row.UpdatedDate, null);
});

test('sync.md Update: a Y flag is never turned back to N, and a Y/NULL difference alone is not dirty', async () => {
  const d = detected({ SameVisitTimeFlag: 'N', DistanceFlag: 'Y' });
  const id = await insertCvm(ctx, storedFrom(d, { SameVisitTimeFlag: 'Y', DistanceFlag: null }));
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.equal(stats.updated, 0);
  const row = await one(ctx, id);
  assert.equal(row.SameVisitTimeFlag, 'Y');
  assert.equal(row.DistanceFlag, null);
});

const BUSINESS_CASES: Array<[string, Values]> = [
  ['a uuid (ProviderID)', { ProviderID: uuid() }],
  ['a date (VisitDate)', { VisitDate: '2026-02-15' }],
  ['a scheduled time (SchStartTime)', { SchStartTime: '2026-02-14 08:30:00' }],
  ['an EVV time (ConEVVEndTime)', { ConEVVEndTime: '2026-02-14 12:30:00' }],
  ['a visit time (VisitStartTime, left out by the old job)', { VisitStartTime: '2026-02-14 09:15:00' }],
  ['a boolean (IsMissed)', { IsMissed: true }],
  ['a text (EVVType)', { EVVType: 'IVR' }],
  ['a text (ConFederalTaxNumber)', { ConFederalTaxNumber: '12-3456789' }],
  ['a real (PLatitude)', { PLatitude: 40.6 }],
  ['a real (DistanceMilesFromLatLng)', { DistanceMilesFromLatLng: 18.01 }],
  ['an integer (MinuteDiffBetweenSch)', { MinuteDiffBetweenSch: 15 }],
  ['an integer (ETATravelMinutes)', { ETATravelMinutes: 40 }],
  ['a NULL becoming a value (ContractType)', { ContractType: 'Medicaid' }],
];

for (const [kind, change] of BUSINESS_CASES) {
  test(`sync.md Update rule 2: a difference in ${kind} makes the row dirty and every detected column is set`, async () => {
    const d = detected({ AideName: 'New Name' });
    const id = await insertCvm(ctx, storedFrom(detected({ ...d, AideName: 'Old Name' }), {}));
    // the stored row differs from the detected one in `change` (and AideName, which alone is not compared)
    const changed = { ...d, ...change };
    const { stats } = await runSync(ctx, { detected: [changed] });
    assert.equal(stats.updated, 1, kind);
    assert.equal(stats.updatedByColumn, 1);
    assert.equal(stats.updatedByFlag, 0);
    const row = await one(ctx, id);
    assert.equal(row.AideName, 'New Name', 'a non-compared column is set too on a dirty row');
    const [col, value] = Object.entries(change)[0];
    if (typeof value === 'number') assert.ok(Math.abs(Number(row[col]) - value) < 1e-4, `${col}: ${row[col]}`);
    else assert.equal(row[col], value);
  });
}

test('sync.md Update rule 2: a difference only in a column that is not compared (AideName) leaves the row clean', async () => {
  const d = detected({ AideName: 'New Name' });
  const id = await insertCvm(ctx, storedFrom({ ...d, AideName: 'Old Name' }));
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.equal(stats.updated, 0);
  assert.equal((await one(ctx, id)).AideName, 'Old Name');
});

test('sync.md Update rule 2: values compare after casting to the column type (a real stored from the same text is equal)', async () => {
  const d = detected({ PLatitude: 40.123456789, DistanceMilesFromLatLng: 1.2345678, ETATravelMinutes: 12.5 });
  await insertCvm(ctx, storedFrom({ ...d, ETATravelMinutes: 13 }));
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.equal(stats.updated, 0, 'ETATravelMinutes 12.5 is stored as 13 (half away from zero), reals compare as reals');
});

for (const status of ['R', null] as const) {
  test(`sync.md Update rule 3: StatusFlag ${status ?? 'NULL'} is re-opened: U, ResolveDate and ResolvedBy cleared`, async () => {
    const d = detected();
    const id = await insertCvm(ctx, storedFrom(d, { StatusFlag: status, ResolveDate: '2026-02-01 10:00:00', ResolvedBy: 'someone' }));
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.updated, 1);
    assert.equal(stats.reopened, 1);
    const row = await one(ctx, id);
    assert.equal(row.StatusFlag, 'U');
    assert.equal(row.ResolveDate, null);
    assert.equal(row.ResolvedBy, null);
  });
}

for (const status of ['U', 'N', 'W', 'I', 'D']) {
  test(`sync.md Update: StatusFlag ${status} is kept on a dirty row, ResolveDate and ResolvedBy untouched`, async () => {
    const d = detected();
    const id = await insertCvm(
      ctx,
      storedFrom({ ...d, SchEndTime: '2026-02-14 10:45:00' }, { StatusFlag: status, ResolveDate: '2026-02-01 10:00:00', ResolvedBy: 'a person' }),
    );
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.updated, 1);
    assert.equal(stats.reopened, 0);
    const row = await one(ctx, id);
    assert.equal(row.StatusFlag, status);
    assert.equal(row.SchEndTime, '2026-02-14 11:00:00');
    assert.equal(row.ResolveDate, '2026-02-01 10:00:00');
    assert.equal(row.ResolvedBy, 'a person');
  });
}

test('sync.md Update: CONFLICTID, agency contacts and columns outside the detected row are never overwritten', async () => {
  const d = detected({ AgencyContact: 'New Contact', ConAgencyContact: 'New Con', AgencyPhone: '1', ConAgencyPhone: '2' });
  const id = await insertCvm(
    ctx,
    storedFrom(
      { ...d, AgencyContact: 'Kept', ConAgencyContact: 'Kept Con', AgencyPhone: '555', ConAgencyPhone: '556', VisitEndTime: '2026-02-14 11:30:00' },
      { CONFLICTID: 777, GroupID: 5, BilledRateMinute: 1.5, NoResponseFlag: undefined, FlagForReview: 'Y', CRDATEUNIQUE: '2026-01-02 00:00:00' },
    ),
  );
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.equal(stats.updated, 1);
  const row = await one(ctx, id);
  assert.equal(row.CONFLICTID, '777');
  assert.equal(row.AgencyContact, 'Kept');
  assert.equal(row.ConAgencyContact, 'Kept Con');
  assert.equal(row.AgencyPhone, '555');
  assert.equal(row.ConAgencyPhone, '556');
  assert.equal(row.GroupID, '5');
  assert.equal(row.BilledRateMinute, 1.5);
  assert.equal(row.FlagForReview, 'Y');
  assert.equal(row.CRDATEUNIQUE, '2026-01-02 00:00:00');
  assert.equal(row.CreatedDate, '2026-01-01 08:00:00');
  assert.equal(row.VisitEndTime, '2026-02-14 11:02:00');
});

test('sync.md Matching: duplicates of one key are each evaluated and updated on their own', async () => {
  const d = detected();
  const a = await insertCvm(ctx, storedFrom({ ...d, SchStartTime: '2026-02-14 07:00:00' }, { CONFLICTID: 5 }));
  const b = await insertCvm(ctx, storedFrom(d, { CONFLICTID: 5 })); // clean
  const c = await insertCvm(ctx, storedFrom(d, { CONFLICTID: 5, StatusFlag: 'R' }));
  const before = await one(ctx, b);
  const { stats } = await runSync(ctx, { detected: [d] });
  assert.equal(stats.matched, 1);
  assert.equal(stats.matchedRows, 3);
  assert.equal(stats.updated, 2);
  assert.equal(stats.clean, 1);
  assert.equal((await one(ctx, a)).SchStartTime, '2026-02-14 09:00:00');
  assert.deepEqual(await one(ctx, b), before);
  assert.equal((await one(ctx, c)).StatusFlag, 'U');
  assert.equal(stats.inserted, 0);
});

test('sync.md Matching: InService/PTO rows are never matched, never changed, and block the insert', async () => {
  for (const col of ['InserviceStartDate', 'PTOEndDate', 'ConInserviceEndDate', 'ConPTOStartDate']) {
    const d = detected({ SchStartTime: '2026-02-14 06:00:00' });
    const id = await insertCvm(ctx, storedFrom({ ...d, SchStartTime: '2026-02-14 05:00:00' }, { [col]: '2026-02-14 00:00:00', StatusFlag: 'R' }));
    const before = await one(ctx, id);
    const { stats } = await runSync(ctx, { detected: [d] });
    assert.equal(stats.matched, 0, col);
    assert.equal(stats.new, 0, col);
    assert.equal(stats.blockedByInServicePto, 1, col);
    assert.equal(stats.inserted, 0, col);
    assert.deepEqual(await one(ctx, id), before, col);
    assert.equal((await cvm(ctx, `"VisitID" = $1`, [d.VisitID])).length, 1);
  }
});

test('sync.md Update: with SKIP_UNCHANGED_RECORDS=false every matched row is written', async () => {
  const d = detected();
  const id = await insertCvm(ctx, storedFrom(d, { UpdateFlag: 3, UpdatedDate: null }));
  const { stats } = await runSync(ctx, { detected: [d], options: { skipUnchanged: false } });
  assert.equal(stats.updated, 1);
  assert.equal(stats.clean, 0);
  const row = await one(ctx, id);
  assert.notEqual(row.UpdatedDate, null);
  assert.equal(row.UpdateFlag, null);
  assert.equal(row.StatusFlag, 'U');
});

test('sync.md Update: UpdatedDate is PostgreSQL now and one statement writes all dirty rows (counts are rows changed)', async () => {
  const rows = Array.from({ length: 25 }, () => detected());
  for (const d of rows) await insertCvm(ctx, storedFrom({ ...d, VisitEndTime: '2026-02-14 11:59:00' }));
  const t0 = (await ctx.client.query(`SELECT CURRENT_TIMESTAMP::timestamp::text AS t`)).rows[0].t as string;
  const { stats } = await runSync(ctx, { detected: rows });
  assert.equal(stats.updated, 25);
  const stored = await cvm(ctx, `"VisitID" = ANY($1::uuid[])`, [rows.map((d) => d.VisitID)]);
  for (const r of stored) assert.ok(r.UpdatedDate >= t0.slice(0, 19), `${r.UpdatedDate} >= ${t0}`);
});
