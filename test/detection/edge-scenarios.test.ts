// detection.md on the generator's hand-made edge scenarios (src/generate/edge-cases.ts): each
// scenario states its expected outcome in words ("conflict: <flag>…", "none: …", "not detected:
// …"); this runs the real detection over a generated warehouse and compares every scenario with
// what it states, one subtest per scenario, named by it.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { edgeScenarios, generateWarehouse, PLACEHOLDER_SSNS, type EdgeScenario } from '../../src/generate/generate.js';
import { detectFile, flags, RULE_FLAGS, tempDir, type DetectResult } from './warehouse.js';

// The run instant and the session's zone, both explicit: the scenarios' dates and update times
// are relative to AS_OF, and a naive AS_OF is T as it stands in any zone (detection.md "The run's clock").
const AS_OF = '2026-02-15 06:30:00';
const TIMEZONE = 'America/New_York';

/** A scenario's expected outcome, read from its words. */
type Outcome =
  /** One row per ordered pair of its visits, each with exactly this flag Y. */
  | { kind: 'conflict'; flag: string; rows?: number }
  /** No row; `affected`: the group must still be affected. */
  | { kind: 'none'; affected: boolean }
  /** No row, and the group is not affected. */
  | { kind: 'not detected' }
  /** No row while `excluded_ssn` lists `ssn`; without it, a conflict with `flag`. */
  | { kind: 'excluded'; ssn: string; flag: string };

function ruleFlag(name: string, scenario: string): string {
  if (!RULE_FLAGS.includes(name)) throw new Error(`scenario ${scenario}: '${name}' is not a rule flag`);
  return name;
}

/** Reads the expectation; words it cannot read fail the scenario's test (a new wording needs a case here). */
function outcome(s: EdgeScenario): Outcome {
  let m = /^conflict: (\w+)(?:, (\d+) ordered rows)?/.exec(s.expect);
  if (m) return { kind: 'conflict', flag: ruleFlag(m[1]!, s.name), ...(m[2] ? { rows: Number(m[2]) } : {}) };
  m = /^none when excluded_ssn lists (\S+) \(else (\w+)\)$/.exec(s.expect);
  if (m) return { kind: 'excluded', ssn: m[1]!, flag: ruleFlag(m[2]!, s.name) };
  if (s.expect.startsWith('none: ')) return { kind: 'none', affected: s.expect.includes('the group is still affected') };
  if (s.expect.startsWith('not detected: ')) return { kind: 'not detected' };
  throw new Error(`scenario ${s.name}: cannot read the expected outcome '${s.expect}'`);
}

/** The detected rows that name a visit of the scenario, as `VisitID>ConVisitID` keys with their flags. */
function rowsOf(r: DetectResult, s: EdgeScenario): Map<string, string> {
  const ids = new Set(s.visitIds);
  const out = new Map<string, string>();
  for (const row of r.rows) {
    if (ids.has(String(row.VisitID)) || ids.has(String(row.ConVisitID))) out.set(`${String(row.VisitID)}>${String(row.ConVisitID)}`, flags(row)!);
  }
  return out;
}

function affected(r: DetectResult, s: EdgeScenario): boolean {
  return r.groups.some(([date, ssn]) => String(date).slice(0, 10) === s.visitDate && ssn === s.ssn);
}

function assertConflict(r: DetectResult, s: EdgeScenario, flag: string, rows?: number): void {
  // every ordered pair of the scenario's visits, both directions, and nothing else
  const expected = s.visitIds.flatMap((v1) => s.visitIds.filter((v2) => v2 !== v1).map((v2) => `${v1}>${v2}`)).sort();
  if (rows !== undefined) assert.equal(expected.length, rows, `the scenario's ${s.visitIds.length} visits make ${rows} ordered pairs`);
  const found = rowsOf(r, s);
  assert.deepEqual([...found.keys()].sort(), expected, `detected pairs of ${s.name}`);
  const only = RULE_FLAGS.map((f) => (f === flag ? 'Y' : 'N')).join('');
  for (const [key, got] of found) assert.equal(got, only, `flags of ${key} (rule order 1–7): only ${flag}`);
  assert.ok(affected(r, s), `the group (${s.visitDate}, ${s.ssn}) is affected`);
}

function assertNoRow(r: DetectResult, s: EdgeScenario): void {
  assert.deepEqual([...rowsOf(r, s).keys()], [], `no detected row names a visit of ${s.name}`);
}

const scenarios = edgeScenarios(AS_OF);

describe('generator edge scenarios: detection finds what each one expects (small profile, default settings)', () => {
  // One warehouse, two runs: with the placeholder SSNs in excluded_ssn (as the generator says a
  // run should list them), and with no excluded SSN (for the scenarios about that list).
  let listed: DetectResult;
  let unlisted: DetectResult;
  before(async () => {
    const path = join(tempDir(), 'edge-scenarios.duckdb');
    await generateWarehouse({ profile: 'small', seed: 13, out: path, asOf: AS_OF });
    const opts = { timezone: TIMEZONE };
    listed = await detectFile(path, { asOf: AS_OF, excludedSsns: [...PLACEHOLDER_SSNS] }, opts);
    unlisted = await detectFile(path, { asOf: AS_OF, excludedSsns: [] }, opts);
  });

  test('the scenarios have distinct names and every kind of outcome', () => {
    assert.ok(scenarios.length >= 40, `${scenarios.length} scenarios`);
    assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length);
    assert.equal(listed.clock.slice(0, 19).replace('T', ' '), AS_OF, 'T is AS_OF');
    assert.equal(RULE_FLAGS.length, 7, 'seven rule flags');
    const kinds = new Set(scenarios.map((s) => outcome(s).kind));
    assert.deepEqual([...kinds].sort(), ['conflict', 'excluded', 'none', 'not detected']);
  });

  for (const s of scenarios) {
    test(s.name, () => {
      const o = outcome(s);
      switch (o.kind) {
        case 'conflict':
          assertConflict(listed, s, o.flag, o.rows);
          break;
        case 'none':
          assertNoRow(listed, s);
          if (o.affected) assert.ok(affected(listed, s), `the group (${s.visitDate}, ${s.ssn}) is still affected`);
          break;
        case 'not detected':
          assertNoRow(listed, s);
          assert.ok(!affected(listed, s), `the group (${s.visitDate}, ${s.ssn}) is not affected`);
          break;
        case 'excluded':
          assert.equal(s.ssn, o.ssn, 'the scenario is about the SSN its caregiver holds');
          assert.ok(PLACEHOLDER_SSNS.some((p) => p === o.ssn), `${o.ssn} is one of the placeholder SSNs the run lists`);
          assertNoRow(listed, s);
          assert.ok(!affected(listed, s), 'an excluded SSN makes no affected group');
          assertConflict(unlisted, s, o.flag);
          break;
      }
    });
  }
});
