// The open rows taken while the warehouse computes (src/sync/openRows.ts) and the key filter that
// keeps only the stale scope's groups and ids that can reach one of them (performance.md: the job
// does work in proportion to what can change; sync.md "Stale resolution": nothing in scope lost).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { KeyFilter } from '../../src/sync/keyFilter.js';
import { detected, insertCvm, one, runSync, setup, storedFrom, uuid, type Ctx, type Values } from './helpers.js';

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

test('KeyFilter: every key added is found (no false negatives), and few keys never added are', () => {
  const f = new KeyFilter(30_000);
  const ids = Array.from({ length: 10_000 }, () => randomUUID());
  const groups = Array.from({ length: 10_000 }, (_, i) => [String(100000000 + i), `2026-02-${String(1 + (i % 28)).padStart(2, '0')}`] as const);
  for (const id of ids) f.addId(id);
  for (const [s, d] of groups) f.addGroup(s, d);
  assert.ok(ids.every((id) => f.hasId(id)));
  assert.ok(groups.every(([s, d]) => f.hasGroup(s, d)));
  // Inside a packed list, by offsets, as the streams read them.
  const packed = ids.slice(0, 3).join(',');
  assert.ok(f.hasId(packed, 37, 73));
  assert.ok(f.hasGroup(groups[5][0], `2026-01-01,${groups[5][1]}`, 11, 21));
  let falsePositives = 0;
  for (let i = 0; i < 100_000; i++) if (f.hasId(randomUUID())) falsePositives++;
  for (let i = 0; i < 10_000; i++) if (f.hasGroup(String(200000000 + i), '2026-02-01')) falsePositives++;
  assert.ok(falsePositives < 110, `${falsePositives} false positives in 110,000 keys never added`);
  // Freed once the streams are filtered: a use after that is a bug, not a silent "no".
  f.release();
  assert.equal(f.bytes, 0);
  assert.throws(() => f.hasId(ids[0]), /after release/);
});

test('sync.md Stale resolution: of a large scope only the ids and groups of open rows are stored, and the stale rows among them are resolved', async () => {
  const s = ssn();
  const byGroup = await stored({ SSN: s, VisitDate: '2026-02-14' });
  const byId = await stored({ VisitDate: '2026-01-02' });
  const closed = await stored({ VisitDate: '2026-01-03' }, { StatusFlag: 'W' });
  const noise = Array.from({ length: 998 }, () => uuid());
  const groups: Array<[string, string]> = [['2026-02-14', s], ...Array.from({ length: 500 }, (_, i) => ['2026-02-13', String(400000000 + i)] as [string, string])];
  const { stats, log } = await runSync(ctx, { groups, scope: [...noise.slice(0, 500), String(byId.d.ConVisitID).toUpperCase(), String(closed.d.VisitID), ...noise.slice(500)] });
  assert.equal(stats.staleResolved, 2);
  assert.equal(stats.affectedGroupsReceived, 501, 'the statistic counts the groups received');
  assert.equal(stats.scopeVisitIds, 1000, 'the statistic counts the ids received');
  assert.equal((await one(ctx, byGroup.id)).StatusFlag, 'R');
  assert.equal((await one(ctx, byId.id)).StatusFlag, 'R', 'an upper-case id in the stream still reaches the row');
  assert.equal((await one(ctx, closed.id)).StatusFlag, 'W');
  const kept = (what: string) => Number(/: ([\d,]+) of/.exec(log.lines.find((l) => l.includes(`Sync: ${what}:`)) ?? '')?.[1]?.replaceAll(',', ''));
  assert.ok(kept('scope visits') >= 1 && kept('scope visits') <= 3, `scope ids stored: ${kept('scope visits')} of 1,000`);
  assert.ok(kept('affected groups') >= 1 && kept('affected groups') <= 3, `groups stored: ${kept('affected groups')} of 501`);
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
