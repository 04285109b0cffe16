// detection.md, "Filters shared by every step" (window, caregiver, exclusions), "Step 1"
// (changed visits, affected groups) and "Step 2" (provider joins, missed visits).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caregiver, detect, pair, provider, uid, UNCHANGED, type VisitSpec } from './warehouse.js';

const A = (n: number) => uid('a', n);
const overlap = (id: string, cg: string, prov: string, date: string, more: Partial<VisitSpec> = {}): VisitSpec => ({
  id,
  caregiver: cg,
  provider: prov,
  date,
  sch: ['09:00', '10:00'],
  visit: ['09:00', '10:00'],
  ...more,
});

/** Two overlapping completed visits (rule 2) of caregiver `n` at agencies 1 and 2; V1 changed. */
function twoVisits(n: number, date: string, a: Partial<VisitSpec> = {}, b: Partial<VisitSpec> = {}): VisitSpec[] {
  return [
    overlap(uid('v', `${n}1`), uid('c', n), A(1), date, a),
    overlap(uid('v', `${n}2`), uid('c', n), A(2), date, { updated: UNCHANGED, ...b }),
  ];
}
const both = (rows: Set<string>, n: number) => [rows.has(pair(uid('v', `${n}1`), uid('v', `${n}2`))), rows.has(pair(uid('v', `${n}2`), uid('v', `${n}1`)))];

describe('window (detection.md: date(T − LOOKBACK_YEARS) ≤ VisitDate ≤ date(T + LOOKFORWARD_DAYS), as dates)', () => {
  // T = 2026-02-14 12:00:00: the window is 2024-02-14 … 2026-03-31 with the defaults (2 years, 45 days).
  const dates: Array<[string, boolean]> = [
    ['2024-02-13', false],
    ['2024-02-14', true], // midnight, before T − 2 years as a timestamp, inside as a date
    ['2026-03-31', true],
    ['2026-03-31 23:59:00', true],
    ['2026-04-01', false],
  ];
  for (const type of ['TIMESTAMP', 'DATE'] as const) {
    test(`window edges, Visit Date stored as ${type}`, async () => {
      const usable = type === 'DATE' ? dates.filter(([d]) => d.length === 10) : dates;
      const r = await detect({ visits: usable.flatMap(([d], i) => twoVisits(i + 1, d)), visitDateType: type });
      const rows = new Set(r.byPair.keys());
      usable.forEach(([d, inside], i) => assert.deepEqual(both(rows, i + 1), [inside, inside], d));
      assert.equal(r.stats.affectedGroups, usable.filter(([, inside]) => inside).length, 'affected groups inside the window only');
    });
  }
  test('LOOKBACK_YEARS from Feb 29: date(T − 2 years) is Feb 28', async () => {
    const r = await detect(
      { visits: [...twoVisits(1, '2022-02-28', { updated: '2024-02-29 06:00:00' }), ...twoVisits(2, '2022-02-27', { updated: '2024-02-29 06:00:00' })] },
      { asOf: '2024-02-29 12:00:00' },
    );
    const rows = new Set(r.byPair.keys());
    assert.deepEqual(both(rows, 1), [true, true]);
    assert.deepEqual(both(rows, 2), [false, false]);
  });
  test('LOOKFORWARD_DAYS = 0: date(T) is the last day', async () => {
    const r = await detect({ visits: [...twoVisits(1, '2026-02-14'), ...twoVisits(2, '2026-02-15')] }, { lookforwardDays: 0 });
    const rows = new Set(r.byPair.keys());
    assert.deepEqual(both(rows, 1), [true, true]);
    assert.deepEqual(both(rows, 2), [false, false]);
  });
});

