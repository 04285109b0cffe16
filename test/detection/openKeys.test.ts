// The open rows' keys in the warehouse (src/detection/openKeys.ts): with them, the affected groups
// and scope streams bring back only the groups and ids that reach an open row (sync.md, "Stale
// resolution": the scope reduced first in the warehouse; nothing in it that reaches an open row
// lost). The sync side, which packs the keys from PostgreSQL: test/sync/openRows.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { caregiver, detect, pair, provider, uid, UNCHANGED, visitAt as at, type TestOpenKeys, type VisitSpec } from './warehouse.js';

const A = (n: number) => uid('a', n);
const V = (n: number) => uid('v', n);
const C = (n: number) => uid('c', n);
const lower = (n: number) => V(n).toLowerCase();

describe('the stale scope reduced to the open rows (sync.md "Stale resolution")', () => {
  // Caregiver 1 (SSN-1) on four dates, caregiver 2 with an SSN that holds a comma, an accent and
  // spaces around it (trimmed in the group).
  const visits: VisitSpec[] = [
    at(1, 1),
    at(2, 2, { updated: UNCHANGED }),
    at(3, 1, { date: '2026-02-15' }),
    at(4, 2, { date: '2026-02-16' }),
    { ...at(5, 1, { date: '2026-02-17' }), caregiver: C(2) },
    at(6, 1, { date: '2026-02-18', updated: UNCHANGED }),
  ];
  const caregivers = [caregiver(C(1), 'SSN-1'), caregiver(C(2), ' 12,3é ')];
  const providers = [provider(A(1)), provider(A(2))];
  const spec = { visits, caregivers, providers };
  const groupsOf = (r: { groups: unknown[][] }) => r.groups.map((g) => g.join(' ')).sort();

  test('comprehensive: only the affected groups that are an open row\'s group, and only the changed ids that are an open row\'s', async () => {
    const openKeys: TestOpenKeys = {
      // v1 changed, v2 unchanged, v5 changed; v9 is nowhere in the warehouse.
      ids: [lower(1), lower(2), lower(5), lower(9)],
      // (SSN-1, 02-15) affected; (SSN-1, 02-18) not affected (unchanged); the odd SSN's group; an SSN the warehouse does not know.
      groups: [['SSN-1', '2026-02-15'], ['SSN-1', '2026-02-18'], ['12,3é', '2026-02-17'], ['SSN-9', '2026-02-14']],
    };
    const whole = await detect(spec, { comprehensive: true });
    assert.deepEqual(groupsOf(whole), ['2026-02-14 SSN-1', '2026-02-15 SSN-1', '2026-02-16 SSN-1', '2026-02-17 12,3é']);
    const r = await detect(spec, { comprehensive: true }, { timezone: 'UTC', openKeys });
    assert.deepEqual(groupsOf(r), ['2026-02-15 SSN-1', '2026-02-17 12,3é'], 'an SSN with a comma and an accent still finds its group');
    assert.deepEqual(r.scope, [lower(1), lower(5)].sort(), 'changed and open: the upper-case Visit Id matches its lower-case key');
    assert.equal(r.stats.affectedGroups, 4, 'Step 1 still counts every affected group');
    // Detection itself does not change.
    assert.deepEqual([...r.byPair.keys()].sort(), [...whole.byPair.keys()].sort());
    assert.ok(r.byPair.has(pair(V(1), V(2))));
    const step = r.steps.find((s) => s.name === "Open rows' keys (to the warehouse)");
    assert.equal(step?.rows, 8, '4 ids and 4 groups');
  });

  test('delta only: only the changed candidate visits that are an open row\'s id', async () => {
    const r = await detect(spec, { comprehensive: false }, { timezone: 'UTC', openKeys: { ids: [lower(3), lower(2), lower(9)], groups: [] } });
    assert.deepEqual(r.scope, [lower(3)]);
  });

  test('no open rows: no groups and no ids come back (not the whole scope)', async () => {
    const r = await detect(spec, { comprehensive: true }, { timezone: 'UTC', openKeys: { ids: [], groups: [] } });
    assert.deepEqual(r.groups, []);
    assert.deepEqual(r.scope, []);
    assert.ok(r.rows.length > 0, 'detection is unchanged');
  });

  test('keys sent twice (a visit on both sides of open rows) come back once', async () => {
    const r = await detect(spec, { comprehensive: true }, { timezone: 'UTC', openKeys: { ids: [lower(1), lower(1)], groups: [['SSN-1', '2026-02-14'], ['SSN-1', '2026-02-14']] } });
    assert.deepEqual(r.scope, [lower(1)]);
    assert.deepEqual(groupsOf(r), ['2026-02-14 SSN-1']);
  });
});
