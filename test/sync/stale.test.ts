// sync.md "Stale resolution" and "Exclusions resolve too": the scope of each mode, the values a
// resolved row gets, what is never resolved, and ENABLE_STALE_CLEANUP.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { detected, insertCvm, one, runSync, setup, storedFrom, uuid, type Ctx, type Values } from './helpers.js';

let ctx: Ctx;
before(async () => {
  ctx = await setup('stale');
});
after(async () => {
  await ctx.close();
});

let ssnCounter = 100000000;
function ssn(): string {
  return String(ssnCounter++);
}

/** A stored open row (CONFLICTID set) for caregiver `s` on `date`. */
async function stored(v: Values = {}, extra: Values = {}): Promise<{ id: number; d: Values }> {
  const d = detected({ SSN: ssn(), ...v });
  const id = await insertCvm(ctx, storedFrom(d, { CONFLICTID: 1, ...extra }));
  return { id, d };
}

test('sync.md Stale resolution (comprehensive): rows of an affected group (trimmed SSN + VisitDate) not detected again are resolved', async () => {
  const s = ssn();
  const stale = await stored({ SSN: ` ${s} `, VisitDate: '2026-02-14' });
  const otherDate = await stored({ SSN: s, VisitDate: '2026-02-13' });
  const otherSsn = await stored({ VisitDate: '2026-02-14' });
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]] });
  assert.equal(stats.staleResolved, 1);
  assert.equal((await one(ctx, stale.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, otherDate.id)).StatusFlag, 'U');
  assert.equal((await one(ctx, otherSsn.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: StatusFlag R, UpdatedDate now, ResolveDate kept or now, ResolvedBy kept, else ConAgencyContact, else ConProviderName; UpdateFlag unchanged', async () => {
  const s = ssn();
  const a = await stored({ SSN: s, ConAgencyContact: 'Con Contact', ConProviderName: 'Con Agency' }, { ResolveDate: '2026-01-01 00:00:00', ResolvedBy: 'Earlier', UpdateFlag: 4 });
  const b = await stored({ SSN: s, ConAgencyContact: 'Con Contact', ConProviderName: 'Con Agency' }, { StatusFlag: 'N', UpdateFlag: 2 });
  const c = await stored({ SSN: s, ConAgencyContact: null, ConProviderName: 'Con Agency' }, { StatusFlag: null });
  const beforeA = await one(ctx, a.id);
  const t0 = (await ctx.client.query(`SELECT now()::timestamp::text AS t`)).rows[0].t as string;
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]] });
  assert.equal(stats.staleResolved, 3);
  const ra = await one(ctx, a.id);
  assert.equal(ra.StatusFlag, 'R');
  assert.equal(ra.ResolveDate, '2026-01-01 00:00:00');
  assert.equal(ra.ResolvedBy, 'Earlier');
  assert.equal(ra.UpdateFlag, 4);
  assert.ok(ra.UpdatedDate >= t0.slice(0, 19));
  assert.deepEqual({ ...ra, StatusFlag: null, UpdatedDate: null }, { ...beforeA, StatusFlag: null, UpdatedDate: null }, 'nothing else changes');
  const rb = await one(ctx, b.id);
  assert.equal(rb.StatusFlag, 'R');
  assert.ok(rb.ResolveDate >= t0.slice(0, 19));
  assert.equal(rb.ResolvedBy, 'Con Contact');
  assert.equal(rb.UpdateFlag, 2);
  const rc = await one(ctx, c.id);
  assert.equal(rc.StatusFlag, 'R');
  assert.equal(rc.ResolvedBy, 'Con Agency');
});

test('sync.md Stale resolution: R, W, I, D rows, InService/PTO rows and rows without CONFLICTID are never resolved', async () => {
  const s = ssn();
  const kept: number[] = [];
  for (const status of ['R', 'W', 'I', 'D']) kept.push((await stored({ SSN: s }, { StatusFlag: status })).id);
  kept.push((await stored({ SSN: s }, { ConPTOEndDate: '2026-02-14 00:00:00' })).id);
  kept.push((await stored({ SSN: s }, { InserviceStartDate: '2026-02-14 00:00:00' })).id);
  kept.push((await stored({ SSN: s }, { CONFLICTID: null })).id);
  const snap = await Promise.all(kept.map((id) => one(ctx, id)));
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]] });
  assert.equal(stats.staleResolved, 0);
  assert.deepEqual(await Promise.all(kept.map((id) => one(ctx, id))), snap);
});

