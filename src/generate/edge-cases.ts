// Hand-crafted rows: one small scenario per rule, filter and boundary of detection.md, each on
// its own caregiver SSN (area 7xx, never used by the bulk data) and its own agencies, so the
// expected outcome of every scenario is known exactly. Ids depend only on the scenario, not on
// the seed; dates and times are relative to asOf.
import { trimSpaces } from '../trimming.js';
import {
  DAY_MS,
  formatDate,
  formatNaive,
  minusYears,
  parseNaive,
  stableUuid,
  type SqlValue,
} from './sql-util.js';

type Row = Record<string, SqlValue>;

interface EdgeProvider {
  readonly name: string;
  readonly state: string | null;
  readonly active?: boolean;
  readonly demo?: boolean;
  /** A second active DIMPROVIDER row for the same id (fan-out). */
  readonly duplicate?: boolean;
  readonly upper?: boolean;
}

const PROVIDERS = {
  NY1: { name: 'Edge Home Care NY One', state: 'NY' },
  NY2: { name: 'Edge Home Care NY Two', state: 'New York' },
  NY3: { name: 'Edge Home Care NY Three', state: ' ny ', upper: true },
  NJ1: { name: 'Edge Home Care NJ One', state: 'NJ' },
  NJ2: { name: 'Edge Home Care NJ Two', state: 'NEW JERSEY' },
  NOSTATE: { name: 'Edge Home Care Stateless', state: null },
  INACTIVE: { name: 'Edge Home Care Closed', state: 'NY', active: false },
  DEMO: { name: 'Edge Home Care Demo', state: 'NY', demo: true },
  DUP: { name: 'Edge Home Care Twice', state: 'NY', duplicate: true },
} satisfies Record<string, EdgeProvider>;
type ProviderKey = keyof typeof PROVIDERS;

interface EdgeAddress {
  readonly type: string;
  readonly primary: boolean;
  /** Days before asOf the address was created; null: NULL timestamp. */
  readonly createdDaysAgo: number | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly zip: string | null;
  readonly state: string | null;
}

interface EdgePatient {
  readonly lat: number;
  readonly lon: number;
  readonly addresses: readonly EdgeAddress[];
  /** State written on the payer-side record (default: the same as the provider side). */
  readonly payerState?: string | null;
}

const gpsAddr = (lat: number, lon: number, zip: string | null, state: string | null): EdgeAddress => ({
  type: 'GPS', primary: true, createdDaysAgo: 400, lat, lon, zip, state,
});

const PATIENTS = {
  NYC_A: { lat: 40.7128, lon: -74.006, addresses: [gpsAddr(40.7128, -74.006, '10001', 'NY')] },
  NYC_B: { lat: 40.7306, lon: -73.9866, addresses: [gpsAddr(40.7306, -73.9866, '10003', 'New York')] },
  NYC_C: { lat: 40.6782, lon: -73.9442, addresses: [gpsAddr(40.6782, -73.9442, '11216', ' ny ')] },
  ALB: { lat: 42.6526, lon: -73.7562, addresses: [gpsAddr(42.6526, -73.7562, '12207', 'NY')] },
  ALB_SAMEZIP: { lat: 42.66, lon: -73.78, addresses: [gpsAddr(42.66, -73.78, '10001', 'NY')] },
  NJ: { lat: 40.7357, lon: -74.1724, addresses: [gpsAddr(40.7357, -74.1724, '07102', 'NJ')] },
  NOSTATE: { lat: 40.72, lon: -73.99, addresses: [gpsAddr(40.72, -73.99, '10002', null)], payerState: '' },
  LI: { lat: 40.7063, lon: -73.6187, addresses: [gpsAddr(40.7063, -73.6187, '11550', 'LONG ISLAND')] },
  NOGPS: {
    lat: 40.75, lon: -73.99,
    addresses: [{ type: 'Home', primary: true, createdDaysAgo: 100, lat: 40.75, lon: -73.99, zip: '10018', state: 'NY' },
      { type: 'gps', primary: true, createdDaysAgo: 50, lat: 40.75, lon: -73.99, zip: '10018', state: 'NY' }],
  },
  // Two GPS primary addresses created at the same instant: the smallest Patient Address Id wins.
  TIE: {
    lat: 40.74, lon: -73.98,
    addresses: [gpsAddr(42.6526, -73.7562, '12207', 'NY'), gpsAddr(40.74, -73.98, '10016', 'NY')],
  },
  // A GPS primary address with a NULL created timestamp counts as the oldest.
  NULLTS: {
    lat: 40.74, lon: -73.98,
    addresses: [{ ...gpsAddr(42.6526, -73.7562, '12207', 'NY'), createdDaysAgo: null }, gpsAddr(40.74, -73.98, '10016', 'NY')],
  },
  // The newest GPS address is not primary, the newest primary is not GPS: the older GPS primary wins.
  MIXED: {
    lat: 40.7128, lon: -74.006,
    addresses: [gpsAddr(40.7128, -74.006, '10001', 'NY'),
      { type: 'GPS', primary: false, createdDaysAgo: 10, lat: 42.6526, lon: -73.7562, zip: '12207', state: 'NY' },
      { type: 'Home', primary: true, createdDaysAgo: 5, lat: 42.6526, lon: -73.7562, zip: '12207', state: 'NY' }],
  },
} satisfies Record<string, EdgePatient>;
type PatientKey = keyof typeof PATIENTS;

