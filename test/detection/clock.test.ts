// detection.md, "The run's clock": T is the session's local time read once, or AS_OF (converted
// to the session's zone when it has an offset); every relative time comes from T.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detect, pair, uid, UNCHANGED, type VisitSpec } from './warehouse.js';

const CG = uid('c', 1);
const A = (n: number) => uid('a', n);
const V = (n: number) => uid('v', n);

// Caregiver 1, 2026-02-14: same schedule, unstarted (rule 1 needs VisitDate ≥ date(T)).
// Caregiver 2, 2026-02-10: overlapping completed visits, V3 updated 2026-02-13 10:00 (changed only
// when T − 36 h ≤ 2026-02-13 10:00, i.e. T ≤ 2026-02-14 22:00).
const visits: VisitSpec[] = [
  { id: V(1), caregiver: CG, provider: A(1), date: '2026-02-14', sch: ['09:00', '10:00'], updated: '2026-02-14 06:00:00' },
  { id: V(2), caregiver: CG, provider: A(2), date: '2026-02-14', sch: ['09:00', '10:00'], updated: UNCHANGED },
  { id: V(3), caregiver: uid('c', 2), provider: A(1), date: '2026-02-10', sch: ['09:00', '10:00'], visit: ['09:00', '10:00'], updated: '2026-02-13 10:00:00' },
  { id: V(4), caregiver: uid('c', 2), provider: A(2), date: '2026-02-10', sch: ['09:00', '10:00'], visit: ['09:30', '10:30'], updated: UNCHANGED },
];

test('AS_OF with an offset is converted to TIMEZONE: 03:00Z is 22:00 the day before in New York', async () => {
  const r = await detect({ visits }, { asOf: '2026-02-15T03:00:00Z' }, { timezone: 'America/New_York' });
  assert.equal(r.clock, '2026-02-14 22:00:00');
  assert.ok(r.byPair.has(pair(V(1), V(2))), 'rule 1 on 2026-02-14 ≥ date(T)');
  assert.ok(r.byPair.has(pair(V(3), V(4))), 'updated exactly at T − 36 h: changed');
});

test('the same AS_OF in UTC: T is 2026-02-15 03:00, the day after', async () => {
  const r = await detect({ visits }, { asOf: '2026-02-15T03:00:00Z' }, { timezone: 'UTC' });
  assert.equal(r.clock, '2026-02-15 03:00:00');
  assert.ok(!r.byPair.has(pair(V(1), V(2))), 'rule 1 on 2026-02-14 < date(T)');
  assert.ok(!r.byPair.has(pair(V(3), V(4))), 'updated 5 hours before T − 36 h: unchanged');
});

test('a naive AS_OF is T as it is, whatever the zone; fractions are kept', async () => {
  const r = await detect({ visits }, { asOf: '2026-02-14T22:00:00.250' }, { timezone: 'Asia/Tokyo' });
  assert.equal(r.clock, '2026-02-14 22:00:00.250000');
  const r2 = await detect({ visits }, { asOf: '2026-02-14' }, { timezone: 'Asia/Tokyo' });
  assert.equal(r2.clock, '2026-02-14 00:00:00', 'a date alone is midnight');
});

test('an offset with a fraction and no colon (+0530)', async () => {
  const r = await detect({ visits }, { asOf: '2026-02-15T08:30:00.5+0530' }, { timezone: 'UTC' });
  assert.equal(r.clock, '2026-02-15 03:00:00.500000');
});

test("without AS_OF, T is the session's current local time, read once", async () => {
  const before = Date.now();
  const r = await detect({ visits }, { asOf: undefined }, { timezone: 'Asia/Tokyo' });
  const t = Date.parse(`${r.clock.replace(' ', 'T')}+09:00`);
  assert.match(r.clock, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$/);
  assert.ok(t >= before - 2000 && t <= Date.now() + 2000, `${r.clock} is now in Tokyo`);
});
