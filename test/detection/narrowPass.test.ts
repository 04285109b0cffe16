// performance.md, "Work in proportion to what can conflict": Step 1's narrow pass finds the
// affected groups that hold visits of two or more providers; only their visits are widened into
// base visits (the candidate counts) and paired. The detected rows stay those of detection.md.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect, pair, provider, uid, UNCHANGED, type VisitSpec } from './warehouse.js';

const A = (n: number) => uid('a', n);
const V = (n: number) => uid('v', n);
const at = (n: number, prov: number, cg: number, more: Partial<VisitSpec> = {}): VisitSpec => ({
  id: V(n),
  caregiver: uid('c', cg),
  provider: A(prov),
  date: '2026-02-14',
  sch: ['09:00', '10:00'],
  visit: ['09:00', '10:00'],
  ...more,
});

describe('the narrow pass (performance.md)', () => {
  test('only the visits of groups with two or more providers become base visits', async () => {
    const r = await detect({
      visits: [
        at(1, 1, 1), // caregiver 1: two providers, a pair
        at(2, 2, 1, { updated: UNCHANGED }),
        at(3, 1, 2), // caregiver 2: two visits of one provider, no pair possible
        at(4, 1, 2, { updated: UNCHANGED }),
        at(5, 3, 3), // caregiver 3: alone
      ],
    });
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(V(1), V(2)), pair(V(2), V(1))].sort());
    assert.equal(r.stats.affectedGroups, 3, 'every changed group is affected (and in the stale scope)');
    assert.equal(r.stats.pairGroups, 1);
    assert.equal(r.stats.pairGroupVisits, 2);
    assert.equal(r.stats.candidatesPartA, 1, 'visits 3 and 5 are not widened');
    assert.equal(r.stats.candidatesPartB, 1, 'visit 4 is not widened');
    const step1 = r.steps.find((s) => s.name === 'Step 1 (delta_keys)');
    assert.deepEqual(
      step1?.parts?.map((p) => [p.name, p.rows]),
      [['narrow pass', 1]],
      'the narrow pass is timed as a part of Step 1',
    );
  });

  test('a second provider that cannot pair (inactive, demo, missed) does not make a group widened', async () => {
    const r = await detect({
      visits: [
        at(1, 1, 1),
        at(2, 2, 1, { updated: UNCHANGED }), // inactive provider
        at(3, 1, 2, { date: '2026-02-15' }),
        at(4, 3, 2, { date: '2026-02-15', updated: UNCHANGED }), // demo provider
        at(5, 1, 3),
        at(6, 4, 3, { updated: UNCHANGED, missed: true }),
      ],
      providers: [provider(A(1)), provider(A(2), { 'Is Active': false }), provider(A(3), { 'Is Demo': true }), provider(A(4))],
    });
    assert.equal(r.rows.length, 0);
    assert.equal(r.stats.affectedGroups, 3);
    assert.equal(r.stats.pairGroups, 0);
    assert.equal(r.stats.candidatesPartA, 0);
  });

  test('provider ids differing only in case are one provider (detection.md, "Identifiers"): their group is not widened', async () => {
    const upper = 'ABCDEF01-0000-4000-8000-00000000000A';
    const lower = upper.toLowerCase();
    const r = await detect({
      visits: [
        { ...at(1, 1, 1), provider: upper },
        { ...at(2, 1, 1, { updated: UNCHANGED }), provider: lower },
        at(3, 1, 2, { date: '2026-02-15' }),
        at(4, 2, 2, { date: '2026-02-15' }),
      ],
      providers: [provider(upper), provider(lower), provider(A(1)), provider(A(2))],
    });
    assert.equal(r.stats.affectedGroups, 2);
    assert.equal(r.stats.pairGroups, 1, 'only caregiver 2, whose visits have two providers');
    assert.equal(r.stats.pairGroupVisits, 2);
    assert.deepEqual([...r.byPair.keys()].sort(), [pair(V(3), V(4)), pair(V(4), V(3))].sort());
  });

  test('a visit is widened with all its fact rows: its chosen row stays the one of all its rows', async () => {
    const r = await detect({
      visits: [
        // Visit 1: the row chosen (Bill Rate 10 sorts first) is on the 13th, alone; its other row
        // lies in the 14th's group with visit 2. Widening only that row would pair it by mistake.
        at(1, 1, 1, { date: '2026-02-13', raw: { 'Bill Rate Non-Billed': 10, Billed: 'no' } }),
        at(1, 1, 1, { raw: { 'Bill Rate Non-Billed': 30, Billed: 'no' } }),
        at(2, 2, 1, { updated: UNCHANGED }),
        at(3, 1, 2, { raw: { 'Bill Rate Non-Billed': 30, Billed: 'no' } }), // alone, two fact rows
        at(3, 1, 2, { raw: { 'Bill Rate Non-Billed': 20, Billed: 'no' } }),
      ],
    });
    assert.equal(r.rows.length, 0);
    assert.equal(r.stats.pairGroups, 1);
    assert.equal(r.stats.candidatesPartA, 1, 'visit 1 (its chosen row on the 13th); visit 3 is not widened');
    assert.equal(r.stats.candidatesPartB, 1, 'visit 2');
    assert.equal(r.stats.duplicateSourceRowsDropped, 1);
  });

  test('delta-only mode has no narrow pass (its stale scope reads the base visits)', async () => {
    const r = await detect({ visits: [at(1, 1, 1), at(2, 1, 2)] }, { comprehensive: false });
    assert.equal(r.stats.pairGroups, undefined);
    assert.equal(r.stats.candidatesPartA, 2);
    assert.equal(r.steps.find((s) => s.name === 'Step 1 (delta_keys)')?.parts, undefined);
  });
});
