// detection.md, "Distance, time and travel" and rule 7 (DistanceFlag): hand-computed distance,
// MPH band choice, ETA (rounded distance, round 2; integer column half away from zero; rule 7 on
// the unrounded value), the minute gap (minute boundaries), zip codes, ExtraDistancePer as a real.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { MphBand } from '../../src/detection/types.js';
import { address, detect, flags, pair, patient, uid, UNCHANGED, type DetectResult, type Row, type VisitSpec } from './warehouse.js';

const A1 = uid('a', 1);
const A2 = uid('a', 2);
const HERE = '40,-73';
/** One degree north of HERE: 111 195.101177 m on the 6 371 010 m sphere. */
const ONE_DEGREE = '41,-73';
// 111195.101177 / 1609 * 1.25 = 86.385… → 86.39 miles; at 45 mph: 86.39 / 45 * 60 = 115.186… → 115.19.

interface Case {
  name: string;
  a: Partial<VisitSpec>;
  b: Partial<VisitSpec>;
  patients?: Row[];
  addresses?: Row[];
  /** Expected values of the (V1, V2) row, or null: no row. */
  expect: null | { flags: string; gap?: number; miles?: number | null; mph?: number | null; eta?: number | null };
}

const v = (s: string, e: string, gps = HERE): Partial<VisitSpec> => ({ sch: ['06:00', '07:00'], visit: [s, e], outGps: gps });
const P = (n: number) => uid('p', n);
const zipCase = (n: number, z1: string | null, z2: string | null, flag: 'Y' | 'N'): Case => ({
  name: `rule 7: provider patient zip codes ${JSON.stringify(z1)} and ${JSON.stringify(z2)}: ${flag === 'Y' ? 'different or NULL' : 'equal'}`,
  a: { ...v('09:00', '10:00'), providerPatient: P(n * 10 + 1) },
  b: { ...v('10:30', '11:30', ONE_DEGREE), providerPatient: P(n * 10 + 2) },
  patients: [patient(P(n * 10 + 1)), patient(P(n * 10 + 2))],
  addresses: [
    address(uid('d', n * 10 + 1), P(n * 10 + 1), { 'Zip Code': z1 }),
    address(uid('d', n * 10 + 2), P(n * 10 + 2), { 'Zip Code': z2 }),
  ],
  expect: flag === 'Y' ? { flags: 'NNNNNNY', gap: 30 } : null,
});

const CASES: Case[] = [
  {
    name: 'rule 7: 30-minute gap, 86.39 miles at 45 mph is 115.19 minutes: Y',
    a: v('09:00', '10:00'),
    b: v('10:30', '11:30', ONE_DEGREE),
    expect: { flags: 'NNNNNNY', gap: 30, miles: 86.39, mph: 45, eta: 115 },
  },
  { name: 'gap counts minute boundaries: 10:00:59 to 10:30:00 is 30', a: v('09:00', '10:00:59'), b: v('10:30', '11:30', ONE_DEGREE), expect: { flags: 'NNNNNNY', gap: 30 } },
  { name: 'gap counts minute boundaries: 10:00:00 to 10:30:59 is 30', a: v('09:00', '10:00'), b: v('10:30:59', '11:30', ONE_DEGREE), expect: { flags: 'NNNNNNY', gap: 30 } },
  { name: 'rule 7: gap 115 < ETA 115.19: Y', a: v('09:00', '10:00'), b: v('11:55', '12:30', ONE_DEGREE), expect: { flags: 'NNNNNNY', gap: 115, eta: 115 } },
  { name: 'rule 7: gap 116 > ETA 115.19: no conflict', a: v('09:00', '10:00'), b: v('11:56', '12:30', ONE_DEGREE), expect: null },
  { name: 'rule 7: touching visits, gap 0: no conflict', a: v('09:00', '10:00'), b: v('10:00', '11:00', ONE_DEGREE), expect: null },
  {
    name: 'rule 7 uses the unrounded ETA: 15.20 miles at 30 mph is 30.4 > 30 while the column holds 30',
    a: v('09:00', '10:00'),
    b: v('10:30', '11:00', '40.17596,-73'),
    expect: { flags: 'NNNNNNY', gap: 30, miles: 15.2, mph: 30, eta: 30 },
  },
  {
    name: 'band edges are inclusive; among matches the smallest From wins: 5.00 miles → 0–5 band, 15 mph',
    a: v('09:00', '10:00'),
    b: v('09:30', '10:30', '40.0579,-73'),
    expect: { flags: 'NNNNYNN', gap: 0, miles: 5, mph: 15, eta: 20 },
  },
  {
    name: 'if both hold (a visit ends before it starts), the gap is the smaller: 60',
    a: v('12:00', '09:00'),
    b: v('10:00', '10:30', ONE_DEGREE),
    expect: { flags: 'NNNNNNY', gap: 60 },
  },
  {
    name: 'values for a rule-6 row: gap 0 when either visit is not completed, distance still computed',
    a: { sch: ['09:00', '10:00'], outGps: HERE },
    b: v('09:30', '10:30', ONE_DEGREE),
    expect: { flags: 'NNNNNYN', gap: 0, miles: 86.39, mph: 45, eta: 115 },
  },
  {
    name: 'coordinate unknown: distance, speed and ETA NULL, rule 7 N',
    a: v('09:00', '10:00'),
    b: { ...v('09:30', '10:30'), outGps: null },
    expect: { flags: 'NNNNYNN', gap: 0, miles: null, mph: null, eta: null },
  },
  zipCase(20, '12207', '10001', 'Y'),
  zipCase(21, '12207', '12207', 'N'),
  zipCase(22, ' 12207 ', '12207', 'N'),
  zipCase(23, '12207', null, 'Y'),
  zipCase(24, '', '', 'Y'),
];

