// The bulk of the synthetic warehouse, generated inside DuckDB: every value is a pure function of
// (seed, entity index) through hash()-based pseudo-random macros, so the same seed and asOf give
// the same rows, and no row passes through JavaScript.
import type { ProfileSpec } from './profiles.js';
import { derivedSizes } from './profiles.js';
import { listLit, numListLit, tableRef, weighted } from './sql-util.js';

/** Metropolitan areas the caregivers work in. `far` is a region 100+ miles away in the same state. */
export const REGIONS = [
  { name: 'New York City', code: 'NY', lat: 40.7128, lon: -73.956, zip3: '112', home: 0.5, far: 4,
    cities: ['Brooklyn', 'Bronx', 'Queens', 'New York', 'Staten Island'], counties: ['Kings', 'Bronx', 'Queens', 'New York', 'Richmond'] },
  { name: 'Long Island', code: 'NY', lat: 40.73, lon: -73.59, zip3: '115', home: 0.14, far: 4,
    cities: ['Hempstead', 'Freeport', 'Hicksville', 'Levittown'], counties: ['Nassau'] },
  { name: 'Newark', code: 'NJ', lat: 40.7357, lon: -74.1724, zip3: '071', home: 0.18, far: 5,
    cities: ['Newark', 'Jersey City', 'Elizabeth', 'East Orange'], counties: ['Essex', 'Hudson', 'Union'] },
  { name: 'Philadelphia', code: 'PA', lat: 39.9526, lon: -75.1652, zip3: '191', home: 0.1, far: 6,
    cities: ['Philadelphia'], counties: ['Philadelphia'] },
  { name: 'Albany', code: 'NY', lat: 42.6526, lon: -73.7562, zip3: '122', home: 0.03, far: 0,
    cities: ['Albany', 'Troy', 'Schenectady'], counties: ['Albany', 'Rensselaer'] },
  { name: 'Atlantic City', code: 'NJ', lat: 39.3643, lon: -74.4229, zip3: '084', home: 0.03, far: 2,
    cities: ['Atlantic City', 'Pleasantville'], counties: ['Atlantic'] },
  { name: 'Pittsburgh', code: 'PA', lat: 40.4406, lon: -79.9959, zip3: '152', home: 0.02, far: 3,
    cities: ['Pittsburgh'], counties: ['Allegheny'] },
] as const;

/** How a state is written, by code (weights out of 100). */
const STATE_TEXT: Record<string, readonly (readonly [string | null, number])[]> = {
  NY: [['NY', 62], ['New York', 14], ['NEW YORK', 8], [' ny ', 4], ['ny', 2], [null, 5], ['', 5]],
  LI: [['NY', 61], ['New York', 14], ['NEW YORK', 8], [' ny ', 4], ['ny', 2], ['LONG ISLAND', 1], [null, 5], ['', 5]],
  NJ: [['NJ', 62], ['New Jersey', 14], ['NEW JERSEY', 10], [' nj ', 4], [null, 5], ['', 5]],
  PA: [['PA', 62], ['Pennsylvania', 14], ['PENNSYLVANIA', 10], [' pa ', 4], [null, 5], ['', 5]],
};

const FIRST_NAMES = ['Maria', 'Jose', 'Fatima', 'Mohammed', 'Olga', 'Svetlana', 'Grace', 'Joy', 'Mary', 'Patricia',
  'Jennifer', 'Linda', 'Rosa', 'Carmen', 'Ana', 'Yolanda', 'Ngozi', 'Adaeze', 'Mei', 'Li', 'Wei', 'Hui',
  'Irina', 'Natalia', 'Blessing', 'Esther', 'Marie', 'Josette', 'Guerline', 'Nadia', 'Aisha', 'Kadiatou',
  'Sonia', 'Lucia', 'Gloria', 'Elena', 'Tatiana', 'Priya', 'Anita', 'Sabrina', 'John', 'David', 'Michael', 'Samuel'];
const LAST_NAMES = ['Rodriguez', 'Garcia', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Perez', 'Sanchez', 'Ramirez',
  'Torres', 'Chen', 'Wang', 'Li', 'Zhang', 'Liu', 'Ivanova', 'Petrova', 'Smirnova', 'Okafor', 'Adeyemi', 'Mensah',
  'Diallo', 'Traore', 'Jean-Baptiste', 'Pierre', 'Joseph', 'Charles', 'Williams', 'Johnson', 'Brown', 'Jones',
  'Davis', 'Miller', 'Wilson', 'Khan', 'Rahman', 'Hossain', 'Singh', 'Patel', 'Cohen', 'Friedman', "O'Brien"];
const AGENCY_WORDS = ['Sunrise', 'Caring Hands', 'Bright Star', 'Metro', 'Angel', 'Harmony', 'Golden Age', 'First Choice',
  'Premier', 'Guardian', 'Loving Care', 'Riverside', 'Empire', 'Garden State', 'Liberty', 'Unity', 'Heritage', 'Compassion'];
const AGENCY_KINDS = ['Home Care', 'Home Health Services', 'Homecare Agency', 'Care Services', 'Home Attendants'];
const PAYER_NAMES = ['NYS Medicaid', 'Fidelis Care', 'VNS Health', 'Healthfirst', 'Centers Plan for Healthy Living',
  'ElderServe', 'MetroPlus', 'Anthem HealthPlus', 'Horizon NJ Health', 'UnitedHealthcare Community Plan', 'AmeriHealth Caritas',
  'Aetna Better Health', 'WellCare', 'Senior Whole Health', 'Empire BlueCross', 'Keystone First', 'CDPAP Program', 'Private Pay'];
const PAYER_STATES = [['NY', 50], ['NJ', 20], ['PA', 15], ['New York', 5], [null, 10]] as const;
const STREETS = ['Main St', 'Broadway', 'Atlantic Ave', 'Park Ave', 'Ocean Pkwy', 'Jamaica Ave', 'Grand Concourse',
  'Flatbush Ave', 'Queens Blvd', 'Market St', 'Elm St', 'Washington Ave', 'Central Ave', 'Union St', 'Church Ave'];
const SERVICE_CODES = ['T1019', 'S5125', 'G0156', 'T1004', 'S5130', 'T1020', 'S5135', 'G0151', 'PCA', 'HHA', 'CDPAP', 'LHCSA'];
const MISSED_REASONS = ['Patient Hospitalized', 'Caregiver No Show', 'Patient Refused Service', 'Patient Not Home',
  'Weather', 'Caregiver Sick', 'Patient Deceased'];
/** Unparsable GPS texts (bad input the job must count, not crash on). All outside the spec's form. */
export const GARBAGE_GPS = ['abc', '1,2,3', '91,0', '1e5,2', 'NaN,NaN', '40.7;-73.9', 'null', '0,181', ' , ', '--'];

