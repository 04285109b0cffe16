// detection.md, "Trimming": trimmed means leading and trailing spaces (U+0020) removed, nothing
// else; tabs, newlines and no-break spaces (U+00A0) stay, in the warehouse SQL of both dialects,
// in PostgreSQL (reference data) and in the program. Space-padded SSNs, excluded SSNs, states and
// zip codes group, exclude and compare as their trimmed selves; the others stay distinct.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { detectionStatements, type PlanParams } from '../../src/detection/detection.js';
import { sqlDialect } from '../../src/detection/dialect/index.js';
import { createLogger } from '../../src/log.js';
import { readReferenceData } from '../../src/target/referenceData.js';
import { initDb } from '../../src/target/initDb.js';
import { trimSpaces } from '../../src/trimming.js';
import { dropSchema, testClient, uniqueSchema } from '../helpers/pg.js';
import { address, caregiver, detect, flags, pair, params, patient, provider, uid, UNCHANGED, type DetectResult, type Row, type VisitSpec } from './warehouse.js';

const TAB = '\t';
const NL = '\n';
const NBSP = '\u00a0';
const DATE = '2026-02-14';

/** Pair n: two completed overlapping visits (rule 5) at two agencies; V1 changed, V2 not. */
function pairOf(n: number, cg1: string, cg2: string, a: Partial<VisitSpec> = {}, b: Partial<VisitSpec> = {}): VisitSpec[] {
  return [
    { id: uid('v', `${n}1`), caregiver: cg1, provider: uid('a', n * 2 + 1), date: DATE, sch: ['09:00', '10:00'], visit: ['09:00', '10:00'], ...a },
    { id: uid('v', `${n}2`), caregiver: cg2, provider: uid('a', n * 2 + 2), date: DATE, sch: ['09:00', '10:00'], visit: ['09:30', '10:30'], updated: UNCHANGED, ...b },
  ];
}

/** Whether pair n was detected, in both directions. */
function detected(r: DetectResult, n: number): [boolean, boolean] {
  const [v1, v2] = [uid('v', `${n}1`), uid('v', `${n}2`)];
  return [r.byPair.has(pair(v1, v2)), r.byPair.has(pair(v2, v1))];
}

describe('trimSpaces, the program\'s trim (detection.md, "Trimming")', () => {
  const cases: Array<[string, string]> = [
    ['  123-45-6789  ', '123-45-6789'],
    [`${TAB}123-45-6789${TAB}`, `${TAB}123-45-6789${TAB}`],
    [` ${NL}123-45-6789${NL} `, `${NL}123-45-6789${NL}`],
    [`${NBSP} 123-45-6789 ${NBSP}`, `${NBSP} 123-45-6789 ${NBSP}`],
    ['   ', ''],
    [' 1 2 ', '1 2'],
  ];
  for (const [raw, trimmed] of cases) {
    test(`${JSON.stringify(raw)} → ${JSON.stringify(trimmed)}`, () => assert.equal(trimSpaces(raw), trimmed));
  }

  test('excluded SSNs travel trimmed of spaces only; a tab, newline or no-break space keeps a value distinct', () => {
    const p: PlanParams = {
      ...params({ excludedSsns: [' 111 ', '111', `111${TAB}`, `${NL}111`, `111${NBSP}`, '  ', TAB] }),
      clock: '2026-02-14 12:00:00',
      database: 'ANALYTICS',
      schema: 'BI',
    };
    for (const dialect of ['duckdb', 'snowflake'] as const) {
      const insert = detectionStatements(dialect, p).find((s) => s.kind === 'insertRows' && s.data.table === 'cu_excluded_ssns');
      assert.ok(insert?.kind === 'insertRows');
      assert.deepEqual(insert.data.rows.map((r) => r[0]), ['111', `111${TAB}`, `${NL}111`, `111${NBSP}`, TAB], dialect);
    }
  });
});