describe('distance, travel and rule 7 (detection.md, "Distance, time and travel")', () => {
  let r: DetectResult;
  const ids = (i: number) => [uid('v', `${i}1`), uid('v', `${i}2`)];
  before(async () => {
    const visits: VisitSpec[] = [];
    const patients: Row[] = [];
    const addresses: Row[] = [];
    CASES.forEach((c, i) => {
      const [v1, v2] = ids(i + 1);
      const cg = uid('c', i + 1);
      visits.push({ id: v1, caregiver: cg, provider: A1, date: '2026-02-14', ...c.a });
      visits.push({ id: v2, caregiver: cg, provider: A2, date: '2026-02-14', updated: UNCHANGED, ...c.b });
      patients.push(...(c.patients ?? []));
      addresses.push(...(c.addresses ?? []));
    });
    r = await detect({ visits, patients, addresses });
  });

  CASES.forEach((c, i) => {
    test(c.name, () => {
      const [v1, v2] = ids(i + 1);
      const row = r.byPair.get(pair(v1, v2));
      const back = r.byPair.get(pair(v2, v1));
      if (c.expect === null) {
        assert.equal(row, undefined);
        assert.equal(back, undefined);
        return;
      }
      assert.ok(row && back, 'both directions detected');
      assert.equal(flags(row), c.expect.flags);
      assert.equal(flags(back), c.expect.flags, 'symmetric');
      for (const x of [row, back]) {
        if (c.expect.gap !== undefined) assert.equal(x.MinuteDiffBetweenSch, c.expect.gap, 'MinuteDiffBetweenSch');
        if (c.expect.miles !== undefined) assert.equal(x.DistanceMilesFromLatLng, c.expect.miles, 'DistanceMilesFromLatLng');
        if (c.expect.mph !== undefined) assert.equal(x.AverageMilesPerHour, c.expect.mph, 'AverageMilesPerHour');
        if (c.expect.eta !== undefined) assert.equal(x.ETATravelMinutes, c.expect.eta, 'ETATravelMinutes');
      }
    });
  });
});

async function onePair(a: Partial<VisitSpec>, b: Partial<VisitSpec>, bands: MphBand[], extraDistancePer = 1.25) {
  const [v1, v2] = [uid('v', 1), uid('v', 2)];
  const cg = uid('c', 1);
  const r = await detect(
    {
      visits: [
        { id: v1, caregiver: cg, provider: A1, date: '2026-02-14', ...a },
        { id: v2, caregiver: cg, provider: A2, date: '2026-02-14', updated: UNCHANGED, ...b },
      ],
    },
    { mphBands: bands, extraDistancePer },
  );
  return r.byPair.get(pair(v1, v2));
}

test('ETA column rounds half away from zero: 15.25 miles at 30 mph, ETA 30.5 → 31 (detection.md)', async () => {
  const row = await onePair(v('09:00', '10:00'), v('09:30', '10:30', '40.17653,-73'), [{ from: 10, to: 25, mph: 30 }]);
  assert.ok(row);
  assert.equal(row.DistanceMilesFromLatLng, 15.25);
  assert.equal(row.ETATravelMinutes, 31);
});

test('MPH band choice: several match → smallest From, then smallest To (detection.md)', async () => {
  const bands = [
    { from: 50, to: 200, mph: 30 },
    { from: 0, to: 100, mph: 10 },
    { from: 0, to: 90, mph: 20 },
  ];
  const row = await onePair(v('09:00', '10:00'), v('09:30', '10:30', ONE_DEGREE), bands);
  assert.ok(row);
  assert.equal(row.AverageMilesPerHour, 20);
  assert.equal(row.ETATravelMinutes, 259, '86.39 / 20 * 60 = 259.17');
});

test('no band matches: speed and ETA NULL, rule 7 never fires (detection.md)', async () => {
  const row = await onePair(v('09:00', '10:00'), v('09:30', '10:30', ONE_DEGREE), [{ from: 0, to: 5, mph: 15 }]);
  assert.ok(row, 'the rule-5 row is still detected');
  assert.equal(row.DistanceMilesFromLatLng, 86.39);
  assert.equal(row.AverageMilesPerHour, null);
  assert.equal(row.ETATravelMinutes, null);
  const far = await onePair(v('09:00', '10:00'), v('10:30', '11:30', ONE_DEGREE), []);
  assert.equal(far, undefined, 'no usable band: no rule 7');
});

test('a band of 0 mph: ETA NULL, rule 7 N (detection.md)', async () => {
  const row = await onePair(v('09:00', '10:00'), v('09:30', '10:30', ONE_DEGREE), [{ from: 0, to: 100000, mph: 0 }]);
  assert.ok(row);
  assert.equal(row.AverageMilesPerHour, 0);
  assert.equal(row.ETATravelMinutes, null);
  assert.equal(row.DistanceFlag, 'N');
});

test('ExtraDistancePer is the stored real read as a double (1.2 → 1.2000000476837158) (detection.md)', async () => {
  // A distance just below 82.925 miles with a factor of exactly 1.2, just above with float32(1.2).
  const deg = 0.999941552982115;
  const R = 6371010;
  const d = R * (deg * Math.PI / 180);
  assert.equal(Math.round((d / 1609) * 1.2 * 100) / 100, 82.92, 'the case tells the two factors apart');
  const row = await onePair(v('09:00', '10:00'), v('09:30', '10:30', `${40 + deg},-73`), [{ from: 0, to: 100000, mph: 45 }], 1.2);
  assert.ok(row);
  assert.equal(row.DistanceMilesFromLatLng, 82.93);
});