/** Tags for the hash macros: one per independent random decision. */
const T = {
  REG: 1, AGN: 2, J: 3, BLANK: 4, CROSS: 5, A0: 6, AS: 7, AX: 8, CG: 9, FN: 10, LN: 11, FULL: 12, SSNSP: 13,
  SSNBL: 14, CGST: 15, CGDUP: 16, PROV: 17, PNAME: 18, PKIND: 19, PST: 20, PACT: 21, PDEMO: 22, PDUP: 23, TAX: 24,
  PHONE: 25, NOFF: 26, OFF: 27, OFFACT: 28, OFFDUP: 29, PPAT: 30, PAPAT: 31, PATFN: 32, PATLN: 33, PATST: 34,
  PATDUP: 35, APROF: 36, ADDR: 37, GPSTYPE: 38, CREATED: 39, ZIP: 40, ZIPV: 41, ASTATE: 42, CITY: 43, STREET: 44,
  LINE2: 45, PLAT: 46, PLON: 47, PAY: 48, PAYACT: 49, PAYDEMO: 50, PAYDUP: 51, PAYST: 52, CON: 53, CONACT: 54,
  CONDUP: 55, SVC: 56, SVCDUP: 57, USER: 58, USERDUP: 59, JF: 60, JR: 61, DAYU: 62, OUT: 63, OUTD: 64, V: 65,
  CHG: 66, CF: 67, KIND: 68, AGS: 69, SLOT: 70, PAT: 71, PATQ: 72, JIT: 73, DUR: 74, NS: 75, NE: 76, SHIFT: 77,
  GAP: 78, MISS: 79, ST: 80, CIADJ: 81, COADJ: 82, DEV: 83, GFO: 84, GFI: 85, GLAT: 86, GLON: 87, GGO: 88, GGI: 89,
  CT: 90, PY: 91, CO: 92, PAP: 93, SC: 94, SCQ: 95, OFN: 96, OFJ: 97, USR: 98, USRI: 99, USRX: 100, CV: 101,
  NUL: 102, AFT: 103, UPS: 104, UPO: 105, BIL: 106, RATE: 107, RATC: 108, RNB: 109, BTYPE: 110, MNULL: 111,
  MREASON: 112, VISIT: 113, ADM: 114, MCD: 115, PATSTAT: 116, CGLN2: 117, OFFN: 118, SVCN: 119, USERN: 120,
  INVD: 121, GLAT2: 122, GLON2: 123, ALAT: 124,
} as const;

export interface BulkContext {
  readonly seed: number;
  readonly spec: ProfileSpec;
  /** asOf as a SQL TIMESTAMP literal. */
  readonly asOfSql: string;
  /** date(asOf) as 'YYYY-MM-DD'. */
  readonly today: string;
  /** Minutes since midnight of asOf. */
  readonly nowMinute: number;
  /** Days from date(asOf − 2 years) to date(asOf). */
  readonly windowPastDays: number;
}

/** Days ahead of today scheduled visits reach (LOOKFORWARD_DAYS default). */
const FUTURE_DAYS = 45;
/** The recent months that hold most of the volume. */
const RECENT_DAYS = 90;

interface Partition {
  readonly start: number[];
  readonly count: number[];
  readonly total: number;
}

function partition(total: number, weights: readonly number[], min: number): Partition {
  const sum = weights.reduce((a, b) => a + b, 0);
  const count = weights.map((w) => Math.max(min, Math.round((total * w) / sum)));
  const start: number[] = [];
  let acc = 0;
  for (const c of count) {
    start.push(acc);
    acc += c;
  }
  return { start, count, total: acc };
}

/** SQL CASE mapping an index into a partition to its region number. */
function regionOfIndex(expr: string, p: Partition): string {
  const whens = p.start.slice(1).map((s, r) => `WHEN ${expr} < ${s} THEN ${r}`);
  return `(CASE ${whens.join(' ')} ELSE ${p.start.length - 1} END)`;
}

function pick(list: readonly (string | null)[], hashExpr: (n: number) => string): string {
  return `${listLit(list)}[1 + ${hashExpr(list.length)}]`;
}

/** Weighted pick from a (value, weight) table, via a 100-entry list. */
function wpick(pairs: readonly (readonly [string | null, number])[], hashExpr: (n: number) => string): string {
  return pick(weighted(pairs, 100), hashExpr);
}

/** A state text expression for a region expression (codes NY/NJ/PA, Long Island's own mix). */
function stateText(regionExpr: string, hashExpr: (n: number) => string): string {
  const whens = REGIONS.map((r, i) => {
    const key = i === 1 ? 'LI' : r.code;
    return `WHEN ${i} THEN ${wpick(STATE_TEXT[key]!, hashExpr)}`;
  });
  return `(CASE ${regionExpr} ${whens.join(' ')} END)`;
}

function perRegion(regionExpr: string, f: (r: (typeof REGIONS)[number]) => string): string {
  return `(CASE ${regionExpr} ${REGIONS.map((r, i) => `WHEN ${i} THEN ${f(r)}`).join(' ')} END)`;
}

/** UUID v4-shaped text from two 64-bit hash columns. */
const uidFmt = (h1: string, h2: string) =>
  `printf('%08x-%04x-4%03x-%04x-%012x', ${h1} >> 32, (${h1} >> 16) & 65535, ${h1} & 4095, ((${h2} >> 48) & 16383) | 32768, ${h2} & 281474976710655)`;

/**
 * Id columns for the rows of `from`: hashes computed once per row in an inner query, then
 * formatted; about one id in 20 is upper-case text (the job lower-cases the ids it reads).
 * `ids` maps an output column to its hash tag expression; `a`, `b` are the entity's key.
 */
function withIds(from: string, keep: string, ids: Record<string, string>, a: string | Record<string, [string, string]>, b = '0'): string {
  const keyOf = (col: string): [string, string] => (typeof a === 'string' ? [a, b] : a[col]!);
  const inner = Object.entries(ids)
    .map(([col, tag]) => {
      const [x, y] = keyOf(col);
      return `h(${tag}, ${x}, ${y}) AS ${col}_h1, h((${tag}) + 1000, ${x}, ${y}) AS ${col}_h2, ri((${tag}) + 2000, ${x}, ${y}, 20) = 0 AS ${col}_up`;
    })
    .join(', ');
  const outer = Object.keys(ids)
    .map((col) => `CASE WHEN ${col}_up THEN upper(${uidFmt(`${col}_h1`, `${col}_h2`)}) ELSE ${uidFmt(`${col}_h1`, `${col}_h2`)} END AS ${col}`)
    .join(', ');
  return `SELECT ${keep}, ${outer} FROM (SELECT ${keep}, ${inner} FROM ${from})`;
}

export interface BulkPlan {
  readonly macros: string[];
  readonly steps: { label: string; sql: string }[];
  readonly sizes: { caregivers: number; providers: number; patients: number; groups: number };
}