type ContractType = 'Payer' | 'UPR' | 'Internal' | 'None';
type Updated = 'changed' | 'old' | 'null' | 'boundary' | 'beforeBoundary' | 'afterT';

interface EdgeVisit {
  readonly prov: ProviderKey;
  /** Days from date(asOf); 'windowStart' is date(asOf − 2 years). */
  readonly day?: number | 'windowStart' | 'beforeWindow';
  readonly sch: readonly [string, string];
  /** Visit start and end ('HH:MM'); end null: in progress; absent: not started. */
  readonly visit?: readonly [string, string | null];
  readonly gpsOut?: string | null;
  readonly gpsIn?: string | null;
  readonly pat?: PatientKey;
  /** Payer-side patient; null: none. Default: the same patient's payer-side record. */
  readonly payPat?: PatientKey | null;
  readonly upd?: Updated;
  readonly missed?: boolean;
  readonly ssn?: string | null;
  readonly contractType?: ContractType;
  readonly payer?: 'EPAY' | 'EPAY_DUP' | 'EPAY_INACTIVE';
  readonly upper?: boolean;
}

interface ScenarioDef {
  readonly name: string;
  readonly expect: string | ((ids: { addressIds: (p: PatientKey) => string[] }) => string);
  readonly day?: number | 'windowStart' | 'beforeWindow';
  readonly ssn?: string | null;
  readonly visits: readonly EdgeVisit[];
}

const C = (day: number, from: string, to: string) => ({ day, sch: [from, to] as const, visit: [from, to] as const });

