// detection.md, "Cross-state filter": each side's provider-patient and payer-patient address
// states (trimmed, upper-case, empty → NULL, full names → codes), the provider's state when both
// are NULL; keep the pair when a side has no state, or any state of V1 equals any state of V2.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { address, detect, pair, patient, provider, uid, UNCHANGED, type DetectResult, type Row, type VisitSpec } from './warehouse.js';

interface Side {
  /** Provider patient's address state (undefined: no provider patient). */
  p?: string | null;
  /** Payer patient's address state (undefined: no payer patient). */
  pa?: string | null;
  /** The provider's Address State. */
  provider?: string | null;
}

interface Case {
  name: string;
  v1: Side;
  v2: Side;
  kept: boolean;
}

const CASES: Case[] = [
  { name: 'same state', v1: { p: 'NY' }, v2: { p: 'NY' }, kept: true },
  { name: 'different states: cross-state, not a conflict', v1: { p: 'NY' }, v2: { p: 'NJ' }, kept: false },
  { name: 'a full name equals its code', v1: { p: 'New York' }, v2: { p: 'NY' }, kept: true },
  { name: 'trimmed and upper-cased', v1: { p: '  new york ' }, v2: { p: 'ny' }, kept: true },
  { name: "any of V1's states equals any of V2's (provider patient vs payer patient)", v1: { p: 'NY' }, v2: { p: 'NJ', pa: 'NY' }, kept: true },
  { name: 'two states each, none shared', v1: { p: 'NY', pa: 'NJ' }, v2: { p: 'PA', pa: 'CT' }, kept: false },
  { name: "both patient states NULL: the provider's state stands in (equal)", v1: { provider: 'NJ' }, v2: { p: 'NJ' }, kept: true },
  { name: "both patient states NULL: the provider's state stands in (different)", v1: { provider: 'NY' }, v2: { p: 'NJ' }, kept: false },
  { name: 'a side with no state at all is kept', v1: { provider: null }, v2: { p: 'NJ' }, kept: true },
  { name: 'empty state counts as NULL (provider stands in)', v1: { p: '', pa: '  ', provider: 'CT' }, v2: { p: 'CT' }, kept: true },
  { name: 'only the payer patient state set: no provider fall-back', v1: { pa: 'NJ', provider: 'NY' }, v2: { p: 'NY' }, kept: false },
  { name: 'provider states normalised too', v1: { provider: 'new jersey' }, v2: { provider: 'NJ' }, kept: true },
  { name: 'provider states differ', v1: { provider: 'NY' }, v2: { provider: 'NJ' }, kept: false },
  { name: 'LONG ISLAND is LI', v1: { p: 'Long Island' }, v2: { p: 'LI' }, kept: true },
  { name: 'U.S. VIRGIN ISLANDS and VIRGIN ISLANDS are both VI', v1: { p: 'U.S. Virgin Islands' }, v2: { p: 'Virgin Islands' }, kept: true },
  { name: 'DISTRICT OF COLUMBIA is DC', v1: { p: 'District of Columbia' }, v2: { p: 'DC' }, kept: true },
  { name: 'an unknown text compares as itself', v1: { p: 'Narnia' }, v2: { p: 'NARNIA' }, kept: true },
];

// Written out here, independently of src/detection/states.ts.
const NAMES: Array<[string, string]> = [
  ['Alabama', 'AL'], ['Alaska', 'AK'], ['Arizona', 'AZ'], ['Arkansas', 'AR'], ['California', 'CA'], ['Colorado', 'CO'],
  ['Connecticut', 'CT'], ['Delaware', 'DE'], ['Florida', 'FL'], ['Georgia', 'GA'], ['Hawaii', 'HI'], ['Idaho', 'ID'],
  ['Illinois', 'IL'], ['Indiana', 'IN'], ['Iowa', 'IA'], ['Kansas', 'KS'], ['Kentucky', 'KY'], ['Louisiana', 'LA'],
  ['Maine', 'ME'], ['Maryland', 'MD'], ['Massachusetts', 'MA'], ['Michigan', 'MI'], ['Minnesota', 'MN'],
  ['Mississippi', 'MS'], ['Missouri', 'MO'], ['Montana', 'MT'], ['Nebraska', 'NE'], ['Nevada', 'NV'],
  ['New Hampshire', 'NH'], ['New Jersey', 'NJ'], ['New Mexico', 'NM'], ['New York', 'NY'], ['North Carolina', 'NC'],
  ['North Dakota', 'ND'], ['Ohio', 'OH'], ['Oklahoma', 'OK'], ['Oregon', 'OR'], ['Pennsylvania', 'PA'],
  ['Rhode Island', 'RI'], ['South Carolina', 'SC'], ['South Dakota', 'SD'], ['Tennessee', 'TN'], ['Texas', 'TX'],
  ['Utah', 'UT'], ['Vermont', 'VT'], ['Virginia', 'VA'], ['Washington', 'WA'], ['West Virginia', 'WV'],
  ['Wisconsin', 'WI'], ['Wyoming', 'WY'], ['District of Columbia', 'DC'], ['Puerto Rico', 'PR'], ['Guam', 'GU'],
  ['U.S. Virgin Islands', 'VI'], ['Virgin Islands', 'VI'], ['American Samoa', 'AS'], ['Northern Mariana Islands', 'MP'],
  ['Long Island', 'LI'],
];