export function bulkPlan(ctx: BulkContext): BulkPlan {
  const { spec, seed } = ctx;
  const sizes = derivedSizes(spec);
  const P = sizes.caregivers;
  const homeW = REGIONS.map((r) => r.home);
  const prov = partition(spec.providers, homeW, 3);
  const pat = partition(sizes.patients, homeW, 20);
  const NPROV = prov.total;
  const NPAT = pat.total;
  const seedSql = `${Math.trunc(seed)}::BIGINT`;
  const seedOff = ((Math.trunc(seed) % 500_000_000) + 500_000_000) % 500_000_000;

  const macros = [
    `CREATE OR REPLACE TEMP MACRO h(t, a, b) AS hash(${seedSql}, (t)::BIGINT, (a)::BIGINT, (b)::BIGINT)`,
    `CREATE OR REPLACE TEMP MACRO u01(t, a, b) AS (h(t, a, b) >> 11)::DOUBLE / 9007199254740992.0`,
    `CREATE OR REPLACE TEMP MACRO ri(t, a, b, n) AS (h(t, a, b) % (n)::UBIGINT)::BIGINT`,
    `CREATE OR REPLACE TEMP MACRO uid(t, a, b) AS printf('%08x-%04x-4%03x-%04x-%012x', h(t, a, b) >> 32, (h(t, a, b) >> 16) & 65535, h(t, a, b) & 4095, ((h((t) + 1000, a, b) >> 48) & 16383) | 32768, h((t) + 1000, a, b) & 281474976710655)`,
    `CREATE OR REPLACE TEMP MACRO gps_text(form, lat, lon, g) AS CASE
        WHEN form < 70 THEN printf('%.6f,%.6f', lat, lon)
        WHEN form < 76 THEN printf('"%.6f","%.6f"', lat, lon)
        WHEN form < 81 THEN printf(' %.6f , %.6f ', lat, lon)
        WHEN form < 83 THEN printf(' "%.6f" ,%.6f', lat, lon)
        WHEN form < 85 THEN printf('%.4f,%.4f', lat, lon)
        WHEN form < 89 THEN NULL
        WHEN form < 92 THEN ''
        WHEN form < 94 THEN ','
        ELSE ${listLit(GARBAGE_GPS)}[1 + g] END`,
  ];

  const regionCum = (() => {
    const sum = homeW.reduce((a, b) => a + b, 0);
    let acc = 0;
    return homeW.map((w) => (acc += w / sum));
  })();
  const regionPick = (u: string) =>
    `(CASE ${regionCum.slice(0, -1).map((c, i) => `WHEN ${u} < ${c} THEN ${i}`).join(' ')} ELSE ${REGIONS.length - 1} END)`;
  const [, ag2, ag3] = spec.agencies;
  const n0 = spec.placeholderSsnCaregivers;
  const jMax = 2 * spec.daysPerCaregiver - 1;

  const patLat = (patExpr: string, regionExpr: string) =>
    `(${numListLit(REGIONS.map((r) => r.lat))}[${regionExpr} + 1] + (u01(${T.PLAT}, ${patExpr}, 0) - 0.5) * 0.08)`;
  const patLon = (patExpr: string, regionExpr: string) =>
    `(${numListLit(REGIONS.map((r) => r.lon))}[${regionExpr} + 1] + (u01(${T.PLON}, ${patExpr}, 0) - 0.5) * 0.10)`;
  const zip5 = (patExpr: string, regionExpr: string, bump: string) =>
    `(${listLit(REGIONS.map((r) => r.zip3))}[${regionExpr} + 1] || lpad(((ri(${T.ZIP}, ${patExpr}, 0, 100) + ${bump}) % 100)::VARCHAR, 2, '0'))`;
  const offices = (provExpr: string) => `(1 + ri(${T.NOFF}, ${provExpr}, 0, 3))`;

  const steps: { label: string; sql: string }[] = [];

  // ---- caregivers (people): region, agencies, SSN ----
  steps.push({
    label: 'caregivers (people)',
    sql: `CREATE OR REPLACE TEMP TABLE g_person AS
WITH a AS (
  SELECT p,
    ${regionPick(`u01(${T.REG}, p, 0)`)} AS region,
    CASE WHEN u01(${T.AGN}, p, 0) < ${ag3} THEN 3 WHEN u01(${T.AGN}, p, 0) < ${ag3 + ag2} THEN 2 ELSE 1 END AS k,
    1 + ri(${T.J}, p, 0, ${jMax}) AS jn,
    CASE WHEN p < ${n0} THEN 1 WHEN p < ${2 * n0} THEN 2 WHEN u01(${T.BLANK}, p, 0) < ${spec.blankSsnShare} THEN 3 ELSE 0 END AS ssn_kind
  FROM range(${P}) t(p)
), b AS (
  SELECT *, ${numListLit(prov.start)}[region + 1] AS ps, ${numListLit(prov.count)}[region + 1] AS pn,
    (region = 0 AND k >= 2 AND u01(${T.CROSS}, p, 0) < ${spec.crossStateShare}) AS cross_state
  FROM a
), c AS (
  SELECT *, ri(${T.A0}, p, 0, pn) AS off0, 1 + ri(${T.AS}, p, 0, greatest(1, (pn - 1) // 2)) AS step,
    100000000 + ((p + ${seedOff}) * 387420489) % 500000000 AS n
  FROM b
)
SELECT p, region, k, jn, ssn_kind, cross_state,
  ps + off0 AS a0,
  CASE WHEN cross_state THEN ${prov.start[2]} + ri(${T.AX}, p, 0, ${prov.count[2]}) ELSE ps + (off0 + step) % pn END AS a1,
  ps + (off0 + 2 * step) % pn AS a2,
  CASE ssn_kind WHEN 1 THEN '000-00-0000' WHEN 2 THEN '999-99-9999' WHEN 3 THEN NULL
    ELSE printf('%03d-%02d-%04d', n // 1000000, (n // 10000) % 100, n % 10000) END AS ssn
FROM c`,
  });

  // ---- ids of every entity, formatted once (the dimensions and the fact join these) ----
  const keyTables: [string, string][] = [
    ['k_cg', withIds('(SELECT p AS cg_p, unnest(range(k)) AS cg_s FROM g_person)', 'cg_p, cg_s', { cg_id: `${T.CG}` }, 'cg_p', 'cg_s')],
    ['k_prov', withIds(`(SELECT i AS prov_i FROM range(${NPROV}) t(i))`, 'prov_i', { prov_id: `${T.PROV}` }, 'prov_i', '0')],
    ['k_off', withIds(`(SELECT i AS off_i, unnest(range(${offices('i')})) AS off_j FROM range(${NPROV}) t(i))`, 'off_i, off_j', { off_id: `${T.OFF}` }, 'off_i', 'off_j')],
    ['k_pat', withIds(`(SELECT i AS pat_i FROM range(${NPAT}) t(i))`, 'pat_i', { pat_id: `${T.PPAT}`, papat_id: `${T.PAPAT}` }, 'pat_i', '0')],
    ['k_pay', withIds(`(SELECT i AS pay_i FROM range(${spec.payers}) t(i))`, 'pay_i', { pay_id: `${T.PAY}` }, 'pay_i', '0')],
    ['k_con', withIds(`(SELECT i AS con_i FROM range(${spec.contracts}) t(i))`, 'con_i', { con_id: `${T.CON}` }, 'con_i', '0')],
    ['k_svc', withIds(`(SELECT i AS svc_i FROM range(${spec.serviceCodes}) t(i))`, 'svc_i', { svc_id: `${T.SVC}` }, 'svc_i', '0')],
    ['k_user', withIds(`(SELECT i AS user_i FROM range(${spec.users}) t(i))`, 'user_i', { user_id: `${T.USER}` }, 'user_i', '0')],
  ];
  steps.push({
    label: 'ids',
    sql: keyTables.map(([name, sel]) => `CREATE OR REPLACE TEMP TABLE ${name} AS ${sel}`).join(';\n'),
  });

  // ---- DIMCAREGIVER: one row per (person, agency); same SSN, different Caregiver Id ----
  const cgStatus: [string, number][] = [['Active', 85], ['Terminated', 8], ['Inactive', 5], ['On Leave', 2]];
  steps.push({
    label: 'DIMCAREGIVER',
    sql: `INSERT INTO ${tableRef('DIMCAREGIVER')} BY NAME
WITH c AS (
  SELECT g.*, ${pick(FIRST_NAMES, (n) => `ri(${T.FN}, p, 0, ${n})`)} AS fn, ${pick(LAST_NAMES, (n) => `ri(${T.LN}, p, 0, ${n})`)} AS ln,
    kc.cg_s AS s, kc.cg_id
  FROM g_person g JOIN k_cg kc ON kc.cg_p = g.p
), r AS (
  SELECT
    cg_id AS "Caregiver Id",
    'CG' || lpad((100000 + p * 3 + s)::VARCHAR, 8, '0') AS "Caregiver Code",
    fn AS "Caregiver Firstname",
    ln AS "Caregiver Lastname",
    CASE WHEN ri(${T.FULL}, p, s, 10) = 0 THEN ln || ', ' || fn ELSE fn || ' ' || ln END AS "Caregiver Fullname",
    CASE WHEN ssn_kind = 3 THEN ${listLit([null, '', '   '])}[1 + ri(${T.SSNBL}, p, s, 3)]
      ELSE CASE ri(${T.SSNSP}, p, s, 100) WHEN 0 THEN ' ' || ssn WHEN 1 THEN ssn || '  ' WHEN 2 THEN ' ' || ssn || ' ' ELSE ssn END
    END AS "SSN",
    ${wpick(cgStatus, (n) => `ri(${T.CGST}, p, s, ${n})`)} AS "Status",
    p, s
  FROM c
)
SELECT * EXCLUDE (p, s) FROM r
UNION ALL
-- a few caregivers appear twice (a re-hire): same id and SSN, another status
SELECT * EXCLUDE (p, s) REPLACE ('Terminated' AS "Status") FROM r WHERE ri(${T.CGDUP}, p, s, 400) = 0`,
  });

  // ---- DIMPROVIDER ----
  const provRegion = regionOfIndex('i', prov);
  steps.push({
    label: 'DIMPROVIDER',
    sql: `INSERT INTO ${tableRef('DIMPROVIDER')} BY NAME
WITH r AS (
  SELECT i,
    prov_id AS "Provider Id",
    ${pick(AGENCY_WORDS, (n) => `ri(${T.PNAME}, i, 0, ${n})`)} || ' ' || ${pick(AGENCY_KINDS, (n) => `ri(${T.PKIND}, i, 0, ${n})`)}
      || CASE WHEN i >= 40 THEN ' ' || (i // 40)::VARCHAR ELSE '' END AS "Provider Name",
    ${stateText(provRegion, (n) => `ri(${T.PST}, i, 0, ${n})`)} AS "Address State",
    u01(${T.PACT}, i, 0) >= 0.035 AS "Is Active",
    u01(${T.PDEMO}, i, 0) < 0.015 AS "Is Demo",
    printf('%02d-%07d', 10 + ri(${T.TAX}, i, 0, 89), ri(${T.TAX}, i, 1, 10000000)) AS "Federal Tax Number",
    CASE WHEN ri(${T.PHONE}, i, 1, 20) = 0 THEN NULL
      ELSE printf('(%03d) 555-%04d', ${numListLit([212, 718, 917, 516, 973, 201, 215, 518, 609, 412])}[1 + ri(${T.PHONE}, i, 0, 10)], ri(${T.PHONE}, i, 2, 10000)) END AS "Phone Number 1"
  FROM range(${NPROV}) t(i) JOIN k_prov ON prov_i = i
)
SELECT * EXCLUDE (i) FROM r
UNION ALL
-- an agency's earlier, inactive record under the same id
SELECT * EXCLUDE (i) REPLACE ("Provider Name" || ' (old)' AS "Provider Name", false AS "Is Active") FROM r WHERE ri(${T.PDUP}, i, 0, 100) = 0`,
  });

  // ---- DIMOFFICE: 1–3 offices per provider ----
  const officeNames = ['Main Office', 'Bronx', 'Queens', 'Brooklyn', 'North', 'South', 'Downtown', 'West'];
  steps.push({
    label: 'DIMOFFICE',
    sql: `INSERT INTO ${tableRef('DIMOFFICE')} BY NAME
WITH r AS (
  SELECT off_i AS i, off_j AS j,
    off_id AS "Office Id",
    'Office ' || (i + 1)::VARCHAR || ' - ' || ${pick(officeNames, (n) => `ri(${T.OFFN}, i, j, ${n})`)} AS "Office Name",
    u01(${T.OFFACT}, i, j) >= 0.05 AS "Is Active"
  FROM k_off
)
SELECT * EXCLUDE (i, j) FROM r
UNION ALL
SELECT * EXCLUDE (i, j) REPLACE ("Office Name" || ' (closed)' AS "Office Name", ri(${T.OFFDUP}, i, j, 100) = 0 AS "Is Active")
FROM r WHERE ri(${T.OFFDUP}, i, j, 100) < 4`,
  });

  // ---- DIMPATIENT: provider-side and payer-side record of every patient ----
  const patRegion = regionOfIndex('i', pat);
  const patStatus: [string, number][] = [['Active', 85], ['Discharged', 10], ['Hold', 5]];
  steps.push({
    label: 'DIMPATIENT',
    sql: `INSERT INTO ${tableRef('DIMPATIENT')} BY NAME
WITH r AS (
  SELECT i, side,
    CASE side WHEN 0 THEN pat_id ELSE papat_id END AS "Patient Id",
    ${pick(FIRST_NAMES, (n) => `ri(${T.PATFN}, i, 0, ${n})`)} AS "Patient Firstname",
    ${pick(LAST_NAMES, (n) => `ri(${T.PATLN}, i, 0, ${n})`)} AS "Patient Lastname",
    ${pick(LAST_NAMES, (n) => `ri(${T.PATLN}, i, 0, ${n})`)} || ', ' || ${pick(FIRST_NAMES, (n) => `ri(${T.PATFN}, i, 0, ${n})`)} AS "Patient Name",
    CASE WHEN side = 0 THEN 'ADM' || lpad((i * 7 + 13)::VARCHAR, 9, '0') ELSE NULL END AS "Admission Id",
    CASE WHEN ri(${T.MCD}, i, 1, 10) = 0 THEN NULL
      ELSE chr(65 + ri(${T.MCD}, i, 2, 26)::INTEGER) || chr(65 + ri(${T.MCD}, i, 3, 26)::INTEGER) || lpad(ri(${T.MCD}, i, 4, 100000)::VARCHAR, 5, '0') || chr(65 + ri(${T.MCD}, i, 5, 26)::INTEGER) END AS "Medicaid Number",
    ${wpick(patStatus, (n) => `ri(${T.PATSTAT}, i, side, ${n})`)} AS "Status"
  FROM range(${NPAT}) t(i) JOIN k_pat ON pat_i = i, (VALUES (0), (1)) s(side)
)
SELECT * EXCLUDE (i, side) FROM r
UNION ALL
SELECT * EXCLUDE (i, side) REPLACE ('Discharged' AS "Status") FROM r WHERE ri(${T.PATDUP}, i, side, 500) = 0`,
  });

  // ---- DIMPATIENTADDRESS: the address mix of every patient record ----
  // Roles: 1 GPS primary (current), 2 Home primary created later (not GPS), 3 older GPS primary,
  // 4 newer non-primary GPS, 5 GPS primary with NULL created, 6 GPS primary tied with 1,
  // 7 Home primary only, 8 lower-case 'gps' primary (does not match), 9 GPS primary, NULL coords.
  const roleLists = '[[1],[1,2],[1,3],[1,4],[5,1],[1,6],[7],[8],[9],[]]';
  const profileOf = (bucket: string) =>
    `CASE WHEN ${bucket} < 62 THEN 0 WHEN ${bucket} < 72 THEN 1 WHEN ${bucket} < 78 THEN 2 WHEN ${bucket} < 82 THEN 3 WHEN ${bucket} < 86 THEN 4 WHEN ${bucket} < 89 THEN 5 WHEN ${bucket} < 93 THEN 6 WHEN ${bucket} < 95 THEN 7 WHEN ${bucket} < 97 THEN 8 ELSE 9 END`;
  const gpsTypes: [string, number][] = [['GPS', 70], ['Home GPS', 20], ['GPS Address', 10]];
  steps.push({
    label: 'DIMPATIENTADDRESS',
    sql: `INSERT INTO ${tableRef('DIMPATIENTADDRESS')} BY NAME
WITH pr AS (
  SELECT i, side, ${patRegion} AS rr, ${profileOf(`ri(${T.APROF}, i, side, 100)`)} AS prof
  FROM range(${NPAT}) t(i), (VALUES (0), (1)) s(side)
), a AS (
  SELECT *, unnest(range(len(${roleLists}[prof + 1]))) AS a FROM pr
), b AS (
  SELECT *, ${roleLists}[prof + 1][a + 1] AS role,
    ${ctx.asOfSql} - to_days((30 + ri(${T.CREATED}, i, side, 900))::INTEGER) - to_seconds(ri(${T.CREATED}, i, side + 7, 86400)) AS base_created
  FROM a
), c AS (
  ${withIds('b', '*', { aid: `${T.ADDR}` }, 'i * 2 + side', 'a')}
)
SELECT
  aid AS "Patient Address Id",
  CASE side WHEN 0 THEN pat_id ELSE papat_id END AS "Patient Id",
  (i * 2 + side) * 4 + a + 1 AS "Application Patient Address Id",
  i + CASE side WHEN 0 THEN 200000 ELSE 5000000 END AS "Application Patient Id",
  CASE WHEN role IN (2, 7) THEN ${pick(['Home', 'Home', 'Mailing'], (n) => `ri(${T.GPSTYPE}, i, side * 8 + a, ${n})`)}
       WHEN role = 8 THEN 'gps'
       ELSE ${wpick(gpsTypes, (n) => `ri(${T.GPSTYPE}, i, side * 8 + a, ${n})`)} END AS "Address Type",
  role <> 4 AS "Primary Address",
  CASE role WHEN 2 THEN base_created + INTERVAL 10 DAY WHEN 3 THEN base_created - INTERVAL 200 DAY WHEN 4 THEN base_created + INTERVAL 20 DAY
    WHEN 5 THEN NULL ELSE base_created END AS "Application Created UTC Timestamp",
  CASE WHEN role = 9 THEN NULL
       WHEN role = 1 AND ri(${T.ALAT}, i, side, 400) = 0 THEN 95.0
       ELSE ${patLat('i', 'rr')} + CASE role WHEN 3 THEN 0.02 WHEN 4 THEN 0.3 WHEN 5 THEN 0.015 WHEN 6 THEN 0.001 ELSE 0 END END AS "Latitude",
  CASE WHEN role = 9 THEN NULL
       ELSE ${patLon('i', 'rr')} + CASE role WHEN 3 THEN -0.02 WHEN 4 THEN 0.3 WHEN 5 THEN 0.01 WHEN 6 THEN 0.001 ELSE 0 END END AS "Longitude",
  CASE WHEN ri(${T.ZIPV}, i, side, 100) < 2 THEN NULL
       WHEN ri(${T.ZIPV}, i, side, 100) < 4 THEN ''
       WHEN ri(${T.ZIPV}, i, side, 100) < 7 THEN ' ' || ${zip5('i', 'rr', '0')} || ' '
       WHEN ri(${T.ZIPV}, i, side, 100) < 9 THEN ${zip5('i', 'rr', '0')} || '-' || lpad(ri(${T.ZIP}, i, 1, 10000)::VARCHAR, 4, '0')
       ELSE ${zip5('i', 'rr', 'CASE WHEN role IN (3, 4) THEN 1 ELSE 0 END')} END AS "Zip Code",
  ${stateText('rr', (n) => `ri(${T.ASTATE}, i, side, ${n})`)} AS "Address State",
  (1 + ri(${T.STREET}, i, 1, 9000))::VARCHAR || ' ' || ${pick(STREETS, (n) => `ri(${T.STREET}, i, CASE WHEN role IN (3, 4) THEN 2 ELSE 0 END, ${n})`)} AS "Address Line 1",
  CASE WHEN ri(${T.LINE2}, i, 0, 10) < 4 THEN 'Apt ' || (1 + ri(${T.LINE2}, i, 1, 30))::VARCHAR || chr(65 + ri(${T.LINE2}, i, 2, 8)::INTEGER) ELSE NULL END AS "Address Line 2",
  ${perRegion('rr', (r) => pick(r.cities, (n) => `ri(${T.CITY}, i, 0, ${n})`))} AS "City",
  ${perRegion('rr', (r) => pick(r.counties, (n) => `ri(${T.CITY}, i, 1, ${n})`))} AS "County"
FROM c JOIN k_pat ON pat_i = i`,
  });

  // ---- DIMPAYER (some payers twice, both active), DIMCONTRACT, DIMSERVICECODE, DIMUSER ----
  steps.push({
    label: 'DIMPAYER',
    sql: `INSERT INTO ${tableRef('DIMPAYER')} BY NAME
WITH r AS (
  SELECT i,
    pay_id AS "Payer Id",
    ${listLit(PAYER_NAMES)}[1 + i % ${PAYER_NAMES.length}] || CASE WHEN i >= ${PAYER_NAMES.length} THEN ' Plan ' || (i // ${PAYER_NAMES.length})::VARCHAR ELSE '' END AS "Payer Name",
    ${wpick(PAYER_STATES, (n) => `ri(${T.PAYST}, i, 0, ${n})`)} AS "Payer State",
    u01(${T.PAYACT}, i, 0) >= 0.06 AS "Is Active",
    u01(${T.PAYDEMO}, i, 0) < 0.03 AS "Is Demo"
  FROM range(${spec.payers}) t(i) JOIN k_pay ON pay_i = i
)
SELECT * EXCLUDE (i) FROM r
UNION ALL
-- duplicate dimension rows: a second active row for the same Payer Id
SELECT * EXCLUDE (i) REPLACE ("Payer Name" || ' (Managed LTC)' AS "Payer Name", true AS "Is Active", false AS "Is Demo")
FROM r WHERE i % 10 = 3`,
  });
  steps.push({
    label: 'DIMCONTRACT',
    sql: `INSERT INTO ${tableRef('DIMCONTRACT')} BY NAME
WITH r AS (
  SELECT i,
    con_id AS "Contract Id",
    ${listLit(PAYER_NAMES)}[1 + ri(${T.CON}, i, 1, ${PAYER_NAMES.length})] || ' Contract ' || (2019 + ri(${T.CON}, i, 2, 7))::VARCHAR || '-' || (i + 1)::VARCHAR AS "Contract Name",
    u01(${T.CONACT}, i, 0) >= 0.05 AS "Is Active"
  FROM range(${spec.contracts}) t(i) JOIN k_con ON con_i = i
)
SELECT * EXCLUDE (i) FROM r
UNION ALL
SELECT * EXCLUDE (i) REPLACE ("Contract Name" || ' (renewal)' AS "Contract Name", true AS "Is Active") FROM r WHERE i % 15 = 7`,
  });
  steps.push({
    label: 'DIMSERVICECODE',
    sql: `INSERT INTO ${tableRef('DIMSERVICECODE')} BY NAME
WITH r AS (
  SELECT i,
    svc_id AS "Service Code Id",
    ${listLit(SERVICE_CODES)}[1 + i % ${SERVICE_CODES.length}] || CASE WHEN i >= ${SERVICE_CODES.length} THEN '-' || ${listLit(['U1', 'U2', 'TT', 'HQ', 'UA', 'KX'])}[1 + (i // ${SERVICE_CODES.length}) % 6] || (i // ${SERVICE_CODES.length * 6})::VARCHAR ELSE '' END AS "Service Code",
    700 + i AS "Application Service Code Id"
  FROM range(${spec.serviceCodes}) t(i) JOIN k_svc ON svc_i = i
)
SELECT * EXCLUDE (i) FROM r
UNION ALL
SELECT * EXCLUDE (i) REPLACE ("Service Code" || ' (legacy)' AS "Service Code") FROM r WHERE i % 25 = 11`,
  });
  steps.push({
    label: 'DIMUSER',
    sql: `INSERT INTO ${tableRef('DIMUSER')} BY NAME
WITH r AS (
  SELECT i,
    user_id AS "User Id",
    ${pick(FIRST_NAMES, (n) => `ri(${T.USERN}, i, 0, ${n})`)} || ' ' || ${pick(LAST_NAMES, (n) => `ri(${T.USERN}, i, 1, ${n})`)} AS "User Fullname"
  FROM range(${spec.users}) t(i) JOIN k_user ON user_i = i
)
SELECT * EXCLUDE (i) FROM r
UNION ALL
SELECT * EXCLUDE (i) REPLACE ("User Fullname" || ' (admin)' AS "User Fullname") FROM r WHERE i % 20 = 3`,
  });

  // ---- FACTVISITCALLPERFORMANCE_CR ----
  const [w1, w2, w3] = spec.visitsPerDay;
  const W = ctx.windowPastDays;
  const R = RECENT_DAYS;
  const F = FUTURE_DAYS;
  const fFut = 0.1;
  const fRec = 0.4;
  const out = spec.outsideWindowShare;
  const T0 = ctx.asOfSql;
  const vd = `(DATE '${ctx.today}' + day::INTEGER)::TIMESTAMP`;
  const at = (minutes: string) => `(${vd} + to_minutes((${minutes})::BIGINT))`;
  const dev: [string | null, number][] = [['Mobile', 72], ['IVR', 18], ['FOB', 5], [null, 5]];
  const billTypes: [string, number][] = [['Hourly', 80], ['Visit', 12], ['Daily', 8]];
  const farList = numListLit(REGIONS.map((r) => r.far));
  // kinds: 0 none, 1 same scheduled times, 2 overlapping scheduled, 3 same visit times,
  // 4 overlapping visits, 5 scheduled = other's visit times, 6 scheduled overlaps other's visit,
  // 7 travel-impossible (far apart, small gap)
  const pastKinds = numListLit(weighted<number>([[3, 25], [4, 30], [5, 10], [6, 10], [7, 25]], 20));
  steps.push({
    label: 'FACTVISITCALLPERFORMANCE_CR',
    sql: `INSERT INTO ${tableRef('FACTVISITCALLPERFORMANCE_CR')} BY NAME
WITH g0 AS (
  SELECT p, region, k AS pk, ssn_kind, cross_state, a0, a1, a2, jn, unnest(range(jn)) AS j FROM g_person
), g1 AS (
  SELECT *, p * 64 + j AS gid,
    least(jn, floor(jn * ${fFut} + u01(${T.JF}, p, 0))::BIGINT) AS jf,
    floor(jn * ${fRec} + u01(${T.JR}, p, 0))::BIGINT AS jr0,
    u01(${T.DAYU}, p, j) AS du
  FROM g0
), g2 AS (
  SELECT *, least(jr0, jn - jf) AS jr FROM g1
), g3 AS (
  SELECT *,
    CASE
      WHEN j < jf THEN CASE WHEN u01(${T.OUT}, gid, 0) < ${out} THEN ${F + 1} + ri(${T.OUTD}, gid, 0, 30)
                            ELSE 1 + floor((j + du) * ${F} / jf)::BIGINT END
      WHEN j < jf + jr THEN -floor((j - jf + du) * ${R} / jr)::BIGINT
      ELSE CASE WHEN u01(${T.OUT}, gid, 0) < ${out} THEN -(${W + 1} + ri(${T.OUTD}, gid, 0, 120))
                ELSE -(${R} + floor((j - jf - jr + du) * ${W - R + 1} / greatest(1, jn - jf - jr))::BIGINT) END
    END AS day,
    CASE WHEN u01(${T.V}, gid, 0) < ${w1} THEN 1 WHEN u01(${T.V}, gid, 0) < ${w1 + w2} THEN 2
         WHEN u01(${T.V}, gid, 0) < ${w1 + w2 + w3} THEN 3 ELSE 4 END AS v0,
    u01(${T.CHG}, gid, 0) < ${spec.changedDayShare} AS grp_changed,
    pk >= 2 AND u01(${T.CF}, gid, 0) < ${spec.conflictDayShare} AS has_conflict
  FROM g2
), g4 AS (
  SELECT *,
    CASE WHEN NOT has_conflict THEN 0
         WHEN day >= 0 THEN 1 + ri(${T.KIND}, gid, 0, 2)
         ELSE ${pastKinds}[1 + ri(${T.KIND}, gid, 0, 20)] END AS kind,
    CASE WHEN has_conflict THEN greatest(v0, 2) ELSE v0 END AS v
  FROM g3
), v1 AS (
  SELECT * EXCLUDE (g0_k), CASE WHEN kind > 0 AND g0_k < 2 THEN g0_k ELSE ri(${T.AGS}, gid, g0_k, pk) END AS s, g0_k AS k
  FROM (SELECT *, unnest(range(v)) AS g0_k, ri(${T.SLOT}, gid, 0, 5 - v) AS slot_off FROM g4)
), v2 AS (
  SELECT *,
    CASE s WHEN 0 THEN a0 WHEN 1 THEN a1 ELSE a2 END AS prov,
    CASE WHEN s = 1 AND cross_state THEN 2 ELSE region END AS preg
  FROM v1
), v3 AS (
  SELECT *, CASE WHEN kind = 7 AND k = 1 THEN ${farList}[preg + 1] ELSE preg END AS rr FROM v2
), v4 AS (
  SELECT *,
    ${numListLit(pat.start)}[rr + 1] + ri(${T.PAT}, p * 4 + s, rr * 16 + ri(${T.PATQ}, gid, k, 3), ${numListLit(pat.count)}[rr + 1]) AS pat,
    420 + 240 * slot_off + 15 * ri(${T.JIT}, gid, 0, 2) AS s0,
    60 + 15 * ri(${T.DUR}, gid, 0, 5) AS d0,
    ri(${T.NS}, gid, 0, 21) - 10 AS ns0,
    ri(${T.NE}, gid, 0, 21) - 10 AS ne0,
    420 + 240 * (k + slot_off) + 15 * ri(${T.JIT}, gid, k, 2) AS sk,
    60 + 15 * ri(${T.DUR}, gid, k, 5) AS dk,
    ri(${T.NS}, gid, k, 21) - 10 AS nsk,
    ri(${T.NE}, gid, k, 21) - 10 AS nek,
    15 * (1 + ri(${T.SHIFT}, gid, 0, 3)) AS shift3,
    15 * (1 + ri(${T.SHIFT}, gid, 0, 2)) AS shift2,
    10 + ri(${T.GAP}, gid, 0, 31) AS gap,
    day <= 0 AND u01(${T.MISS}, gid, k) < ${spec.missedShare} AS missed
  FROM v3
), v5 AS (
  SELECT *,
    CASE WHEN k <> 1 OR kind = 0 THEN sk
         WHEN kind IN (1, 3) THEN s0
         WHEN kind IN (2, 4) THEN s0 + shift3
         WHEN kind = 5 THEN s0 + ns0
         WHEN kind = 6 THEN s0 + ns0 + shift2
         ELSE s0 + d0 + ne0 + gap END AS sch_s,
    CASE WHEN k = 1 AND kind = 3 THEN ns0 WHEN k = 1 AND kind IN (2, 4, 6, 7) THEN 0 ELSE nsk END AS ns,
    CASE WHEN k = 1 AND kind = 3 THEN ne0 WHEN k = 1 AND kind IN (2, 4, 6, 7) THEN 0 ELSE nek END AS ne
  FROM v4
), v6 AS (
  SELECT *,
    CASE WHEN k = 1 AND kind IN (1, 3) THEN s0 + d0
         WHEN k = 1 AND kind = 5 THEN s0 + d0 + ne0
         ELSE sch_s + dk END AS sch_e
  FROM v5
), v7 AS (
  SELECT *,
    CASE WHEN missed THEN 'M'
         WHEN kind IN (1, 2) AND k < 2 THEN 'U'
         WHEN kind IN (3, 4, 7) AND k < 2 THEN 'C'
         WHEN kind IN (5, 6) AND k = 0 THEN 'C'
         WHEN kind IN (5, 6) AND k = 1 THEN 'U'
         WHEN day > 0 THEN 'U'
         WHEN day = 0 THEN CASE WHEN sch_e + 15 <= ${ctx.nowMinute} THEN 'C' WHEN sch_s <= ${ctx.nowMinute} THEN 'P' ELSE 'U' END
         ELSE ${pick(weighted<string>([['C', 965], ['U', 25], ['P', 10]], 200), (n) => `ri(${T.ST}, gid, k, ${n})`)}
    END AS st,
    grp_changed AND (k = 0 OR u01(${T.CV}, gid, k) < 0.85) AS changed_v,
    -- the patient's location (its current GPS address), where the caregiver calls in and out
    ${patLat('pat', 'rr')} AS plat,
    ${patLon('pat', 'rr')} AS plon,
    ri(${T.CT}, gid, k, 100) AS ctb,
    ri(${T.PY}, p * 4 + s, 0, ${spec.payers}) AS payer_i,
    ri(${T.CO}, p * 4 + s, 0, ${spec.contracts}) AS contract_i,
    ri(${T.OFJ}, p * 4 + s, 0, ${offices('prov')}) AS office_j,
    18 + ri(${T.RATE}, p * 4 + s, 0, 18) + 0.25 * ri(${T.RATC}, p * 4 + s, 0, 4) AS rate,
    ri(${T.SC}, p * 4 + s, ri(${T.SCQ}, gid, k, 2), ${spec.serviceCodes}) AS svc,
    ri(${T.USRI}, gid, k, ${spec.users}) AS usr
  FROM v6
), v8 AS (
  SELECT *,
    CASE WHEN st IN ('C', 'P') THEN sch_s + ns END AS vs,
    CASE WHEN st = 'C' THEN sch_e + ne END AS ve,
    CASE WHEN st NOT IN ('C', 'P') THEN NULL
         WHEN kind = 7 AND k < 2 THEN 'Mobile'
         ELSE ${wpick(dev, (n) => `ri(${T.DEV}, gid, k, ${n})`)} END AS device,
    CASE WHEN kind = 7 AND k < 2 THEN ri(${T.GFO}, gid, k, 85) ELSE ri(${T.GFO}, gid, k, 100) END AS form_out,
    CASE WHEN kind = 7 AND k < 2 THEN ri(${T.GFI}, gid, k, 85) ELSE ri(${T.GFI}, gid, k, 100) END AS form_in,
    st = 'C' AND day < -30 AND ri(${T.BIL}, gid, k, 100) < 85 AS billed
  FROM v7
)
SELECT
  vid AS "Visit Id",
  10000000 + gid * 4 + k AS "Application Visit Id",
  ${vd} AS "Visit Date",
  cg_id AS "Caregiver Id",
  100000 + p * 3 + s AS "Application Caregiver Id",
  prov_id AS "Provider Id",
  1000 + prov AS "Application Provider Id",
  CASE WHEN ri(${T.OFN}, gid, k, 50) = 0 THEN NULL ELSE off_id END AS "Office Id",
  CASE WHEN ri(${T.OFN}, gid, k, 50) = 0 THEN NULL ELSE 5000 + prov * 3 + office_j END AS "Application Office Id",
  pat_id AS "Patient Id",
  200000 + pat AS "Application Patient Id",
  pat_id AS "Provider Patient Id",
  200000 + pat AS "Application Provider Patient Id",
  CASE WHEN ctb < 70 AND ri(${T.PAP}, gid, k, 20) > 0 THEN papat_id END AS "Payer Patient Id",
  CASE WHEN ctb < 70 AND ri(${T.PAP}, gid, k, 20) > 0 THEN 5000000 + pat END AS "Application Payer Patient Id",
  -- ContractType: 'Payer' (payer, contract 0), 'UPR' (both), 'Internal' (payer 0, contract), none (both 0), NULL ids
  CASE WHEN ctb < 70 OR ctb >= 94 THEN pay_id END AS "Payer Id",
  CASE WHEN ctb < 70 THEN 1000 + payer_i WHEN ctb < 94 THEN 0 END AS "Application Payer Id",
  CASE WHEN ctb >= 45 AND ctb < 88 THEN con_id END AS "Contract Id",
  CASE WHEN ctb >= 45 AND ctb < 88 THEN 3000 + contract_i WHEN ctb < 94 THEN 0 END AS "Application Contract Id",
  svc_id AS "Service Code Id",
  ${at('sch_s')} AS "Scheduled Start Time",
  ${at('sch_e')} AS "Scheduled End Time",
  CASE WHEN vs IS NOT NULL THEN ${at('vs')} END AS "Visit Start Time",
  CASE WHEN ve IS NOT NULL THEN ${at('ve')} END AS "Visit End Time",
  CASE WHEN vs IS NOT NULL THEN ${at(`vs - CASE WHEN ri(${T.CIADJ}, gid, k, 10) < 7 THEN 0 ELSE 1 + ri(${T.CIADJ}, gid, k + 4, 4) END`)} END AS "Call In Time",
  CASE WHEN ve IS NOT NULL THEN ${at(`ve + CASE WHEN ri(${T.COADJ}, gid, k, 10) < 7 THEN 0 ELSE 1 + ri(${T.COADJ}, gid, k + 4, 4) END`)} END AS "Call Out Time",
  CASE WHEN device = 'Mobile' AND ve IS NOT NULL
       THEN gps_text(form_out, plat + (u01(${T.GLAT}, gid, k) - 0.5) * 0.002, plon + (u01(${T.GLON}, gid, k) - 0.5) * 0.002, ri(${T.GGO}, gid, k, ${GARBAGE_GPS.length})) END AS "Call Out GPS Coordinates",
  CASE WHEN device = 'Mobile' AND vs IS NOT NULL
       THEN gps_text(form_in, plat + (u01(${T.GLAT2}, gid, k) - 0.5) * 0.002, plon + (u01(${T.GLON2}, gid, k) - 0.5) * 0.002, ri(${T.GGI}, gid, k, ${GARBAGE_GPS.length})) END AS "Call In GPS Coordinates",
  device AS "Call Out Device Type",
  CASE WHEN missed THEN true WHEN ri(${T.MNULL}, gid, k, 400) = 0 THEN NULL ELSE false END AS "Is Missed",
  CASE WHEN missed THEN ${pick(MISSED_REASONS, (n) => `ri(${T.MREASON}, gid, k, ${n})`)} END AS "Missed Visit Reason",
  CASE WHEN changed_v THEN
         CASE WHEN ri(${T.AFT}, gid, k, 200) = 0 THEN ${T0} + to_seconds(1 + ri(${T.UPS}, gid, k, 1800))
              ELSE ${T0} - to_seconds(ri(${T.UPS}, gid, k, 129600)) END
       WHEN u01(${T.NUL}, gid, k) < ${spec.nullUpdatedShare} THEN NULL
       ELSE least(${T0} - INTERVAL 36 HOUR - to_seconds(1 + ri(${T.UPS}, gid, k, 604800)),
                  ${vd} + to_seconds(86400 + ri(${T.UPO}, gid, k, 1728000))) END AS "Visit Updated Timestamp",
  CASE WHEN ri(${T.USR}, gid, k, 100) < 3 THEN NULL
       WHEN ri(${T.USR}, gid, k, 100) < 5 THEN uid(${T.USRX}, gid, k)
       ELSE user_id END AS "Visit Updated User Id",
  ${wpick(billTypes, (n) => `ri(${T.BTYPE}, p * 4 + s, 0, ${n})`)} AS "Bill Type",
  CASE WHEN billed THEN 'yes' ELSE 'no' END AS "Billed",
  CASE WHEN ve IS NOT NULL THEN round((ve - vs) / 60.0, 2) END AS "Billed Hours",
  rate AS "Billed Rate",
  rate - 1 - ri(${T.RNB}, p * 4 + s, 0, 3) AS "Bill Rate Non-Billed",
  CASE WHEN billed THEN round((ve - vs) / 60.0 * rate, 2) ELSE 0 END AS "Total Billed Amount",
  CASE WHEN billed THEN ${vd} + to_days((7 + ri(${T.INVD}, gid, k, 21))::INTEGER) END AS "Invoice Date"
FROM (${withIds('v8', '*', {
    vid: `${T.VISIT}`, cg_id: `${T.CG}`, prov_id: `${T.PROV}`, off_id: `${T.OFF}`, pat_id: `${T.PPAT}`, papat_id: `${T.PAPAT}`,
    pay_id: `${T.PAY}`, con_id: `${T.CON}`, svc_id: `${T.SVC}`, user_id: `${T.USER}`,
  }, {
    vid: ['gid', 'k'], cg_id: ['p', 's'], prov_id: ['prov', '0'], off_id: ['prov', 'office_j'], pat_id: ['pat', '0'],
    papat_id: ['pat', '0'], pay_id: ['payer_i', '0'], con_id: ['contract_i', '0'], svc_id: ['svc', '0'], user_id: ['usr', '0'],
  })})`,
  });

  return { macros, steps, sizes: { caregivers: P, providers: NPROV, patients: NPAT, groups: sizes.groups } };
}

/** The SQL that removes the generator's temporary objects from the session. */
export const BULK_CLEANUP = ['g_person', 'k_cg', 'k_prov', 'k_off', 'k_pat', 'k_pay', 'k_con', 'k_svc', 'k_user'].map(
  (t) => `DROP TABLE IF EXISTS ${t}`,
);