const SCENARIOS: readonly ScenarioDef[] = [
  { name: 'rule1-same-scheduled', expect: 'conflict: SameSchTimeFlag', visits: [
    { prov: 'NY1', day: 3, sch: ['09:00', '13:00'] },
    { prov: 'NY2', day: 3, sch: ['09:00', '13:00'], pat: 'NYC_B' }] },
  { name: 'rule1-past-unstarted', expect: 'none: rules 1 and 4 apply from date(T) on', visits: [
    { prov: 'NY1', day: -3, sch: ['09:00', '13:00'] },
    { prov: 'NY2', day: -3, sch: ['09:00', '13:00'], pat: 'NYC_B' }] },
  { name: 'rule1-today', expect: 'conflict: SameSchTimeFlag (VisitDate = date(T))', visits: [
    { prov: 'NY1', day: 0, sch: ['23:00', '23:45'] },
    { prov: 'NY2', day: 0, sch: ['23:00', '23:45'], pat: 'NYC_B' }] },
  { name: 'rule4-overlapping-scheduled', expect: 'conflict: SchOverAnotherSchTimeFlag', visits: [
    { prov: 'NY1', day: 5, sch: ['09:00', '13:00'] },
    { prov: 'NY2', day: 5, sch: ['12:00', '16:00'], pat: 'NYC_B' }] },
  { name: 'rule4-touching-scheduled', expect: 'none: touching intervals do not overlap', visits: [
    { prov: 'NY1', day: 5, sch: ['09:00', '12:00'] },
    { prov: 'NY2', day: 5, sch: ['12:00', '15:00'], pat: 'NYC_B' }] },
  { name: 'rule2-same-visit-times', expect: 'conflict: SameVisitTimeFlag', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00') },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'rule5-overlapping-visits', expect: 'conflict: VisitTimeOverAnotherVisitTimeFlag', visits: [
    { prov: 'NY1', ...C(-4, '08:00', '12:00') },
    { prov: 'NY2', ...C(-4, '11:00', '15:00'), pat: 'NYC_B' }] },
  { name: 'rule3-scheduled-equals-visit', expect: 'conflict: SchAndVisitTimeSameFlag', visits: [
    { prov: 'NY1', day: -6, sch: ['10:00', '14:00'] },
    { prov: 'NY2', day: -6, sch: ['09:30', '13:30'], visit: ['10:00', '14:00'], pat: 'NYC_B' }] },
  { name: 'rule6-scheduled-overlaps-visit', expect: 'conflict: SchTimeOverVisitTimeFlag', visits: [
    { prov: 'NY1', day: -6, sch: ['10:00', '14:00'] },
    { prov: 'NY2', ...C(-6, '13:00', '17:00'), pat: 'NYC_B' }] },
  { name: 'rule7-travel-impossible', expect: 'conflict: DistanceFlag (New York City to Albany, 30-minute gap)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), gpsOut: '"40.712800","-74.006000"' },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB', gpsOut: ' 42.652600 , -73.756200 ' }] },
  { name: 'rule7-same-zip', expect: 'none: both provider patients have zip 10001', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00') },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB_SAMEZIP' }] },
  { name: 'rule7-address-fallback', expect: 'conflict: DistanceFlag from the patients\' GPS addresses (GPS text unusable)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), gpsOut: 'abc', gpsIn: null },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB', gpsOut: ',', gpsIn: '' }] },
  { name: 'rule7-call-in-fallback', expect: 'conflict: DistanceFlag from call-in GPS (call-out GPS unusable)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), gpsOut: '1e5,2', gpsIn: '40.7128,-74.006' },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB', gpsOut: '91,0', gpsIn: ' "42.6526" ,"-73.7562"' }] },
  { name: 'rule7-decimal-forms', expect: 'conflict: DistanceFlag (GPS written 40.,-74. and .5,.5)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), gpsOut: '40.,-74.' },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB', gpsOut: '.5,.5', gpsIn: '1,2,3' }] },
  { name: 'rule7-unknown-coordinates', expect: 'none: no usable GPS and no GPS address (coordinates unknown)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), pat: 'NOGPS', payPat: null, gpsOut: null, gpsIn: 'NaN,NaN' },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'ALB' }] },
  { name: 'rule7-address-tie', expect: ({ addressIds }) => {
    const [albany, nyc] = addressIds('TIE');
    return albany! < nyc!
      ? 'conflict: DistanceFlag (tied GPS addresses: the smaller Patient Address Id is the Albany one)'
      : 'none: tied GPS addresses, the smaller Patient Address Id is the New York City one';
  }, visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), pat: 'TIE', gpsOut: null, gpsIn: null },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'NYC_B' }] },
  { name: 'rule7-address-null-created', expect: 'none: the dated GPS address (New York City) wins over the NULL-dated one (Albany)', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), pat: 'NULLTS', gpsOut: null, gpsIn: null },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'NYC_B' }] },
  { name: 'rule7-address-primary-gps-only', expect: 'none: the newer non-primary GPS and non-GPS primary addresses (Albany) are ignored', visits: [
    { prov: 'NY1', ...C(-1, '08:00', '10:00'), pat: 'MIXED', gpsOut: null, gpsIn: null },
    { prov: 'NY2', ...C(-1, '10:30', '12:30'), pat: 'NYC_B' }] },
  { name: 'cross-state', expect: 'none: cross-state (NY and NJ)', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00') },
    { prov: 'NJ1', ...C(-2, '08:00', '12:00'), pat: 'NJ' }] },
  { name: 'cross-state-unknown-side', expect: 'conflict: SameVisitTimeFlag (one side has no state at all)', visits: [
    { prov: 'NOSTATE', ...C(-2, '08:00', '12:00'), pat: 'NOSTATE', payPat: null },
    { prov: 'NJ1', ...C(-2, '08:00', '12:00'), pat: 'NJ' }] },
  { name: 'cross-state-provider-fallback', expect: 'none: patients without state, providers NY and NEW JERSEY', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), pat: 'NOSTATE' },
    { prov: 'NJ2', ...C(-2, '08:00', '12:00'), pat: 'NOSTATE' }] },
  { name: 'state-names-normalised', expect: 'conflict: SameVisitTimeFlag (New York and " ny " are both NY)', visits: [
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' },
    { prov: 'NY3', ...C(-2, '08:00', '12:00'), pat: 'NYC_C' }] },
  { name: 'long-island', expect: 'none: LONG ISLAND (LI) and NY are different states', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), pat: 'LI' },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'excluded-ssn-zeros', ssn: '000-00-0000', expect: 'none when excluded_ssn lists 000-00-0000 (else SameVisitTimeFlag)', visits: [
    { prov: 'NY1', ...C(-2, '06:00', '06:45') },
    { prov: 'NY2', ...C(-2, '06:00', '06:45'), pat: 'NYC_B' }] },
  { name: 'excluded-ssn-nines', expect: 'none when excluded_ssn lists 999-99-9999 (else SameVisitTimeFlag)', visits: [
    { prov: 'NY1', ...C(-2, '06:00', '06:45'), ssn: ' 999-99-9999 ' },
    { prov: 'NY2', ...C(-2, '06:00', '06:45'), pat: 'NYC_B', ssn: '999-99-9999' }] },
  { name: 'ssn-surrounding-spaces', expect: 'conflict: SameVisitTimeFlag (SSNs equal once trimmed)', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), ssn: ' @ ' },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B', ssn: '@  ' }] },
  { name: 'blank-ssn', expect: 'none: blank SSN', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), ssn: '' },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B', ssn: '   ' },
    { prov: 'NY3', ...C(-2, '08:00', '12:00'), pat: 'NYC_C', ssn: null }] },
  { name: 'inactive-provider', expect: 'none: inactive provider (the group is still affected)', visits: [
    { prov: 'INACTIVE', ...C(-2, '08:00', '12:00') },
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'demo-provider', expect: 'none: demo provider', visits: [
    { prov: 'DEMO', ...C(-2, '08:00', '12:00') },
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'missed-visit', expect: 'none: a missed visit conflicts with nothing', visits: [
    { prov: 'NY1', day: -2, sch: ['08:00', '12:00'], missed: true },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'in-progress-visit', expect: 'none: a visit with a start and no end is neither unstarted nor completed', visits: [
    { prov: 'NY1', day: -2, sch: ['08:00', '12:00'], visit: ['08:00', null] },
    { prov: 'NY2', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'same-provider', expect: 'none: both visits at one provider', visits: [
    { prov: 'NY1', ...C(-2, '08:00', '12:00') },
    { prov: 'NY1', ...C(-2, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'window-start', expect: 'conflict: SameVisitTimeFlag (VisitDate = date(T − 2 years))', visits: [
    { prov: 'NY1', ...C(0, '08:00', '12:00'), day: 'windowStart' },
    { prov: 'NY2', ...C(0, '08:00', '12:00'), day: 'windowStart', pat: 'NYC_B' }] },
  { name: 'before-window', expect: 'none: the day before the window', visits: [
    { prov: 'NY1', ...C(0, '08:00', '12:00'), day: 'beforeWindow' },
    { prov: 'NY2', ...C(0, '08:00', '12:00'), day: 'beforeWindow', pat: 'NYC_B' }] },
  { name: 'window-end', expect: 'conflict: SameSchTimeFlag (VisitDate = date(T + 45 days))', visits: [
    { prov: 'NY1', day: 45, sch: ['09:00', '13:00'] },
    { prov: 'NY2', day: 45, sch: ['09:00', '13:00'], pat: 'NYC_B' }] },
  { name: 'after-window', expect: 'none: the day after the window', visits: [
    { prov: 'NY1', day: 46, sch: ['09:00', '13:00'] },
    { prov: 'NY2', day: 46, sch: ['09:00', '13:00'], pat: 'NYC_B' }] },
  { name: 'changed-at-boundary', expect: 'conflict: SameVisitTimeFlag (updated exactly T − 36 h counts as changed)', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), upd: 'boundary' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upd: 'old' }] },
  { name: 'unchanged-before-boundary', expect: 'not detected: updated 1 s before T − 36 h, the group is not affected', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), upd: 'beforeBoundary' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upd: 'old' }] },
  { name: 'changed-after-asof', expect: 'conflict: SameVisitTimeFlag (an update after T counts as changed)', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), upd: 'afterT' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upd: 'old' }] },
  { name: 'null-updated-timestamp', expect: 'conflict: SameVisitTimeFlag (NULL update timestamp: unchanged, still a candidate)', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), upd: 'null' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upd: 'changed' }] },
  { name: 'unaffected-conflict', expect: 'not detected: a conflict whose visits are both unchanged', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), upd: 'old' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upd: 'old' }] },
  { name: 'payer-duplicate-rows', expect: 'conflict: SameVisitTimeFlag (two active DIMPAYER rows: one base visit kept)', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), payer: 'EPAY_DUP', contractType: 'UPR' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'provider-duplicate-rows', expect: 'conflict: SameVisitTimeFlag (two active DIMPROVIDER rows: one base visit kept)', visits: [
    { prov: 'DUP', ...C(-3, '08:00', '12:00') },
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'inactive-payer', expect: 'conflict: SameVisitTimeFlag (inactive payer: no payer columns)', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), payer: 'EPAY_INACTIVE', contractType: 'Payer' },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B' }] },
  { name: 'three-agencies', expect: 'conflict: SameVisitTimeFlag, 6 ordered rows', visits: [
    { prov: 'NY1', ...C(-3, '08:00', '12:00') },
    { prov: 'NY2', ...C(-3, '08:00', '12:00'), pat: 'NYC_B' },
    { prov: 'NY3', ...C(-3, '08:00', '12:00'), pat: 'NYC_C' }] },
  { name: 'upper-case-ids', expect: 'conflict: SameVisitTimeFlag (ids stored upper-case)', visits: [
    { prov: 'NY3', ...C(-3, '08:00', '12:00'), upper: true },
    { prov: 'NY1', ...C(-3, '08:00', '12:00'), pat: 'NYC_B', upper: true }] },
];