describe('caregiver and exclusions (detection.md, "Filters shared by every step")', () => {
  test('caregiver SSN blank, NULL, or no caregiver row: not a visit of any group', async () => {
    const visits = [...twoVisits(1, '2026-02-14'), ...twoVisits(2, '2026-02-14'), ...twoVisits(3, '2026-02-14'), ...twoVisits(4, '2026-02-14')];
    const r = await detect({
      visits,
      caregivers: [caregiver(uid('c', 1), '   '), caregiver(uid('c', 2), null), caregiver(uid('c', 4), ' 111-22-3333 ')],
    });
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(uid('v', 41), uid('v', 42)), pair(uid('v', 42), uid('v', 41))].sort());
    assert.deepEqual(r.groups, [['2026-02-14', '111-22-3333']], 'the SSN is trimmed');
    assert.equal(r.rows[0].SSN, '111-22-3333');
    assert.equal(r.rows[0].AideSSN, '111-22-3333');
  });

  test('excluded provider (ids compared lower-cased): its visits are in no step', async () => {
    const cg = uid('c', 1);
    const visits = [
      overlap(uid('v', 1), cg, A(1), '2026-02-14'),
      overlap(uid('v', 2), cg, A(2), '2026-02-14'),
      overlap(uid('v', 3), cg, A(3), '2026-02-14', { updated: UNCHANGED }),
      // A caregiver whose only changed visit is at the excluded provider: no affected group.
      overlap(uid('v', 4), uid('c', 2), A(1), '2026-02-14'),
      overlap(uid('v', 5), uid('c', 2), A(2), '2026-02-14', { updated: UNCHANGED }),
    ];
    const r = await detect({ visits }, { excludedProviders: [A(1).toLowerCase()] });
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(uid('v', 2), uid('v', 3)), pair(uid('v', 3), uid('v', 2))].sort());
    assert.equal(r.stats.affectedGroups, 1, "caregiver 2's only changed visit is excluded");
    assert.equal(r.stats.changedVisits, 1);
  });

  test('excluded SSN: trimmed on both sides, travels as data', async () => {
    const visits = [...twoVisits(1, '2026-02-14'), ...twoVisits(2, '2026-02-14')];
    const r = await detect(
      { visits, caregivers: [caregiver(uid('c', 1), ' 123-45-6789 '), caregiver(uid('c', 2), "O'Brien")] },
      { excludedSsns: ['  123-45-6789', "O'Brien "] },
    );
    assert.equal(r.rows.length, 0);
    assert.equal(r.stats.affectedGroups, 0);
    const kept = await detect({ visits, caregivers: [caregiver(uid('c', 1), ' 123-45-6789 '), caregiver(uid('c', 2), "O'Brien")] }, { excludedSsns: ['123-45-6780'] });
    assert.equal(kept.rows.length, 4, 'control: the same visits without the exclusion');
  });
});

