// detection.md, "Coordinates": the GPS grammar (each case), the order of the sources, the
// address fall-back, and the count of unusable GPS text (run statistics).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { address, detect, pair, patient, uid, UNCHANGED, type DetectResult, type Row, type VisitSpec } from './warehouse.js';

const A1 = uid('a', 1);
const A2 = uid('a', 2);
/** A usable call-in position: where V1 lands when its call-out text is not usable. */
const IN = '1.5,2.5';

interface GpsCase {
  name: string;
  out: string | null;
  /** [lat, lon] taken from the call-out text, or 'in': not usable, the call-in text is used. */
  expect: [number, number] | 'in';
}

const GRAMMAR: GpsCase[] = [
  { name: 'plain lat,lon', out: '40.5,-73.25', expect: [40.5, -73.25] },
  { name: 'parts wrapped in spaces and double quotes', out: ' "40.5" , "-73.25" ', expect: [40.5, -73.25] },
  { name: 'any mix of quotes and spaces', out: '"" 40.5"",  -73.25 "', expect: [40.5, -73.25] },
  { name: 'digits with a point and no fraction, a point and digits', out: '5.,.5', expect: [5, 0.5] },
  { name: 'explicit plus signs', out: '+40,+73', expect: [40, 73] },
  { name: 'integers with leading zeros', out: '007,-008', expect: [7, -8] },
  { name: 'range edges are included', out: '-90,180', expect: [-90, 180] },
  { name: 'range edges are included (other side)', out: '90.0,-180.0', expect: [90, -180] },
  { name: 'no comma', out: '40.5;-73.25', expect: 'in' },
  { name: 'two commas', out: '40.5,-73.25,0', expect: 'in' },
  { name: 'exponent', out: '1e1,5', expect: 'in' },
  { name: 'NaN', out: 'NaN,5', expect: 'in' },
  { name: 'Infinity', out: 'Infinity,5', expect: 'in' },
  { name: 'latitude out of range', out: '90.5,0', expect: 'in' },
  { name: 'longitude out of range', out: '0,-180.5', expect: 'in' },
  { name: 'a lone comma', out: ',', expect: 'in' },
  { name: 'missing longitude', out: '40.5,', expect: 'in' },
  { name: 'space between sign and digits', out: '- 40,5', expect: 'in' },
  { name: 'space inside a number', out: '4 0,5', expect: 'in' },
  { name: 'a lone point', out: '.,5', expect: 'in' },
  { name: 'single quotes are not part of the grammar', out: "'40','5'", expect: 'in' },
  { name: 'space instead of a comma', out: '40.5 -73.25', expect: 'in' },
  { name: 'words', out: 'unknown', expect: 'in' },
  { name: 'whitespace only (non-empty, unusable)', out: '   ', expect: 'in' },
  // Not counted as unusable text: NULL and empty.
  { name: 'NULL call-out', out: null, expect: 'in' },
  { name: 'empty call-out', out: '', expect: 'in' },
];

interface SourceCase {
  name: string;
  v: Partial<VisitSpec>;
  patients?: Row[];
  addresses?: Row[];
  expect: [number, number] | null;
  unusable: number;
}

