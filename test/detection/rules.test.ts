// detection.md, "Step 3: pairs and rules": rules 1–6 at their boundaries, both directions, with
// NULL and half-NULL times. Each case is one caregiver (its own group) with two visits at two
// agencies: V1 changed, V2 unchanged, so comprehensive mode evaluates (V1, V2) and (V2, V1).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { detect, flags, pair, uid, UNCHANGED, type DetectResult, type VisitSpec } from './warehouse.js';

const A1 = uid('a', 1);
const A2 = uid('a', 2);

interface Case {
  name: string;
  a: Partial<VisitSpec>;
  b: Partial<VisitSpec>;
  date?: string;
  sameProvider?: boolean;
  /** Flags of both (V1, V2) and (V2, V1), in rule order 1–7, or null: no row either way. */
  expect: string | null;
}

const sch = (s: string | null, e: string | null) => ({ sch: [s, e] as [string | null, string | null] });
const done = (s: string, e: string, scheduled: [string, string] = ['06:00', '07:00']) => ({
  sch: scheduled as [string, string],
  visit: [s, e] as [string, string],
});

const CASES: Case[] = [
  // Rule 1: both unstarted, VisitDate >= date(T), same scheduled start and end.
  { name: 'rule 1: both unstarted, equal schedule, on date(T)', a: sch('09:00', '10:00'), b: sch('09:00', '10:00'), expect: 'YNNNNNN' },
  { name: 'rule 1: equal schedule after date(T)', a: sch('09:00', '10:00'), b: sch('09:00', '10:00'), date: '2026-02-20', expect: 'YNNNNNN' },
  { name: 'rule 1: equal schedule the day before date(T): no conflict', a: sch('09:00', '10:00'), b: sch('09:00', '10:00'), date: '2026-02-13', expect: null },
  { name: 'rules 1/4: NULL scheduled start on both: comparisons with NULL are false', a: sch(null, '10:00'), b: sch(null, '10:00'), expect: null },
  { name: 'rules 1/4: NULL schedules on both', a: sch(null, null), b: sch(null, null), expect: null },
  {
    name: 'rule 1: equal schedule but V1 half started (start set, end NULL): neither unstarted nor completed',
    a: { ...sch('09:00', '10:00'), visit: ['09:00', null] },
    b: sch('09:00', '10:00'),
    expect: null,
  },
  // Rule 4: both unstarted, VisitDate >= date(T), strict overlap, not rule 1's equality.
  { name: 'rule 4: overlapping schedules', a: sch('09:00', '10:00'), b: sch('09:30', '10:30'), expect: 'NNNYNNN' },
  { name: 'rule 4: touching schedules do not overlap', a: sch('09:00', '10:00'), b: sch('10:00', '11:00'), expect: null },
  { name: 'rule 4: one schedule inside the other', a: sch('09:00', '12:00'), b: sch('10:00', '11:00'), expect: 'NNNYNNN' },
  { name: 'rule 4: same start, different end', a: sch('09:00', '10:00'), b: sch('09:00', '11:00'), expect: 'NNNYNNN' },
  { name: 'rule 4: overlap the day before date(T): no conflict', a: sch('09:00', '10:00'), b: sch('09:30', '10:30'), date: '2026-02-13', expect: null },
  { name: 'rule 4: one second of overlap', a: sch('09:00', '10:00:01'), b: sch('10:00', '11:00'), expect: 'NNNYNNN' },
  { name: 'rule 4: V2 scheduled end NULL', a: sch('09:00', '10:00'), b: sch('09:30', null), expect: null },
  // Rule 2: both completed, equal visit start and end (any date in the window).
  { name: 'rule 2: equal visit times (different schedules)', a: done('09:00', '10:00', ['08:00', '09:00']), b: done('09:00', '10:00', ['13:00', '14:00']), expect: 'NYNNNNN' },
  { name: 'rule 2: also before date(T)', a: done('09:00', '10:00'), b: done('09:00', '10:00'), date: '2026-02-10', expect: 'NYNNNNN' },
  // Rule 5: both completed, strict overlap, not rule 2's equality.
  { name: 'rule 5: overlapping visits', a: done('09:00', '10:00'), b: done('09:30', '10:30'), expect: 'NNNNYNN' },
  { name: 'rule 5: touching visits do not overlap', a: done('09:00', '10:00'), b: done('10:00', '11:00'), expect: null },
  { name: 'rule 5: one second of overlap', a: done('09:00', '10:00:01'), b: done('10:00', '11:00'), expect: 'NNNNYNN' },
  { name: 'rule 5: also before date(T)', a: done('09:00', '10:00'), b: done('09:30', '10:30'), date: '2026-02-01', expect: 'NNNNYNN' },
  {
    name: 'rule 5: V1 visit end NULL (half-NULL): not completed, no rule applies',
    a: { ...sch('06:00', '07:00'), visit: ['09:00', null] },
    b: done('09:30', '10:30'),
    expect: null,
  },
  // Rule 3: one unstarted, one completed; the unstarted one's schedule equals the other's visit.
  { name: 'rule 3: unstarted schedule equals completed visit', a: sch('09:00', '10:00'), b: done('09:00', '10:00'), expect: 'NNYNNNN' },
  { name: 'rule 3: the completed one first (V1 completed, V2 unstarted)', a: done('09:00', '10:00'), b: sch('09:00', '10:00'), expect: 'NNYNNNN' },
  { name: 'rule 3: also before date(T)', a: sch('09:00', '10:00'), b: done('09:00', '10:00'), date: '2026-02-10', expect: 'NNYNNNN' },
  {
    name: 'rule 3: a completed visit whose own schedule equals the other unstarted schedule is rule 3 by its visit times only',
    a: done('09:00', '10:00', ['09:00', '10:00']),
    b: sch('09:00', '10:00'),
    expect: 'NNYNNNN',
  },
  // Rule 6: one unstarted, one completed; strict overlap of schedule and visit, not rule 3.
  { name: 'rule 6: unstarted schedule overlaps completed visit', a: sch('09:00', '10:00'), b: done('09:30', '10:30'), expect: 'NNNNNYN' },
  { name: 'rule 6: the completed one first', a: done('09:00', '10:00'), b: sch('09:30', '10:30'), expect: 'NNNNNYN' },
  { name: 'rule 6: touching does not overlap', a: sch('09:00', '10:00'), b: done('10:00', '11:00'), expect: null },
  { name: 'rule 6: also before date(T)', a: sch('09:00', '10:00'), b: done('09:30', '10:30'), date: '2026-02-10', expect: 'NNNNNYN' },
  {
    name: 'rule 6: both completed with overlapping schedules but separate visits: no schedule rule',
    a: done('13:00', '14:00', ['09:00', '10:00']),
    b: done('15:00', '16:00', ['09:30', '10:30']),
    expect: null,
  },
  // Pairs need different providers.
  { name: 'pairs: same provider is never a pair', a: done('09:00', '10:00'), b: done('09:00', '10:00'), sameProvider: true, expect: null },
];