const A = (n: number) => uid('a', n);

function build(cases: Case[]) {
  const visits: VisitSpec[] = [];
  const patients: Row[] = [];
  const addresses: Row[] = [];
  const providers: Row[] = [];
  const side = (k: string, s: Side, providerId: string): Partial<VisitSpec> => {
    providers.push(provider(providerId, { 'Address State': s.provider === undefined ? null : s.provider }));
    const out: Partial<VisitSpec> = {};
    for (const [role, state] of [['p', s.p], ['pa', s.pa]] as const) {
      if (state === undefined) continue;
      const pid = uid('p', `${k}${role === 'p' ? 1 : 2}`);
      patients.push(patient(pid));
      addresses.push(address(uid('d', `${k}${role === 'p' ? 1 : 2}`), pid, { 'Address State': state }));
      if (role === 'p') out.providerPatient = pid;
      else out.payerPatient = pid;
    }
    return out;
  };
  cases.forEach((c, i) => {
    const k = String(i + 1);
    const cg = uid('c', k);
    // Overlapping completed visits (rule 5): a conflict unless the filter drops it.
    visits.push({ id: uid('v', `${k}1`), caregiver: cg, provider: A(i * 2 + 1), date: '2026-02-14', sch: ['09:00', '10:00'], visit: ['09:00', '10:00'], ...side(`${k}1`, c.v1, A(i * 2 + 1)) });
    visits.push({ id: uid('v', `${k}2`), caregiver: cg, provider: A(i * 2 + 2), date: '2026-02-14', sch: ['09:00', '10:00'], visit: ['09:30', '10:30'], updated: UNCHANGED, ...side(`${k}2`, c.v2, A(i * 2 + 2)) });
  });
  return { visits, patients, addresses, providers };
}

function kept(r: DetectResult, i: number): [boolean, boolean] {
  const k = String(i + 1);
  const v1 = uid('v', `${k}1`);
  const v2 = uid('v', `${k}2`);
  return [r.byPair.has(pair(v1, v2)), r.byPair.has(pair(v2, v1))];
}

describe('cross-state filter (detection.md, "Cross-state filter")', () => {
  let r: DetectResult;
  before(async () => {
    r = await detect(build(CASES));
  });
  CASES.forEach((c, i) => {
    test(`${c.name}: ${c.kept ? 'kept' : 'dropped'}`, () => {
      assert.deepEqual(kept(r, i), [c.kept, c.kept], '(V1, V2) and (V2, V1)');
    });
  });
});

describe('every full state name of the spec is written as its code (detection.md, "Cross-state filter")', () => {
  // For each name: (name, its code) is kept; (name, another code) is dropped.
  const cases: Case[] = NAMES.flatMap(([name, code]) => {
    const other = code === 'NY' ? 'NJ' : 'NY';
    return [
      { name: `${name} = ${code}`, v1: { p: name }, v2: { p: code }, kept: true },
      { name: `${name} <> ${other}`, v1: { p: name.toUpperCase() }, v2: { p: other }, kept: false },
    ];
  });
  let r: DetectResult;
  before(async () => {
    r = await detect(build(cases));
  });
  test(`${NAMES.length} names (50 states, DC, PR, GU, two VI names, AS, MP, LI)`, () => {
    assert.equal(NAMES.length, 58);
    const wrong = cases.filter((c, i) => kept(r, i).some((k) => k !== c.kept)).map((c) => c.name);
    assert.deepEqual(wrong, []);
  });
});