describe('changed visits and affected groups (detection.md, "Step 1")', () => {
  test('Visit Updated Timestamp ≥ T − LOOKBACK_HOURS, no upper bound; NULL is not changed', async () => {
    // T = 2026-02-14 12:00:00, LOOKBACK_HOURS = 36: changed from 2026-02-13 00:00:00.
    const stamps: Array<[string | null, boolean]> = [
      ['2026-02-13 00:00:00', true],
      ['2026-02-12 23:59:59.999999', false],
      ['2026-03-01 00:00:00', true],
      [null, false],
    ];
    const visits = stamps.flatMap(([u], i) => twoVisits(i + 1, '2026-02-14', { updated: u }));
    const r = await detect({ visits });
    const rows = new Set(r.byPair.keys());
    stamps.forEach(([u, changed], i) => assert.deepEqual(both(rows, i + 1), [changed, changed], String(u)));
    assert.equal(r.stats.changedVisits, 2);
    assert.equal(r.stats.affectedGroups, 2);
    assert.equal(r.stats.affectedSsns, 2);
    assert.equal(r.stats.affectedDates, 1);
  });

  test('Changed visits counts the changed fact rows of each affected group; a caregiver row repeated with the same trimmed SSN counts once', async () => {
    const cg = uid('c', 1);
    const visits = [
      overlap(uid('v', 1), cg, A(1), '2026-02-14'),
      overlap(uid('v', 1), cg, A(1), '2026-02-14'), // the same visit's second fact row
      overlap(uid('v', 2), cg, A(2), '2026-02-14', { updated: UNCHANGED }),
      overlap(uid('v', 3), uid('c', 2), A(1), '2026-02-15'), // a caregiver with two SSNs: two groups
    ];
    const caregivers = [caregiver(cg, '111-22-3333'), caregiver(cg, ' 111-22-3333 '), caregiver(uid('c', 2), 'SSN-X'), caregiver(uid('c', 2), 'SSN-Y')];
    const r = await detect({ visits, caregivers });
    assert.equal(r.stats.affectedGroups, 3);
    assert.equal(r.stats.changedVisits, 4, "visit 1's two fact rows, visit 3 in each of its groups; the repeated caregiver row adds none");
    assert.equal(r.stats.pairGroups, 1);
    assert.equal(r.stats.pairGroupVisits, 3, 'the fact rows of the group of two providers, each once');
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(uid('v', 1), uid('v', 2)), pair(uid('v', 2), uid('v', 1))].sort());
  });

  test('a changed visit at an inactive or demo provider still makes its group affected (its group pairs are evaluated)', async () => {
    const cg = uid('c', 1);
    const visits = [
      overlap(uid('v', 1), cg, A(1), '2026-02-14'), // changed, inactive provider
      overlap(uid('v', 2), cg, A(2), '2026-02-14', { updated: UNCHANGED }),
      overlap(uid('v', 3), cg, A(3), '2026-02-14', { updated: UNCHANGED }),
      overlap(uid('v', 4), uid('c', 2), A(4), '2026-02-15'), // changed, demo provider
      overlap(uid('v', 5), uid('c', 2), A(2), '2026-02-15', { updated: UNCHANGED }),
      overlap(uid('v', 6), uid('c', 2), A(3), '2026-02-15', { updated: UNCHANGED }),
    ];
    const providers = [provider(A(1), { 'Is Active': false }), provider(A(2)), provider(A(3)), provider(A(4), { 'Is Demo': true })];
    const r = await detect({ visits, providers });
    assert.equal(r.stats.affectedGroups, 2);
    assert.deepEqual(
      [...r.byPair.keys()].sort(),
      [pair(uid('v', 2), uid('v', 3)), pair(uid('v', 3), uid('v', 2)), pair(uid('v', 5), uid('v', 6)), pair(uid('v', 6), uid('v', 5))].sort(),
    );
    assert.equal(r.stats.candidatesPartA, 0, 'the changed visits are not base visits');
    assert.equal(r.stats.candidatesPartB, 4);
  });

  test('missed visits are never candidates but make their group affected (detection.md, Step 2)', async () => {
    const cg = uid('c', 1);
    const visits = [
      overlap(uid('v', 1), cg, A(1), '2026-02-14', { missed: true }),
      overlap(uid('v', 2), cg, A(2), '2026-02-14', { updated: UNCHANGED }),
      overlap(uid('v', 3), cg, A(3), '2026-02-14', { updated: UNCHANGED }),
    ];
    const r = await detect({ visits });
    assert.equal(r.stats.affectedGroups, 1);
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(uid('v', 2), uid('v', 3)), pair(uid('v', 3), uid('v', 2))].sort());
    assert.equal(r.rows[0].IsMissed, false);
    assert.equal(r.stats.candidatesPartA, 0);
  });

  test('groups of unchanged visits only are not evaluated', async () => {
    const r = await detect({ visits: twoVisits(1, '2026-02-14', { updated: UNCHANGED }) });
    assert.equal(r.rows.length, 0);
    assert.equal(r.stats.affectedGroups, 0);
  });
});