describe('rules 1–6 (detection.md, Step 3)', () => {
  let r: DetectResult;
  const ids = (i: number) => [uid('v', `${i}1`), uid('v', `${i}2`)];
  before(async () => {
    const visits: VisitSpec[] = [];
    CASES.forEach((c, i) => {
      const [v1, v2] = ids(i + 1);
      const cg = uid('c', i + 1);
      const date = c.date ?? '2026-02-14';
      visits.push({ id: v1, caregiver: cg, provider: A1, date, ...c.a });
      visits.push({ id: v2, caregiver: cg, provider: c.sameProvider ? A1 : A2, date, updated: UNCHANGED, ...c.b });
    });
    r = await detect({ visits });
  });

  CASES.forEach((c, i) => {
    test(c.name, () => {
      const [v1, v2] = ids(i + 1);
      const f12 = flags(r.byPair.get(pair(v1, v2)));
      const f21 = flags(r.byPair.get(pair(v2, v1)));
      assert.equal(f12 ?? null, c.expect, '(V1, V2)');
      assert.equal(f21 ?? null, c.expect, '(V2, V1): the rules are symmetric');
    });
  });

  test('at most one row per (VisitID, ConVisitID), and nothing else detected', () => {
    assert.equal(r.byPair.size, r.rows.length);
    const expected = CASES.filter((c) => c.expect !== null).length * 2;
    assert.equal(r.rows.length, expected);
  });
});