describe('the SQL of both dialects trims spaces only (detection.md, "Trimming")', () => {
  const plan: PlanParams = { ...params(), clock: '2026-02-14 12:00:00', database: 'ANALYTICS', schema: 'BI' };
  const expected = { duckdb: `trim(s."SSN", ' ')`, snowflake: `TRIM(s."SSN", ' ')` } as const;
  for (const dialect of ['duckdb', 'snowflake'] as const) {
    test(`${dialect}: every TRIM names the space as the one character it removes`, () => {
      const sql = detectionStatements(dialect, plan).map((s) => s.sql).join('\n');
      const calls = sql.match(/\btrim\(/gi) ?? [];
      const spacesOnly = sql.match(/\btrim\([^()]*, ' '\)/gi) ?? [];
      assert.ok(calls.length >= 5, `SSNs, states and zip codes are trimmed (${calls.length} calls)`);
      assert.equal(spacesOnly.length, calls.length, 'no one-argument trim');
      assert.ok(sql.includes(expected[dialect]), expected[dialect]);
      assert.ok(!/\b(ltrim|rtrim|btrim)\(/i.test(sql));
      assert.equal(sqlDialect(dialect).trimSpaces('x'), dialect === 'duckdb' ? `trim(x, ' ')` : `TRIM(x, ' ')`);
    });
  }
});

describe('SSNs on a DuckDB warehouse: space-padded SSNs group as their trimmed selves, others stay distinct', () => {
  // Each pair: two caregivers (two Caregiver Ids) whose SSNs differ only by padding.
  const cases: Array<{ name: string; ssn1: string; ssn2: string; grouped: boolean }> = [
    { name: 'spaces around', ssn1: '  201-00-0001 ', ssn2: '201-00-0001', grouped: true },
    { name: 'a trailing tab', ssn1: `201-00-0002${TAB}`, ssn2: '201-00-0002', grouped: false },
    { name: 'a leading newline', ssn1: `${NL}201-00-0003`, ssn2: '201-00-0003', grouped: false },
    { name: 'no-break spaces around', ssn1: `${NBSP}201-00-0004${NBSP}`, ssn2: '201-00-0004', grouped: false },
    { name: 'a tab inside spaces', ssn1: ` ${TAB}201-00-0005 `, ssn2: `${TAB}201-00-0005`, grouped: true },
  ];
  let r: DetectResult;
  before(async () => {
    const visits: VisitSpec[] = [];
    const caregivers: Row[] = [];
    cases.forEach((c, i) => {
      const [cg1, cg2] = [uid('c', `${i + 1}1`), uid('c', `${i + 1}2`)];
      caregivers.push(caregiver(cg1, c.ssn1), caregiver(cg2, c.ssn2));
      // Both visits changed: each SSN that stays distinct is its own affected group.
      visits.push(...pairOf(i + 1, cg1, cg2, {}, { updated: undefined }));
    });
    r = await detect({ visits, caregivers });
  });
  cases.forEach((c, i) => {
    test(`${c.name}: ${c.grouped ? 'one group, a conflict' : 'two groups, no conflict'}`, () => {
      assert.deepEqual(detected(r, i + 1), [c.grouped, c.grouped]);
      const groups = r.groups.filter(([, ssn]) => String(ssn).includes(`201-00-000${i + 1}`)).map(([, ssn]) => ssn);
      const expected = c.grouped ? [trimSpaces(c.ssn2)] : [trimSpaces(c.ssn1), c.ssn2].sort();
      assert.deepEqual(groups.sort(), expected, 'the affected groups carry the SSN trimmed of spaces only');
      if (c.grouped) assert.equal(r.byPair.get(pair(uid('v', `${i + 1}1`), uid('v', `${i + 1}2`)))?.SSN, trimSpaces(c.ssn2));
    });
  });
});

describe('excluded SSNs on a DuckDB warehouse: a space-padded exclusion excludes, a tab, newline or no-break space does not', () => {
  const cases: Array<{ name: string; ssn: string; excluded: string; hit: boolean }> = [
    { name: 'spaces around the excluded value', ssn: '202-00-0001', excluded: ' 202-00-0001  ', hit: true },
    { name: 'spaces around the caregiver SSN', ssn: '  202-00-0002 ', excluded: '202-00-0002', hit: true },
    { name: 'a tab after the excluded value', ssn: '202-00-0003', excluded: `202-00-0003${TAB}`, hit: false },
    { name: 'a newline after the caregiver SSN', ssn: `202-00-0004${NL}`, excluded: '202-00-0004', hit: false },
    { name: 'a no-break space before the excluded value', ssn: '202-00-0005', excluded: `${NBSP}202-00-0005`, hit: false },
    { name: 'the same no-break space on both sides', ssn: ` ${NBSP}202-00-0006`, excluded: `${NBSP}202-00-0006  `, hit: true },
  ];
  const spec = () => {
    const visits: VisitSpec[] = [];
    const caregivers: Row[] = [];
    cases.forEach((c, i) => {
      const cg = uid('c', i + 1);
      caregivers.push(caregiver(cg, c.ssn));
      visits.push(...pairOf(i + 1, cg, cg));
    });
    return { visits, caregivers };
  };
  const check = (r: DetectResult) => {
    cases.forEach((c, i) => assert.deepEqual(detected(r, i + 1), [!c.hit, !c.hit], `${c.name}: ${c.hit ? 'excluded' : 'still a conflict'}`));
    assert.equal(r.stats.affectedGroups, cases.filter((c) => !c.hit).length);
  };

  test('EXCLUDED SSNs given to the run', async () => {
    check(await detect(spec(), { excludedSsns: cases.map((c) => c.excluded) }));
  });

  const havePostgres = Boolean(process.env.TEST_POSTGRES_URL);
  describe('read from PostgreSQL excluded_ssn (btrim: spaces only)', { skip: havePostgres ? false : 'needs TEST_POSTGRES_URL (npm test starts one)' }, () => {
    const schema = uniqueSchema('trim');
    after(() => dropSchema(schema));
    test('the reference data keeps tabs, newlines and no-break spaces; detection excludes as the spec says', async () => {
      const c = await testClient();
      let excludedSsns: readonly string[];
      try {
        await initDb(c, schema);
        await c.query(`INSERT INTO "${schema}"."excluded_ssn" ("SSN") SELECT unnest($1::text[])`, [[...cases.map((x) => x.excluded), ` ${TAB} `, '   ']]);
        const log = createLogger({ level: 'ERROR', out: { write: () => true } as unknown as NodeJS.WritableStream });
        excludedSsns = (await readReferenceData(c, schema, log)).excludedSsns;
      } finally {
        await c.end();
      }
      assert.deepEqual([...excludedSsns].sort(), [...cases.map((x) => trimSpaces(x.excluded)), TAB].sort(), 'trimmed of spaces only, blanks dropped');
      check(await detect(spec(), { excludedSsns }));
    });
  });
});

describe('states on a DuckDB warehouse: the cross-state filter trims spaces only', () => {
  // V2's provider patient is in NY, its provider in NJ. `kept`: the pair is a conflict.
  const cases: Array<{ name: string; state?: string; providerState: string; kept: boolean }> = [
    { name: 'patient state " NY " equals NY', state: ' NY ', providerState: 'CT', kept: true },
    { name: 'patient state " new york  " is NY', state: ' new york  ', providerState: 'CT', kept: true },
    { name: 'patient state "NY<tab>" is not NY', state: `NY${TAB}`, providerState: 'CT', kept: false },
    { name: 'patient state "<nbsp>NY" is not NY', state: `${NBSP}NY`, providerState: 'CT', kept: false },
    { name: 'patient state "NEW YORK<newline>" is not NY', state: `NEW YORK${NL}`, providerState: 'CT', kept: false },
    { name: 'patient state "   " is empty: the provider\'s " NY " stands in', state: '   ', providerState: ' NY ', kept: true },
    { name: 'patient state "<tab>" is a state, not empty: no provider fall-back', state: TAB, providerState: 'NY', kept: false },
    { name: 'provider state "NY<nbsp>" is not NY', providerState: `NY${NBSP}`, kept: false },
    { name: 'provider state "  NY" is NY', providerState: '  NY', kept: true },
  ];
  let r: DetectResult;
  before(async () => {
    const visits: VisitSpec[] = [];
    const patients: Row[] = [];
    const addresses: Row[] = [];
    const providers: Row[] = [];
    cases.forEach((c, i) => {
      const n = i + 1;
      const [p1, p2] = [uid('p', `${n}1`), uid('p', `${n}2`)];
      patients.push(patient(p2));
      addresses.push(address(uid('d', `${n}2`), p2, { 'Address State': 'NY' }));
      if (c.state !== undefined) {
        patients.push(patient(p1));
        addresses.push(address(uid('d', `${n}1`), p1, { 'Address State': c.state }));
      }
      providers.push(provider(uid('a', n * 2 + 1), { 'Address State': c.providerState }), provider(uid('a', n * 2 + 2), { 'Address State': 'NJ' }));
      const cg = uid('c', n);
      visits.push(...pairOf(n, cg, cg, c.state === undefined ? {} : { providerPatient: p1 }, { providerPatient: p2 }));
    });
    r = await detect({ visits, patients, addresses, providers });
  });
  cases.forEach((c, i) => {
    test(`${c.name}: ${c.kept ? 'kept' : 'cross-state, dropped'}`, () => assert.deepEqual(detected(r, i + 1), [c.kept, c.kept]));
  });
});

describe('zip codes on a DuckDB warehouse: rule 7 compares zip codes trimmed of spaces only', () => {
  // Completed visits 30 minutes apart, one degree apart (86.39 miles, 115 minutes at 45 mph):
  // rule 7 fires unless the two provider patients' zip codes are equal.
  const cases: Array<{ name: string; zip1: string; zip2: string; fires: boolean }> = [
    { name: '" 12207  " equals "12207"', zip1: ' 12207  ', zip2: '12207', fires: false },
    { name: '"12207<tab>" differs from "12207"', zip1: `12207${TAB}`, zip2: '12207', fires: true },
    { name: '"<newline>12207" differs from "12207"', zip1: `${NL}12207`, zip2: '12207', fires: true },
    { name: '"12207<nbsp>" differs from "12207"', zip1: `12207${NBSP}`, zip2: '12207', fires: true },
    { name: '"   " is empty, so NULL', zip1: '   ', zip2: '   ', fires: true },
    { name: '"<tab>" is not empty: equal to "<tab> "', zip1: TAB, zip2: `${TAB} `, fires: false },
  ];
  let r: DetectResult;
  before(async () => {
    const visits: VisitSpec[] = [];
    const patients: Row[] = [];
    const addresses: Row[] = [];
    cases.forEach((c, i) => {
      const n = i + 1;
      const [p1, p2] = [uid('p', `${n}1`), uid('p', `${n}2`)];
      patients.push(patient(p1), patient(p2));
      addresses.push(address(uid('d', `${n}1`), p1, { 'Zip Code': c.zip1 }), address(uid('d', `${n}2`), p2, { 'Zip Code': c.zip2 }));
      const cg = uid('c', n);
      visits.push(
        ...pairOf(
          n,
          cg,
          cg,
          { visit: ['09:00', '10:00'], outGps: '40,-73', providerPatient: p1 },
          { visit: ['10:30', '11:30'], outGps: '41,-73', providerPatient: p2 },
        ),
      );
    });
    r = await detect({ visits, patients, addresses });
  });
  cases.forEach((c, i) => {
    test(`${c.name}: rule 7 ${c.fires ? 'fires' : 'does not fire'}`, () => {
      const row = r.byPair.get(pair(uid('v', `${i + 1}1`), uid('v', `${i + 1}2`)));
      assert.equal(flags(row), c.fires ? 'NNNNNNY' : undefined);
    });
  });
});