test('sync.md Stale resolution: rows this run detected are not stale (they are updated or left clean)', async () => {
  const s = ssn();
  const live = await stored({ SSN: s });
  const gone = await stored({ SSN: s });
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]], detected: [live.d] });
  assert.equal(stats.staleResolved, 1);
  assert.equal((await one(ctx, live.id)).StatusFlag, 'U');
  assert.equal((await one(ctx, gone.id)).StatusFlag, 'R');
});

test('sync.md Stale resolution (comprehensive): rows whose VisitID or ConVisitID is a scope visit id are resolved, whatever their group', async () => {
  const moved = uuid();
  const asVisit = await stored({ VisitID: moved, VisitDate: '2026-01-02' });
  const asCon = await stored({ ConVisitID: moved, VisitDate: '2026-01-03' });
  const unrelated = await stored({ VisitDate: '2026-01-02' });
  const { stats } = await runSync(ctx, { scope: [moved] });
  assert.equal(stats.staleResolved, 2);
  assert.equal((await one(ctx, asVisit.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, asCon.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, unrelated.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution (delta-only): only rows whose VisitID and ConVisitID are both changed candidates; groups do not widen it', async () => {
  const s = ssn();
  const a = uuid();
  const b = uuid();
  const both = await stored({ SSN: s, VisitID: a, ConVisitID: b });
  const oneSide = await stored({ SSN: s, VisitID: a });
  const sameGroup = await stored({ SSN: s });
  const { stats } = await runSync(ctx, { scope: [a, b], groups: [['2026-02-14', s]], options: { comprehensive: false } });
  assert.equal(stats.staleResolved, 1);
  assert.equal((await one(ctx, both.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, oneSide.id)).StatusFlag, 'U');
  assert.equal((await one(ctx, sameGroup.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: rows outside the scope are never resolved, even when not detected', async () => {
  const outside = await stored();
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', ssn()]], scope: [uuid()] });
  assert.equal(stats.staleResolved, 0);
  assert.equal((await one(ctx, outside.id)).StatusFlag, 'U');
});

test('sync.md Invalid rows: a rejected detected row counts as detected: its stored row is neither updated nor resolved', async () => {
  const s = ssn();
  const row = await stored({ SSN: s, SchStartTime: '2026-02-14 07:00:00' });
  const before = await one(ctx, row.id);
  const bad = { ...row.d, SchStartTime: '2026-02-14 09:00:00', ProviderName: 'x'.repeat(101) };
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]], detected: [bad] });
  assert.equal(stats.rejected, 1);
  assert.equal(stats.updated, 0);
  assert.equal(stats.staleResolved, 0);
  assert.deepEqual(await one(ctx, row.id), before);
});

test('sync.md Exclusions resolve too: open rows of an excluded SSN (trimmed) or agency (either side) are resolved whatever the scope; detected rows are exempt', async () => {
  const exSsn = ssn();
  const exAgency = uuid();
  await ctx.client.query(`INSERT INTO ${ctx.s}."excluded_ssn" ("SSN") VALUES ($1), ('   ')`, [` ${exSsn}  `]);
  await ctx.client.query(`INSERT INTO ${ctx.s}."excluded_agency" ("ProviderID") VALUES ($1), (NULL)`, [exAgency]);
  try {
    const bySsn = await stored({ SSN: `${exSsn} ` }, { StatusFlag: 'N' });
    const byProvider = await stored({ ProviderID: exAgency });
    const byConProvider = await stored({ ConProviderID: exAgency }, { StatusFlag: null });
    const whitelisted = await stored({ ProviderID: exAgency }, { StatusFlag: 'W' });
    const inService = await stored({ SSN: exSsn }, { PTOStartDate: '2026-02-01 00:00:00' });
    const detectedRow = await stored({ SSN: exSsn });
    const clean = await stored();
    const { stats } = await runSync(ctx, { detected: [detectedRow.d] });
    assert.equal(stats.exclusionResolved, 3);
    assert.equal(stats.staleResolved, 0);
    for (const r of [bySsn, byProvider, byConProvider]) assert.equal((await one(ctx, r.id)).StatusFlag, 'R');
    assert.equal((await one(ctx, whitelisted.id)).StatusFlag, 'W');
    assert.equal((await one(ctx, inService.id)).StatusFlag, 'U');
    assert.equal((await one(ctx, detectedRow.id)).StatusFlag, 'U');
    assert.equal((await one(ctx, clean.id)).StatusFlag, 'U');
    assert.equal((await one(ctx, byProvider.id)).ResolvedBy, 'Contact Two');
  } finally {
    await ctx.client.query(`DELETE FROM ${ctx.s}."excluded_ssn"; DELETE FROM ${ctx.s}."excluded_agency"`);
  }
});

test('sync.md Stale resolution: ENABLE_STALE_CLEANUP=false resolves nothing (neither stale nor excluded)', async () => {
  const s = ssn();
  const row = await stored({ SSN: s });
  await ctx.client.query(`INSERT INTO ${ctx.s}."excluded_ssn" ("SSN") VALUES ($1)`, [s]);
  try {
    const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]], options: { enableStaleCleanup: false } });
    assert.equal(stats.staleResolved, 0);
    assert.equal(stats.exclusionResolved, 0);
    assert.equal((await one(ctx, row.id)).StatusFlag, 'U');
  } finally {
    await ctx.client.query(`DELETE FROM ${ctx.s}."excluded_ssn"`);
  }
});

