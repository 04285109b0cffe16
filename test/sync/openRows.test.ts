// The open rows taken while the warehouse computes (src/sync/openRows.ts) and their keys, sent to
// the warehouse so that the stale scope's streams bring back only what can reach an open row
// (performance.md: work in proportion to what can change; sync.md "Stale resolution": the scope
// reduced first in the warehouse, nothing in it lost). The warehouse side: test/detection/openKeys.test.ts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { packedGroup } from '../helpers/openKeys.js';
import { detected, insertCvm, one, runSync, setup, storedFrom, type Ctx, type Values } from './helpers.js';

let ctx: Ctx;
before(async () => {
  ctx = await setup('openrows');
});
after(async () => {
  await ctx.close();
});

let ssnCounter = 300000000;
const ssn = () => String(ssnCounter++);

async function stored(v: Values = {}, extra: Values = {}): Promise<{ id: number; d: Values }> {
  const d = detected({ SSN: ssn(), ...v });
  const id = await insertCvm(ctx, storedFrom(d, { CONFLICTID: 1, ...extra }));
  return { id, d };
}

test('sync.md Stale resolution: the keys sent to the warehouse are the open rows\' visit ids (both sides) and (trimmed SSN, VisitDate) groups, and nothing of closed rows', async () => {
  const s = ssn();
  const a = await stored({ SSN: ` ${s} `, VisitDate: '2026-02-14' });
  const b = await stored({ SSN: s, VisitDate: '2026-02-14', ConVisitID: a.d.ConVisitID });
  const odd = await stored({ SSN: `${ssn()},é`, VisitDate: '2026-01-05' });
  const closed = await stored({ VisitDate: '2026-01-03' }, { StatusFlag: 'W' });
  const noCid = await stored({ VisitDate: '2026-01-04' }, { CONFLICTID: null });
  const { openKeys } = await runSync(ctx, {});
  assert.ok(openKeys, 'keys were sent');
  // Repeats (a visit in several open rows) are the warehouse's to remove (test/detection/openKeys.test.ts).
  const ids = new Set(openKeys.ids);
  assert.equal(ids.size, 5, 'a and b share their ConVisitID');
  for (const r of [a, b, odd]) {
    assert.ok(ids.has(String(r.d.VisitID)) && ids.has(String(r.d.ConVisitID)), 'both sides of an open row');
  }
  for (const r of [closed, noCid]) assert.ok(!ids.has(String(r.d.VisitID)), 'no key of a row resolution may not touch');
  assert.ok(openKeys.ids.every((id) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)), 'lower-case UUID text');
  const groups = new Set(openKeys.groups);
  assert.equal(groups.size, 2, 'a and b share their group');
  assert.ok(groups.has(packedGroup(s, '2026-02-14')), 'the trimmed SSN of rows a and b, once');
  assert.ok(groups.has(packedGroup(String(odd.d.SSN), '2026-01-05')), 'an SSN with a comma and an accent travels as its hex');
  assert.ok(!groups.has(packedGroup(String(closed.d.SSN), '2026-01-03')));
});

test('sync.md Stale resolution: delta-only mode sends ids alone', async () => {
  await stored({ VisitDate: '2026-02-14' });
  const { openKeys } = await runSync(ctx, { options: { comprehensive: false } });
  assert.ok(openKeys && openKeys.ids.length > 0);
  assert.deepEqual(openKeys.groups, []);
});

test('sync.md Stale resolution: the stale rows among the groups and ids the warehouse sends back are resolved, closed rows are not', async () => {
  const s = ssn();
  const byGroup = await stored({ SSN: s, VisitDate: '2026-02-14' });
  const byId = await stored({ VisitDate: '2026-01-02' });
  const closed = await stored({ VisitDate: '2026-01-03' }, { StatusFlag: 'W' });
  const { stats, log } = await runSync(ctx, { groups: [['2026-02-14', s]], scope: [String(byId.d.ConVisitID).toUpperCase(), String(closed.d.VisitID)] });
  assert.equal(stats.staleResolved, 2);
  assert.equal(stats.affectedGroupsReceived, 1, 'the statistic counts the groups received');
  assert.equal(stats.scopeVisitIds, 2, 'the statistic counts the ids received');
  assert.equal((await one(ctx, byGroup.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, byId.id)).StatusFlag, 'R', 'an upper-case id in the stream still reaches the row');
  assert.equal((await one(ctx, closed.id)).StatusFlag, 'W');
  assert.ok(log.lines.some((l) => l.includes('Sync: affected groups: 1 groups of open rows')), log.lines.join('\n'));
});

test('sync.md Stale resolution: an open row whose SSN holds characters COPY escapes (backslash, tab) is still found by its group', async () => {
  const s = `${ssn()}\\\t`;
  const row = await stored({ SSN: s, VisitDate: '2026-02-14' });
  const { stats } = await runSync(ctx, { groups: [['2026-02-14', s]] });
  assert.equal(stats.staleResolved, 1);
  assert.equal((await one(ctx, row.id)).StatusFlag, 'R');
});

test('sync.md Stale resolution: rows are resolved as open when the run started and still open at the merge: a row closed or re-opened by a person meanwhile is left as the person set it', async () => {
  const s = ssn();
  const closedMeanwhile = await stored({ SSN: s, VisitDate: '2026-02-14' });
  const reopenedMeanwhile = await stored({ SSN: s, VisitDate: '2026-02-14' }, { StatusFlag: 'W' });
  const { stats } = await runSync(ctx, {
    groups: [['2026-02-14', s]],
    whileDetecting: async () => {
      await ctx.client.query(`UPDATE ${ctx.s}."conflictvisitmaps" SET "StatusFlag" = 'D' WHERE "ID" = $1`, [closedMeanwhile.id]);
      await ctx.client.query(`UPDATE ${ctx.s}."conflictvisitmaps" SET "StatusFlag" = 'U' WHERE "ID" = $1`, [reopenedMeanwhile.id]);
    },
  });
  assert.equal(stats.staleResolved, 0);
  assert.equal((await one(ctx, closedMeanwhile.id)).StatusFlag, 'D');
  assert.equal((await one(ctx, reopenedMeanwhile.id)).StatusFlag, 'U');
});

test('sync.md Stale resolution: with ENABLE_STALE_CLEANUP=false the open rows are not read at all', async () => {
  await stored({ VisitDate: '2026-02-14' });
  const { recorder } = await runSync(ctx, { options: { enableStaleCleanup: false } });
  assert.equal(recorder.steps.find((st) => st.name === 'Sync: open rows'), undefined);
});