const P = (n: number) => uid('p', n);
const SOURCES: SourceCase[] = [
  { name: 'call-out first, even when call-in is usable', v: { outGps: '10,20', inGps: '30,40' }, expect: [10, 20], unusable: 0 },
  { name: 'call-in when call-out is unusable', v: { outGps: 'x', inGps: '30,40' }, expect: [30, 40], unusable: 1 },
  {
    name: "the provider patient's address when neither GPS text is usable",
    v: { outGps: 'bad', inGps: '91,0', providerPatient: P(1) },
    patients: [patient(P(1))],
    addresses: [address(uid('d', 1), P(1), { Latitude: 42.25, Longitude: -74.5 })],
    expect: [42.25, -74.5],
    unusable: 2,
  },
  {
    name: 'address out of range: unknown',
    v: { providerPatient: P(2) },
    patients: [patient(P(2))],
    addresses: [address(uid('d', 2), P(2), { Latitude: 100, Longitude: 10 })],
    expect: null,
    unusable: 0,
  },
  {
    name: 'address with only a latitude: unknown',
    v: { providerPatient: P(3) },
    patients: [patient(P(3))],
    addresses: [address(uid('d', 3), P(3), { Latitude: 42, Longitude: null })],
    expect: null,
    unusable: 0,
  },
  {
    name: 'no DIMPATIENT row for the provider patient: no address',
    v: { providerPatient: P(4) },
    addresses: [address(uid('d', 4), P(4), { Latitude: 42, Longitude: -74 })],
    expect: null,
    unusable: 0,
  },
  {
    name: 'an address that is not primary is not used',
    v: { providerPatient: P(5) },
    patients: [patient(P(5))],
    addresses: [address(uid('d', 5), P(5), { Latitude: 42, Longitude: -74, 'Primary Address': false })],
    expect: null,
    unusable: 0,
  },
  {
    name: "Address Type must contain GPS, case-sensitive ('gps' is not)",
    v: { providerPatient: P(6) },
    patients: [patient(P(6))],
    addresses: [address(uid('d', 6), P(6), { Latitude: 42, Longitude: -74, 'Address Type': 'home gps' })],
    expect: null,
    unusable: 0,
  },
  {
    name: "Address Type containing GPS ('Home GPS') is used",
    v: { providerPatient: P(7) },
    patients: [patient(P(7))],
    addresses: [address(uid('d', 7), P(7), { Latitude: 43, Longitude: -75, 'Address Type': 'Home GPS' })],
    expect: [43, -75],
    unusable: 0,
  },
  {
    name: "the payer patient's address is not a coordinate source",
    v: { payerPatient: P(8) },
    patients: [patient(P(8))],
    addresses: [address(uid('d', 8), P(8), { Latitude: 42, Longitude: -74 })],
    expect: null,
    unusable: 0,
  },
];

describe('coordinates (detection.md, "Coordinates")', () => {
  let r: DetectResult;
  const v1 = (k: string) => uid('v', `${k}1`);
  const v2 = (k: string) => uid('v', `${k}2`);
  before(async () => {
    const visits: VisitSpec[] = [];
    const patients: Row[] = [];
    const addresses: Row[] = [];
    const add = (k: string, cg: string, v: Partial<VisitSpec>) => {
      // Two overlapping completed visits (rule 5), so every case has its rows.
      visits.push({ id: v1(k), caregiver: cg, provider: A1, date: '2026-02-14', sch: ['09:00', '10:00'], visit: ['09:00', '10:00'], ...v });
      visits.push({ id: v2(k), caregiver: cg, provider: A2, date: '2026-02-14', sch: ['09:00', '10:00'], visit: ['09:30', '10:30'], outGps: '0,0', updated: UNCHANGED });
    };
    GRAMMAR.forEach((c, i) => add(`1${i}`, uid('c', `1${i}`), { outGps: c.out, inGps: IN }));
    SOURCES.forEach((c, i) => {
      add(`2${i}`, uid('c', `2${i}`), c.v);
      patients.push(...(c.patients ?? []));
      addresses.push(...(c.addresses ?? []));
    });
    r = await detect({ visits, patients, addresses });
  });

  GRAMMAR.forEach((c, i) => {
    test(`GPS grammar: ${c.name} (${JSON.stringify(c.out)})`, () => {
      const k = `1${i}`;
      const row = r.byPair.get(pair(v1(k), v2(k)));
      const con = r.byPair.get(pair(v2(k), v1(k)));
      assert.ok(row && con, 'both rows detected');
      const want = c.expect === 'in' ? [1.5, 2.5] : c.expect;
      assert.deepEqual([row.PLatitude, row.PLongitude], want, 'PLatitude/PLongitude of V1');
      assert.deepEqual([con.ConPLatitude, con.ConPLongitude], want, 'the same parse for V2 (ConPLatitude/ConPLongitude)');
    });
  });

  SOURCES.forEach((c, i) => {
    test(`source order: ${c.name}`, () => {
      const k = `2${i}`;
      const row = r.byPair.get(pair(v1(k), v2(k)));
      assert.ok(row);
      assert.deepEqual([row.PLatitude, row.PLongitude], c.expect ?? [null, null]);
      if (c.expect === null) {
        assert.equal(row.DistanceMilesFromLatLng, null, 'distance NULL when a coordinate is unknown');
        assert.equal(row.AverageMilesPerHour, null);
        assert.equal(row.ETATravelMinutes, null);
      } else {
        assert.equal(typeof row.DistanceMilesFromLatLng, 'number');
      }
    });
  });

  test('unusable non-empty GPS text is counted (NULL and empty are not)', () => {
    const grammar = GRAMMAR.filter((c) => c.expect === 'in' && c.out !== null && c.out !== '').length;
    const sources = SOURCES.reduce((n, c) => n + c.unusable, 0);
    assert.equal(r.stats.unusableGpsValues, grammar + sources);
  });
});