test('sync.md Stale resolution: affected groups arriving unordered and in many lines resolve the same rows', async () => {
  const s1 = ssn();
  const s2 = ssn();
  const rows = [
    await stored({ SSN: s1, VisitDate: '2026-02-10' }),
    await stored({ SSN: s2, VisitDate: '2026-02-11' }),
    await stored({ SSN: s1, VisitDate: '2026-02-12' }),
  ];
  const keep = await stored({ SSN: s1, VisitDate: '2026-02-11' });
  const { stats } = await runSync(ctx, {
    groups: [['2026-02-10', s1], ['2026-02-11', s2], ['2026-02-12', s1], ['2026-02-12', s1]],
  });
  assert.equal(stats.staleResolved, 3);
  assert.equal(stats.affectedGroupsReceived, 4);
  for (const r of rows) assert.equal((await one(ctx, r.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, keep.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: the packed groups stream: an SSN split over several rows, dates in any order, all resolve', async () => {
  const s1 = ssn();
  const a = await stored({ SSN: s1, VisitDate: '2026-02-10' });
  const b = await stored({ SSN: s1, VisitDate: '2026-02-12' });
  const keep = await stored({ SSN: s1, VisitDate: '2026-02-11' });
  const { stats } = await runSync(ctx, { packedGroups: [[s1, '2026-02-12'], [null, '2026-02-11'], [s1, '2026-02-13,2026-02-10']] });
  assert.equal(stats.staleResolved, 2);
  assert.equal(stats.affectedGroupsReceived, 3, 'dates of rows with an SSN, counted one by one');
  for (const r of [a, b]) assert.equal((await one(ctx, r.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, keep.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: an affected-groups row with a malformed date list fails the run by name, nothing resolved', async () => {
  const s1 = ssn();
  const a = await stored({ SSN: s1, VisitDate: '2026-02-10' });
  await assert.rejects(runSync(ctx, { packedGroups: [[s1, '2026-02-10,14/02/2026']] }), /affected groups .*invalid VisitDate list: 2026-02-10,14\/02\/2026/);
  assert.equal((await one(ctx, a.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: scope ids that are not UUIDs are left out of a packed row (warned), the valid ones of that row still count', async () => {
  const moved = uuid();
  const stale = await stored({ SSN: ssn(), VisitID: moved });
  const { stats, log } = await runSync(ctx, { packedScope: [[`${uuid()},not-a-uuid,${moved}`], [uuid()]] });
  assert.equal(stats.scopeVisitIds, 3);
  assert.equal(stats.staleResolved, 1);
  assert.equal((await one(ctx, stale.id)).StatusFlag, 'R');
  assert.ok(log.lines.some((l) => l.includes('1 ids that are not UUIDs left out')), log.lines.join('\n'));
});