export interface EdgeScenario {
  readonly name: string;
  /** Expected outcome with the default settings (LOOKBACK_HOURS 36, window 2 years / 45 days). */
  readonly expect: string;
  /** The caregiver's SSN, trimmed ('' when blank). */
  readonly ssn: string;
  readonly visitDate: string;
  /** Visit ids, lower-cased. */
  readonly visitIds: readonly string[];
}

export interface EdgeData {
  readonly rows: Record<string, Row[]>;
  readonly scenarios: EdgeScenario[];
}

const id = (key: string) => stableUuid(`edge:${key}`);

/** The hand-crafted rows for every table and the scenario list, for run instant `asOf`. */
export function edgeData(asOf: string): EdgeData {
  const t = parseNaive(asOf);
  const today = Math.floor(t / DAY_MS) * DAY_MS;
  const windowStart = Math.floor(minusYears(t, 2) / DAY_MS) * DAY_MS;
  const rows: Record<string, Row[]> = {
    DIMPROVIDER: [], DIMOFFICE: [], DIMPATIENT: [], DIMPATIENTADDRESS: [], DIMPAYER: [], DIMCONTRACT: [],
    DIMSERVICECODE: [], DIMUSER: [], DIMCAREGIVER: [], FACTVISITCALLPERFORMANCE_CR: [],
  };

  // providers and their offices
  const providerIds = new Map<ProviderKey, { id: string; app: number; office: string; officeApp: number }>();
  (Object.entries(PROVIDERS) as [ProviderKey, EdgeProvider][]).forEach(([key, p], i) => {
    const pid = p.upper ? id(`provider:${key}`).toUpperCase() : id(`provider:${key}`);
    const office = id(`office:${key}`);
    providerIds.set(key, { id: pid, app: 990000 + i, office, officeApp: 995000 + i });
    const row: Row = {
      'Provider Id': pid, 'Provider Name': p.name, 'Address State': p.state, 'Is Active': p.active ?? true,
      'Is Demo': p.demo ?? false, 'Federal Tax Number': `99-${String(9000000 + i)}`, 'Phone Number 1': `(212) 555-${String(9000 + i)}`,
    };
    rows.DIMPROVIDER!.push(row);
    if (p.duplicate) rows.DIMPROVIDER!.push({ ...row, 'Provider Name': `${p.name} (DBA)`, 'Phone Number 1': null });
    rows.DIMOFFICE!.push({ 'Office Id': office, 'Office Name': `${p.name} - Main Office`, 'Is Active': true });
  });

  // patients: a provider-side and a payer-side record, each with the patient's addresses
  const addressIds = new Map<string, string[]>();
  (Object.entries(PATIENTS) as [PatientKey, EdgePatient][]).forEach(([key, p], i) => {
    for (const side of ['P', 'PA'] as const) {
      const pid = id(`patient:${side}:${key}`);
      rows.DIMPATIENT!.push({
        'Patient Id': pid, 'Patient Firstname': 'Edge', 'Patient Lastname': `Patient ${key}`,
        'Patient Name': `Patient ${key}, Edge`, 'Admission Id': side === 'P' ? `EDGE-ADM-${i}` : null,
        'Medicaid Number': `ED${String(10000 + i)}X`, Status: 'Active',
      });
      const ids: string[] = [];
      p.addresses.forEach((a, j) => {
        const aid = id(`address:${side}:${key}:${j}`);
        ids.push(aid);
        rows.DIMPATIENTADDRESS!.push({
          'Patient Address Id': aid, 'Patient Id': pid, 'Application Patient Address Id': 9_900_000 + i * 20 + j * 2 + (side === 'P' ? 0 : 1),
          'Application Patient Id': (side === 'P' ? 9_800_000 : 9_850_000) + i, 'Address Type': a.type, 'Primary Address': a.primary,
          'Application Created UTC Timestamp': a.createdDaysAgo === null ? null : formatNaive(t - a.createdDaysAgo * DAY_MS),
          Latitude: a.lat, Longitude: a.lon, 'Zip Code': a.zip,
          'Address State': side === 'PA' && p.payerState !== undefined ? p.payerState : a.state,
          'Address Line 1': `${100 + j} Edge Street`, 'Address Line 2': null, City: 'Edge City', County: 'Edge County',
        });
      });
      if (side === 'P') addressIds.set(key, ids);
    }
  });

  // the duplicated payer's id is stored upper-case (the job lower-cases ids)
  const payers = { EPAY: id('payer:EPAY'), EPAY_DUP: id('payer:EPAY_DUP').toUpperCase(), EPAY_INACTIVE: id('payer:EPAY_INACTIVE') };
  rows.DIMPAYER!.push(
    { 'Payer Id': payers.EPAY, 'Payer Name': 'Edge Medicaid Plan', 'Payer State': 'NY', 'Is Active': true, 'Is Demo': false },
    { 'Payer Id': payers.EPAY_DUP, 'Payer Name': 'Edge Managed Care', 'Payer State': 'NY', 'Is Active': true, 'Is Demo': false },
    { 'Payer Id': payers.EPAY_DUP, 'Payer Name': 'Edge Managed Care (MLTC)', 'Payer State': 'New York', 'Is Active': true, 'Is Demo': false },
    { 'Payer Id': payers.EPAY_INACTIVE, 'Payer Name': 'Edge Retired Plan', 'Payer State': 'NY', 'Is Active': false, 'Is Demo': false },
  );
  const contract = id('contract:ECON');
  rows.DIMCONTRACT!.push({ 'Contract Id': contract, 'Contract Name': 'Edge Internal Contract', 'Is Active': true });
  const serviceCode = id('service:ESVC');
  rows.DIMSERVICECODE!.push({ 'Service Code Id': serviceCode, 'Service Code': 'T1019-EDGE', 'Application Service Code Id': 99_700 });
  const user = id('user:EUSER');
  rows.DIMUSER!.push({ 'User Id': user, 'User Fullname': 'Edge Scheduler' });

  const dayMs = (d: EdgeVisit['day']): number =>
    d === 'windowStart' ? windowStart : d === 'beforeWindow' ? windowStart - DAY_MS : today + (d ?? 0) * DAY_MS;
  const at = (base: number, hhmm: string) => {
    const [h, m] = hhmm.split(':').map(Number) as [number, number];
    return formatNaive(base + (h * 60 + m) * 60_000);
  };
  const updated = (u: Updated): string | null => {
    switch (u) {
      case 'changed': return formatNaive(t - 2 * 3_600_000);
      case 'old': return formatNaive(t - 10 * DAY_MS);
      case 'null': return null;
      case 'boundary': return formatNaive(t - 36 * 3_600_000);
      case 'beforeBoundary': return formatNaive(t - 36 * 3_600_000 - 1000);
      case 'afterT': return formatNaive(t + 10 * 60_000);
    }
  };
  const contractTypes: ContractType[] = ['Payer', 'UPR', 'Internal', 'None'];
  const caregivers = new Map<string, { id: string; app: number }>();
  const scenarios: EdgeScenario[] = [];
  let visitNo = 0;

  SCENARIOS.forEach((s, si) => {
    const defaultSsn = `7${String(si).padStart(2, '0')}-55-${String(1000 + si)}`;
    const ssnOf = (v: EdgeVisit): string | null => {
      const raw = v.ssn !== undefined ? v.ssn : s.ssn !== undefined ? s.ssn : defaultSsn;
      return raw === null ? null : raw.replace('@', defaultSsn);
    };
    const visitIds: string[] = [];
    let visitDate = '';
    s.visits.forEach((v, vi) => {
      const prov = providerIds.get(v.prov)!;
      const ssn = ssnOf(v);
      const cgKey = `${s.name}:${v.prov}:${ssn ?? '<null>'}`;
      let cg = caregivers.get(cgKey);
      if (!cg) {
        const cgId = v.upper ? id(`caregiver:${cgKey}`).toUpperCase() : id(`caregiver:${cgKey}`);
        cg = { id: cgId, app: 9_000_000 + caregivers.size };
        caregivers.set(cgKey, cg);
        rows.DIMCAREGIVER!.push({
          'Caregiver Id': cg.id, 'Caregiver Code': `EDGE${String(caregivers.size).padStart(4, '0')}`,
          'Caregiver Firstname': 'Edge', 'Caregiver Lastname': s.name, 'Caregiver Fullname': `Edge ${s.name}`,
          SSN: ssn, Status: 'Active',
        });
      }
      const base = dayMs(v.day ?? s.day);
      visitDate = formatDate(base);
      const patKey: PatientKey = v.pat ?? 'NYC_A';
      const pat = PATIENTS[patKey];
      const payPatKey = v.payPat === undefined ? patKey : v.payPat;
      const vStart = v.visit ? at(base, v.visit[0]) : null;
      const vEnd = v.visit && v.visit[1] ? at(base, v.visit[1]) : null;
      const plain = `${pat.lat.toFixed(6)},${pat.lon.toFixed(6)}`;
      const ct = v.contractType ?? contractTypes[visitNo % contractTypes.length]!;
      const payerId = payers[v.payer ?? 'EPAY'];
      const visitIdRaw = id(`visit:${s.name}:${vi}`);
      const visitId = v.upper ? visitIdRaw.toUpperCase() : visitIdRaw;
      visitIds.push(visitIdRaw);
      const hours = vStart && vEnd ? (Date.parse(`${vEnd.replace(' ', 'T')}Z`) - Date.parse(`${vStart.replace(' ', 'T')}Z`)) / 3_600_000 : null;
      rows.FACTVISITCALLPERFORMANCE_CR!.push({
        'Visit Id': visitId,
        'Application Visit Id': 99_000_000 + visitNo,
        'Visit Date': `${visitDate} 00:00:00`,
        'Caregiver Id': cg.id,
        'Application Caregiver Id': cg.app,
        'Provider Id': prov.id,
        'Application Provider Id': prov.app,
        'Office Id': prov.office,
        'Application Office Id': prov.officeApp,
        'Patient Id': id(`patient:P:${patKey}`),
        'Application Patient Id': 9_800_000 + Object.keys(PATIENTS).indexOf(patKey),
        'Provider Patient Id': id(`patient:P:${patKey}`),
        'Application Provider Patient Id': 9_800_000 + Object.keys(PATIENTS).indexOf(patKey),
        'Payer Patient Id': payPatKey === null ? null : id(`patient:PA:${payPatKey}`),
        'Application Payer Patient Id': payPatKey === null ? null : 9_850_000 + Object.keys(PATIENTS).indexOf(payPatKey),
        'Payer Id': ct === 'Payer' || ct === 'UPR' ? payerId : null,
        'Application Payer Id': ct === 'Payer' || ct === 'UPR' ? 99_001 : 0,
        'Contract Id': ct === 'UPR' || ct === 'Internal' ? contract : null,
        'Application Contract Id': ct === 'UPR' || ct === 'Internal' ? 99_501 : 0,
        'Service Code Id': serviceCode,
        'Scheduled Start Time': at(base, v.sch[0]),
        'Scheduled End Time': at(base, v.sch[1]),
        'Visit Start Time': vStart,
        'Visit End Time': vEnd,
        'Call In Time': vStart,
        'Call Out Time': vEnd,
        'Call Out GPS Coordinates': vEnd === null ? null : v.gpsOut !== undefined ? v.gpsOut : plain,
        'Call In GPS Coordinates': vStart === null ? null : v.gpsIn !== undefined ? v.gpsIn : plain,
        'Call Out Device Type': vStart ? 'Mobile' : null,
        'Is Missed': v.missed ?? false,
        'Missed Visit Reason': v.missed ? 'Patient Hospitalized' : null,
        'Visit Updated Timestamp': updated(v.upd ?? (vi === 0 ? 'changed' : 'old')),
        'Visit Updated User Id': user,
        'Bill Type': 'Hourly',
        Billed: 'no',
        'Billed Hours': hours,
        'Billed Rate': 25.5,
        'Bill Rate Non-Billed': 23.5,
        'Total Billed Amount': 0,
        'Invoice Date': null,
      });
      visitNo++;
    });
    const ssn = trimSpaces(ssnOf(s.visits[0]!) ?? '');
    const expect = typeof s.expect === 'function' ? s.expect({ addressIds: (p) => addressIds.get(p) ?? [] }) : s.expect;
    scenarios.push({ name: s.name, expect, ssn, visitDate, visitIds });
  });

  return { rows, scenarios };
}
