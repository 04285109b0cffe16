// The one definition of detection's SQL (detection.md, steps 0–3). Each step is written once
// against the SqlDialect helpers; `detectionPlan` yields it for DuckDB or for Snowflake.
// All relative times come from the run's clock T, inlined as literals (no now() in any step);
// excluded SSNs and providers travel as data into temporary tables.
//
// The statements of a run, in order (detectionStatements):
//   Session setup   DuckDB only: insertion order off, the written join order kept
//   Clock           the session's local time, or AS_OF with an offset converted (none for a naive AS_OF)
//   Step 0          cu_excluded_ssns, cu_excluded_providers: created, filled by insertRows
//   Step 1          cu_delta_keys: affected (VisitDate, SSN) groups with their changed visits; stats
//   Step 2a         cu_caregivers, cu_patients (with the chosen address), cu_payer_contracts
//                   (deduplicated dimensions), cu_fact_dups; cu_base_visits part A (changed); stats
//   Step 2b         cu_base_visits part B (unchanged visits of affected groups; comprehensive only); stats
//   Affected groups stream [SSN, VisitDates]: one row per SSN, its dates joined by commas
//   Scope visit ids stream [VisitIDs]: the ids in hash buckets, joined by commas
//   Step 3          cu_conflict_pairs (narrow pairs, rules, values), cu_conflict_visits,
//                   cu_conflict_facts, cu_visit_details (every base column of those visits only),
//                   then the detected rows, streamed
import { BASE_VISIT_COLUMNS, DETECTED_COLUMNS } from '../schema/columns.js';
import type { Dialect } from '../warehouse/warehouse.js';
import { q, sqlDialect, str, type SqlDialect } from './dialect.js';
import { STATE_NAME_CODES } from './states.js';
import type { DetectionParams, MphBand, Statement } from './types.js';

export type PlanParams = DetectionParams & {
  /** T: `YYYY-MM-DD HH:MM:SS[.ffffff]`, naive, in the session's zone. */
  readonly clock: string;
  readonly database: string;
  readonly schema: string;
};

/** Step names, as the recorder and the log show them. */
export const STEP = {
  setup: 'Session setup',
  clock: 'Clock',
  excluded: 'Step 0 (excluded_ssns)',
  deltaKeys: 'Step 1 (delta_keys)',
  baseChanged: 'Step 2a (base_visits changed)',
  baseUnchanged: 'Step 2b (base_visits unchanged)',
  affectedGroups: 'Affected groups',
  scope: 'Scope visit ids',
  conflicts: 'Step 3 (conflicts)',
} as const;

/** The run's temporary tables (one warehouse session per run). */
export const TEMP = {
  excludedSsns: 'cu_excluded_ssns',
  excludedProviders: 'cu_excluded_providers',
  deltaKeys: 'cu_delta_keys',
  caregivers: 'cu_caregivers',
  patients: 'cu_patients',
  payerContracts: 'cu_payer_contracts',
  factDups: 'cu_fact_dups',
  baseVisits: 'cu_base_visits',
  conflictPairs: 'cu_conflict_pairs',
  conflictVisits: 'cu_conflict_visits',
  conflictFacts: 'cu_conflict_facts',
  visitDetails: 'cu_visit_details',
} as const;

/** A plain decimal: optional sign, digits with optional point and fraction, or point and digits. */
const NUMBER_RE = '[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)';
/**
 * GPS text `lat,lon`: exactly one comma, each part wrapped in any mix of spaces and double quotes
 * (detection.md, "Coordinates"). Capture groups: 1 = latitude, 4 = longitude. No backslashes, so the
 * literal reads the same on both engines.
 */
export const GPS_RE = `^[ "]*(${NUMBER_RE})[ "]*,[ "]*(${NUMBER_RE})[ "]*$`;
const GPS_LAT_GROUP = 1;
const GPS_LON_GROUP = 4;
/**
 * Hash buckets of the scope visit ids stream: ~1,000 ids per row at 15 M changed visits, a handful
 * at a few thousand (one row per bucket that has ids).
 */
export const SCOPE_BUCKETS = 16384;
/** A lower-case UUID (scope visit ids that are not UUIDs are left out: sync.md). */
export const UUID_RE = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const TS_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** Checks T before it is inlined into SQL as a literal. */
export function assertClock(clock: string): void {
  if (!TS_TEXT.test(clock)) throw new Error(`the run's clock must be a naive timestamp YYYY-MM-DD HH:MM:SS[.ffffff] (got "${clock}")`);
}

// ---------------------------------------------------------------------------------------------
// Base visit columns (base-visit-columns.tsv). Each is the expression over the fact row (alias f)
// or a column of a deduplicated dimension (aliases below); `null`: always NULL, neither stored
// nor sorted on (a constant does not change the order).
//
// Deduplication (detection.md, step 2: "a visit must appear once"): for one fact row, the joined
// rows are the Cartesian product of the matching rows of each dimension, and every base column
// comes from exactly one dimension (payer and contract together make `Contract`, so they are one).
// The row that sorts first by the base columns is then the product of each dimension's row that
// sorts first by its own columns, in the same column order: so each dimension is deduplicated on
// its own (a small table) and the number of source rows of a visit is the product of the
// dimensions' row counts. Only visits with several FACT rows need the full sort (a window over
// those few rows).

type Kind = 'text' | 'id' | 'int8' | 'double' | 'bool' | 'date' | 'ts';

interface BaseColumn {
  readonly expr: string | null;
  readonly kind: Kind;
}

/** A dimension deduplicated to one row per key, with `n`, its number of matching rows. */
interface Dimension {
  readonly alias: string;
  /** FROM clause over the source (alias of the source rows: `s`). */
  readonly from: (x: Ctx) => string;
  readonly key: string;
  readonly where: string;
  /** [output column, expression over s]; the order is BASE_VISIT_COLUMNS order of `sortAs`. */
  readonly columns: ReadonlyArray<readonly [string, string]>;
  /** For each output column, the base visit column it sorts as (default: itself). */
  readonly sortAs?: Readonly<Record<string, string>>;
}

const PATIENT_SORT: Record<string, string> = {
  AdmissionID: 'P_PAdmissionID',
  PName: 'P_PName',
  PFName: 'P_PFName',
  PLName: 'P_PLName',
  MedicaidNumber: 'P_PMedicaidNumber',
  PStatus: 'P_PStatus',
};

function dimensions(): Record<'cg' | 'pr' | 'o' | 'pat' | 'sc' | 'u', Dimension> {
  return {
    cg: {
      alias: 'cg',
      // Shared filter: the caregiver's trimmed SSN is non-empty and not excluded.
      from: (x) =>
        `${x.tbl('DIMCAREGIVER')} s LEFT JOIN ${TEMP.excludedSsns} xs ON xs."ssn" = TRIM(s."SSN")`,
      key: `s."Caregiver Id"`,
      where: `TRIM(s."SSN") <> '' AND xs."ssn" IS NULL`,
      columns: [
        ['SSN', `TRIM(s."SSN")`],
        ['AideStatus', `s."Status"`],
        ['AideCode', `s."Caregiver Code"`],
        ['AideName', `s."Caregiver Fullname"`],
        ['AideFName', `s."Caregiver Firstname"`],
        ['AideLName', `s."Caregiver Lastname"`],
      ],
    },
    pr: {
      alias: 'pr',
      from: (x) => `${x.tbl('DIMPROVIDER')} s`,
      key: `s."Provider Id"`,
      where: `s."Is Active" = true AND s."Is Demo" = false`,
      columns: [
        ['ProviderName', `s."Provider Name"`],
        ['AgencyPhone', `s."Phone Number 1"`],
        ['FederalTaxNumber', `s."Federal Tax Number"`],
        ['ProviderAddressState', `UPPER(TRIM(s."Address State"))`],
      ],
    },
    o: {
      alias: 'o',
      from: (x) => `${x.tbl('DIMOFFICE')} s`,
      key: `s."Office Id"`,
      where: `s."Is Active" = true`,
      columns: [['Office', `s."Office Name"`]],
    },
    pat: {
      alias: 'pat',
      from: (x) => `${x.tbl('DIMPATIENT')} s`,
      key: `s."Patient Id"`,
      where: 'true',
      columns: [
        ['AdmissionID', `s."Admission Id"`],
        ['PName', `s."Patient Name"`],
        ['PFName', `s."Patient Firstname"`],
        ['PLName', `s."Patient Lastname"`],
        ['MedicaidNumber', `s."Medicaid Number"`],
        ['PStatus', `s."Status"`],
      ],
      sortAs: PATIENT_SORT,
    },
    sc: {
      alias: 'sc',
      from: (x) => `${x.tbl('DIMSERVICECODE')} s`,
      key: `s."Service Code Id"`,
      where: 'true',
      columns: [
        ['ServiceCodeID', `LOWER(s."Service Code Id")`],
        ['AppServiceCodeID', `s."Application Service Code Id"`],
        ['ServiceCode', `s."Service Code"`],
      ],
    },
    u: {
      alias: 'u',
      from: (x) => `${x.tbl('DIMUSER')} s`,
      key: `s."User Id"`,
      where: 'true',
      columns: [['LastUpdatedBy', `s."User Fullname"`]],
    },
  };
}

function sortIndex(name: string): number {
  const i = BASE_VISIT_COLUMNS.indexOf(name);
  if (i < 0) throw new Error(`not a base visit column: ${name}`);
  return i;
}

/** One row per key: the row sorting first by the dimension's columns (base visit order), and `n`. */
function dedupDimension(x: Ctx, dim: Dimension): string {
  const ordered = [...dim.columns].sort((a, b) => sortIndex(dim.sortAs?.[a[0]] ?? a[0]) - sortIndex(dim.sortAs?.[b[0]] ?? b[0]));
  const order = ordered.map(([, e]) => `${e} ASC NULLS LAST`).join(', ');
  return (
    `SELECT ${['"key"', '"n"', ...dim.columns.map(([c]) => q(c))].map((c) => `z.${c}`).join(', ')} FROM (` +
    `SELECT ${dim.key} AS "key", ${dim.columns.map(([c, e]) => `${e} AS ${q(c)}`).join(', ')}, ` +
    `COUNT(*) OVER (PARTITION BY ${dim.key}) AS "n", ` +
    `ROW_NUMBER() OVER (PARTITION BY ${dim.key} ORDER BY ${order}) AS "rn" ` +
    `FROM ${dim.from(x)} WHERE ${dim.where}) z WHERE z."rn" = 1`
  );
}

function baseColumnDefs(d: SqlDialect): Record<string, BaseColumn> {
  const ts = (e: string): BaseColumn => ({ expr: `CAST(${e} AS ${d.timestampType})`, kind: 'ts' });
  const t = (e: string): BaseColumn => ({ expr: e, kind: 'text' });
  const id = (e: string): BaseColumn => ({ expr: `LOWER(${e})`, kind: 'id' });
  const i8 = (e: string): BaseColumn => ({ expr: e, kind: 'int8' });
  const dbl = (e: string): BaseColumn => ({ expr: e, kind: 'double' });
  const none: BaseColumn = { expr: null, kind: 'text' };
  const patient = (a: string, prefix: string): Record<string, BaseColumn> => ({
    [`${prefix}PAdmissionID`]: t(`${a}."AdmissionID"`),
    [`${prefix}PName`]: t(`${a}."PName"`),
    [`${prefix}PFName`]: t(`${a}."PFName"`),
    [`${prefix}PLName`]: t(`${a}."PLName"`),
    [`${prefix}PMedicaidNumber`]: t(`${a}."MedicaidNumber"`),
    [`${prefix}PStatus`]: t(`${a}."PStatus"`),
    [`${prefix}PAddressID`]: { expr: `${a}."AddressID"`, kind: 'id' },
    [`${prefix}PAppAddressID`]: i8(`${a}."AppAddressID"`),
    [`${prefix}PAddressL1`]: t(`${a}."AddressL1"`),
    [`${prefix}PAddressL2`]: t(`${a}."AddressL2"`),
    [`${prefix}PCity`]: t(`${a}."City"`),
    [`${prefix}PAddressState`]: t(`${a}."AddressState"`),
    [`${prefix}PZipCode`]: t(`${a}."ZipCode"`),
    [`${prefix}PCounty`]: t(`${a}."County"`),
  });
  return {
    // is_delta is a literal per part (2a: true, 2b: false); set in baseVisitsSelect.
    is_delta: { expr: 'true', kind: 'bool' },
    BillRateNonBilled: dbl(`f."Bill Rate Non-Billed"`),
    BillRateBoth: dbl(`CASE WHEN f."Billed" = 'yes' THEN f."Billed Rate" ELSE f."Bill Rate Non-Billed" END`),
    SSN: t(`cg."SSN"`),
    PStatus: none,
    AideStatus: t(`cg."AideStatus"`),
    MissedVisitReason: t(`f."Missed Visit Reason"`),
    IsMissed: { expr: `f."Is Missed"`, kind: 'bool' },
    EVVType: t(`f."Call Out Device Type"`),
    BilledRate: dbl(`f."Billed Rate"`),
    TotalBilledAmount: dbl(`f."Total Billed Amount"`),
    ProviderID: id(`f."Provider Id"`),
    AppProviderID: i8(`f."Application Provider Id"`),
    ProviderName: t(`pr."ProviderName"`),
    AgencyContact: none,
    AgencyPhone: t(`pr."AgencyPhone"`),
    FederalTaxNumber: t(`pr."FederalTaxNumber"`),
    ProviderAddressState: t(`pr."ProviderAddressState"`),
    VisitID: id(`f."Visit Id"`),
    AppVisitID: i8(`f."Application Visit Id"`),
    VisitDate: { expr: `CAST(f."Visit Date" AS DATE)`, kind: 'date' },
    SchStartTime: ts(`f."Scheduled Start Time"`),
    SchEndTime: ts(`f."Scheduled End Time"`),
    VisitStartTime: ts(`f."Visit Start Time"`),
    VisitEndTime: ts(`f."Visit End Time"`),
    EVVStartTime: ts(`f."Call In Time"`),
    EVVEndTime: ts(`f."Call Out Time"`),
    CaregiverID: id(`f."Caregiver Id"`),
    AppCaregiverID: i8(`f."Application Caregiver Id"`),
    AideCode: t(`cg."AideCode"`),
    AideName: t(`cg."AideName"`),
    AideFName: t(`cg."AideFName"`),
    AideLName: t(`cg."AideLName"`),
    AideSSN: t(`cg."SSN"`),
    OfficeID: id(`f."Office Id"`),
    AppOfficeID: i8(`f."Application Office Id"`),
    Office: t(`o."Office"`),
    PA_PatientID: id(`f."Payer Patient Id"`),
    PA_AppPatientID: i8(`f."Application Payer Patient Id"`),
    P_PatientID: id(`f."Provider Patient Id"`),
    P_AppPatientID: i8(`f."Application Provider Patient Id"`),
    PatientID: id(`f."Patient Id"`),
    AppPatientID: i8(`f."Application Patient Id"`),
    PAdmissionID: none,
    PName: none,
    PFName: none,
    PLName: none,
    PMedicaidNumber: none,
    PAddressID: none,
    PAppAddressID: none,
    PAddressL1: none,
    PAddressL2: none,
    PCity: none,
    PAddressState: none,
    PZipCode: none,
    PCounty: none,
    // Computed in the geo levels of joinedVisits (detection.md, "Coordinates").
    Longitude: { expr: null, kind: 'double' },
    Latitude: { expr: null, kind: 'double' },
    PayerID: id(`f."Payer Id"`),
    AppPayerID: i8(`f."Application Payer Id"`),
    Contract: t(`pc."Contract"`),
    PayerState: t(`pc."PayerState"`),
    BilledDate: ts(`f."Invoice Date"`),
    BilledHours: dbl(`f."Billed Hours"`),
    Billed: t(`f."Billed"`),
    ServiceCodeID: { expr: `sc."ServiceCodeID"`, kind: 'id' },
    AppServiceCodeID: i8(`sc."AppServiceCodeID"`),
    RateType: t(`f."Bill Type"`),
    ServiceCode: t(`sc."ServiceCode"`),
    LastUpdatedDate: ts(`f."Visit Updated Timestamp"`),
    LastUpdatedBy: t(`u."LastUpdatedBy"`),
    ...patient('pp', 'P_'),
    ...patient('pa', 'PA_'),
    ContractType: t(
      `CASE WHEN f."Application Payer Id" = 0 AND f."Application Contract Id" <> 0 THEN 'Internal'` +
        ` WHEN f."Application Payer Id" <> 0 AND f."Application Contract Id" <> 0 THEN 'UPR'` +
        ` WHEN f."Application Payer Id" <> 0 AND f."Application Contract Id" = 0 THEN 'Payer' END`,
    ),
  };
}

/** Columns computed in the base visits for the later steps (not in the spec's list, not output). */
const EXTRA_COLUMNS = ['src_rows', 'gps_bad', 'cs_state1', 'cs_state2', 'zip'] as const;
/** The base columns the rules, statistics and scope need: all that step 2 stores for every visit. */
const NARROW_COLUMNS = [
  'is_delta', 'SSN', 'IsMissed', 'ProviderID', 'VisitID', 'VisitDate',
  'SchStartTime', 'SchEndTime', 'VisitStartTime', 'VisitEndTime', 'Longitude', 'Latitude',
];
const COMPUTED_BASE = new Set(['Longitude', 'Latitude']);

/** The stored base visit columns in base-visit-columns.tsv order, always-NULL ones left out. */
function storedBaseColumns(defs: Record<string, BaseColumn>): string[] {
  return BASE_VISIT_COLUMNS.filter((c) => defs[c].expr !== null || COMPUTED_BASE.has(c));
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  readonly d: SqlDialect;
  readonly p: PlanParams;
  readonly tbl: (name: string) => string;
  readonly T: string;
  readonly changedSince: string;
  readonly windowFrom: string;
  readonly windowTo: string;
  readonly today: string;
}

function context(d: SqlDialect, p: PlanParams): Ctx {
  assertClock(p.clock);
  for (const [name, n, min] of [
    ['lookbackHours', p.lookbackHours, 1],
    ['lookbackYears', p.lookbackYears, 1],
    ['lookforwardDays', p.lookforwardDays, 0],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number, at least ${min} (got ${n})`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p.database) || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p.schema)) {
    throw new Error(`warehouse database and schema must be plain identifiers (got ${p.database}.${p.schema})`);
  }
  const T = d.timestampLiteral(p.clock);
  return {
    d,
    p,
    tbl: (name) => `${p.database}.${p.schema}.${q(name)}`,
    T,
    changedSince: d.dateAdd('hour', -p.lookbackHours, T),
    windowFrom: `CAST(${d.dateAdd('year', -p.lookbackYears, T)} AS DATE)`,
    windowTo: `CAST(${d.dateAdd('day', p.lookforwardDays, T)} AS DATE)`,
    today: `CAST(${T} AS DATE)`,
  };
}

function changed(x: Ctx, f = 'f'): string {
  return `${f}."Visit Updated Timestamp" >= ${x.changedSince}`;
}

function unchanged(x: Ctx, f = 'f'): string {
  return `(${f}."Visit Updated Timestamp" IS NULL OR ${f}."Visit Updated Timestamp" < ${x.changedSince})`;
}

/**
 * The fact rows inside the window whose provider is not excluded, of one part (changed or not),
 * as a derived table `f` (detection.md, "Filters shared by every step"; the caregiver filter is
 * the join that follows). `dups`: only visits with several fact rows (true), none of them
 * (false), or all (undefined).
 */
type Part = 'changed' | 'unchanged' | 'details';

function eligibleFact(x: Ctx, part: Part, dups?: boolean): string {
  const dupJoin = dups === undefined ? '' : ` LEFT JOIN ${TEMP.factDups} fd ON fd."visit_id" = LOWER(s."Visit Id")`;
  const dupWhere = dups === undefined ? '' : ` AND fd."visit_id" IS ${dups ? 'NOT ' : ''}NULL`;
  // Details (step 3): the fact rows of the conflict visits, copied once, each of its visit's part.
  const source = part === 'details' ? TEMP.conflictFacts : x.tbl('FACTVISITCALLPERFORMANCE_CR');
  const time =
    part === 'changed'
      ? changed(x, 's')
      : part === 'unchanged'
        ? unchanged(x, 's')
        : `((s."cv_is_delta" AND ${changed(x, 's')}) OR (NOT s."cv_is_delta" AND ${unchanged(x, 's')}))`;
  return (
    `(SELECT s.* FROM ${source} s ` +
    `LEFT JOIN ${TEMP.excludedProviders} xp ON xp."provider_id" = LOWER(s."Provider Id")${dupJoin} ` +
    `WHERE CAST(s."Visit Date" AS DATE) BETWEEN ${x.windowFrom} AND ${x.windowTo} AND xp."provider_id" IS NULL ` +
    `AND ${time}${dupWhere}) f`
  );
}

/** trim, upper-case, empty → NULL, full state names → two-letter codes. */
function normalisedState(expr: string): string {
  const whens = STATE_NAME_CODES.map(([name, code]) => `WHEN ${str(name)} THEN ${str(code)}`).join(' ');
  const s = `NULLIF(UPPER(TRIM(${expr})), '')`;
  return `CASE ${s} ${whens} ELSE ${s} END`;
}

function inRange(lat: string, lon: string): string {
  return `COALESCE(${lat} BETWEEN -90 AND 90 AND ${lon} BETWEEN -180 AND 180, false)`;
}

/**
 * Patients, one row per `Patient Id`, with the address chosen for the patient (detection.md,
 * step 2: primary, `Address Type` containing GPS, latest created, NULL oldest, then the smallest
 * id), and what the rules need from it: normalised state, zip code, usable coordinates.
 */
function patientsSelect(x: Ctx, dims: ReturnType<typeof dimensions>): string {
  const addr =
    `SELECT a.* FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s."Patient Id" ` +
    `ORDER BY s."Application Created UTC Timestamp" DESC NULLS LAST, s."Patient Address Id" ASC NULLS LAST) AS "addr_rn" ` +
    `FROM ${x.tbl('DIMPATIENTADDRESS')} s WHERE s."Primary Address" = true AND s."Address Type" LIKE '%GPS%') a ` +
    `WHERE a."addr_rn" = 1`;
  return (
    `SELECT p.*, LOWER(a."Patient Address Id") AS "AddressID", a."Application Patient Address Id" AS "AppAddressID", ` +
    `a."Address Line 1" AS "AddressL1", a."Address Line 2" AS "AddressL2", a."City" AS "City", ` +
    `a."Address State" AS "AddressState", a."Zip Code" AS "ZipCode", a."County" AS "County", ` +
    `a."Latitude" AS "lat", a."Longitude" AS "lon", ${inRange('a."Latitude"', 'a."Longitude"')} AS "addr_ok", ` +
    `${normalisedState('a."Address State"')} AS "st", NULLIF(TRIM(a."Zip Code"), '') AS "zip"\n` +
    `FROM (${dedupDimension(x, dims.pat)}) p\nLEFT JOIN (${addr}) a ON a."Patient Id" = p."key"`
  );
}

/**
 * Stands for a NULL id in the keys of cu_payer_contracts, so the fact joins it with a plain
 * equality (hash-joinable everywhere; ids are UUID text, never this).
 */
const NULL_KEY = '<NULL>';
const nullKey = (e: string) => `COALESCE(${e}, ${str(NULL_KEY)})`;

/** Payer and contract of each (Payer Id, Contract Id) the fact names, deduplicated together. */
function payerContractsSelect(x: Ctx): string {
  return (
    `SELECT z."payer_key", z."contract_key", z."n", z."Contract", z."PayerState" FROM (` +
    `SELECT k."payer_key", k."contract_key", COALESCE(py."Payer Name", ct."Contract Name") AS "Contract", py."Payer State" AS "PayerState", ` +
    `COUNT(*) OVER (PARTITION BY k."payer_key", k."contract_key") AS "n", ` +
    `ROW_NUMBER() OVER (PARTITION BY k."payer_key", k."contract_key" ORDER BY COALESCE(py."Payer Name", ct."Contract Name") ASC NULLS LAST, py."Payer State" ASC NULLS LAST) AS "rn" ` +
    `FROM (SELECT DISTINCT ${nullKey('f."Payer Id"')} AS "payer_key", ${nullKey('f."Contract Id"')} AS "contract_key" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} f) k ` +
    `LEFT JOIN ${x.tbl('DIMPAYER')} py ON py."Payer Id" = NULLIF(k."payer_key", ${str(NULL_KEY)}) AND py."Is Active" = true AND py."Is Demo" = false ` +
    `LEFT JOIN ${x.tbl('DIMCONTRACT')} ct ON ct."Contract Id" = NULLIF(k."contract_key", ${str(NULL_KEY)}) AND ct."Is Active" = true) z WHERE z."rn" = 1`
  );
}

/** Visit ids (lower-cased) with more than one fact row: only these need the full sort. */
function factDupsSelect(x: Ctx): string {
  return (
    `SELECT LOWER(f."Visit Id") AS "visit_id" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} f ` +
    `GROUP BY LOWER(f."Visit Id") HAVING COUNT(*) > 1`
  );
}

const GPS_OUT = 'f."Call Out GPS Coordinates"';
const GPS_IN = 'f."Call In GPS Coordinates"';

/**
 * The joined rows of one part with every stored base column, the coordinates (detection.md,
 * "Coordinates"), the cross-state codes and zip code, and `src_n`, the number of source rows the
 * fact row fans out to.
 */
function joinedVisits(x: Ctx, part: Part, dups: boolean | undefined, columns: 'narrow' | 'all'): string {
  const { d } = x;
  const defs = baseColumnDefs(d);
  defs.is_delta = { expr: part === 'changed' ? 'true' : part === 'unchanged' ? 'false' : 'f."cv_is_delta"', kind: 'bool' };
  const dims = dimensions();
  const wanted = (c: string) => defs[c].expr !== null && (columns === 'all' || NARROW_COLUMNS.includes(c));
  const raw = BASE_VISIT_COLUMNS.filter(wanted).map((c) => `${defs[c].expr} AS ${q(c)}`);
  const n = (a: string) => `COALESCE(${a}."n", 1)`;
  // Narrow rows use office, payer/contract, service code and user only to count the source rows
  // they fan out to: only their keys with several rows need joining (an empty table, usually).
  const countOnly = (select: string) => (columns === 'all' ? select : `SELECT * FROM (${select}) t WHERE t."n" > 1`);
  raw.push(
    ...d.regexGroups(GPS_OUT, GPS_RE, [GPS_LAT_GROUP, GPS_LON_GROUP]).map((e, i) => `${e} AS ${i ? '"out_lon_t"' : '"out_lat_t"'}`),
    ...d.regexGroups(GPS_IN, GPS_RE, [GPS_LAT_GROUP, GPS_LON_GROUP]).map((e, i) => `${e} AS ${i ? '"in_lon_t"' : '"in_lat_t"'}`),
    `${GPS_OUT} AS "gps_out"`,
    `${GPS_IN} AS "gps_in"`,
    `pp."lat" AS "addr_lat"`,
    `pp."lon" AS "addr_lon"`,
    `COALESCE(pp."addr_ok", false) AS "addr_ok"`,
    `pp."st" AS "st_pp"`,
    `pa."st" AS "st_pa"`,
    `${normalisedState('pr."ProviderAddressState"')} AS "st_pr"`,
    `pp."zip" AS "zip"`,
    `${['cg', 'pr', 'o', 'pp', 'pa', 'pc', 'sc', 'u'].map(n).join(' * ')} AS "src_n"`,
  );
  // Part 2b, visits with one fact row: only those of affected groups (delta_keys is unique).
  const groups =
    part === 'unchanged' && !dups
      ? `\nJOIN ${TEMP.deltaKeys} k ON k."visit_date" = CAST(f."Visit Date" AS DATE) AND k."ssn" = cg."SSN"`
      : '';
  // The few fact rows of the sorted branch (visits with several fact rows, or the details) join
  // only the caregiver and patient rows they name: hash tables of the whole tables cost more than
  // the rest of that branch (measured on medium: step 2b 2.2 -> 1.2 CPU seconds).
  const few = dups === true || part === 'details';
  const named = (table: string, col: string) =>
    !few
      ? table
      : `(SELECT * FROM ${table} WHERE "key" IN (SELECT s.${q(col)} FROM ` +
        (part === 'details'
          ? `${TEMP.conflictFacts} s))`
          : `${x.tbl('FACTVISITCALLPERFORMANCE_CR')} s JOIN ${TEMP.factDups} fd ON fd."visit_id" = LOWER(s."Visit Id")))`);
  const l1 =
    `SELECT ${raw.join(',\n  ')}\n` +
    `FROM ${eligibleFact(x, part, dups)}\n` +
    `JOIN ${named(TEMP.caregivers, 'Caregiver Id')} cg ON cg."key" = f."Caregiver Id"${groups}\n` +
    `JOIN (${dedupDimension(x, dims.pr)}) pr ON pr."key" = f."Provider Id"\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.o))}) o ON o."key" = f."Office Id"\n` +
    `LEFT JOIN ${named(TEMP.patients, 'Provider Patient Id')} pp ON pp."key" = f."Provider Patient Id"\n` +
    `LEFT JOIN ${named(TEMP.patients, 'Payer Patient Id')} pa ON pa."key" = f."Payer Patient Id"\n` +
    `LEFT JOIN (${countOnly(`SELECT * FROM ${TEMP.payerContracts}`)}) pc ON pc."payer_key" = ${nullKey('f."Payer Id"')} AND pc."contract_key" = ${nullKey('f."Contract Id"')}\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.sc))}) sc ON sc."key" = f."Service Code Id"\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.u))}) u ON u."key" = f."Visit Updated User Id"`;
  // l2: parsed numbers; l3: which source is usable; l4: the chosen coordinates and codes.
  const l2 =
    `SELECT r1.*, ${d.tryToDouble('r1."out_lat_t"')} AS "out_lat", ${d.tryToDouble('r1."out_lon_t"')} AS "out_lon", ` +
    `${d.tryToDouble('r1."in_lat_t"')} AS "in_lat", ${d.tryToDouble('r1."in_lon_t"')} AS "in_lon"\nFROM (${l1}) r1`;
  const l3 =
    `SELECT r2.*, ${inRange('r2."out_lat"', 'r2."out_lon"')} AS "out_ok", ${inRange('r2."in_lat"', 'r2."in_lon"')} AS "in_ok"\nFROM (${l2}) r2`;
  const pick = (out: string, inn: string, addr: string) =>
    `CASE WHEN r3."out_ok" THEN r3.${q(out)} WHEN r3."in_ok" THEN r3.${q(inn)} WHEN r3."addr_ok" THEN r3.${q(addr)} END`;
  const bad = (text: string, ok: string) => `CASE WHEN r3.${q(text)} <> '' AND NOT r3.${q(ok)} THEN 1 ELSE 0 END`;
  return (
    `SELECT r3.*, ${pick('out_lat', 'in_lat', 'addr_lat')} AS "Latitude", ${pick('out_lon', 'in_lon', 'addr_lon')} AS "Longitude",\n` +
    `  ${bad('gps_out', 'out_ok')} + ${bad('gps_in', 'in_ok')} AS "gps_bad",\n` +
    `  CASE WHEN r3."st_pp" IS NULL AND r3."st_pa" IS NULL THEN r3."st_pr" ELSE r3."st_pp" END AS "cs_state1",\n` +
    `  CASE WHEN r3."st_pp" IS NULL AND r3."st_pa" IS NULL THEN r3."st_pr" ELSE r3."st_pa" END AS "cs_state2"\n` +
    `FROM (${l3}) r3`
  );
}

/**
 * Base visits of one part (detection.md, step 2), one row per visit. Part 2a: changed visits
 * (every one is in an affected group by construction). Part 2b: unchanged visits of affected
 * groups. Visits with one fact row need no sort (their dimensions are deduplicated already);
 * visits with several fact rows are sorted by every base column and the first row kept, then (2b)
 * filtered by group, and a visit already taken as changed is not taken again.
 *
 * `base`: the narrow columns the rules, statistics and scope need, for every candidate.
 * `details`: every base column, for the visits of the conflict pairs only (step 3); the same
 * definition, so the same row is chosen for each visit.
 */
function baseVisitsSelect(x: Ctx, part: Part): { columns: string[]; select: string } {
  const defs = baseColumnDefs(x.d);
  const stored = storedBaseColumns(defs);
  const details = part === 'details';
  const columns = details ? stored : [...stored.filter((c) => NARROW_COLUMNS.includes(c)), ...EXTRA_COLUMNS];
  const order = stored.map((c) => `r.${q(c)} ASC NULLS LAST`).join(', ');
  let where = `m."visit_rn" = 1`;
  if (part === 'unchanged') {
    where +=
      ` AND EXISTS (SELECT 1 FROM ${TEMP.deltaKeys} k WHERE k."visit_date" = m."VisitDate" AND k."ssn" = m."SSN")` +
      ` AND NOT EXISTS (SELECT 1 FROM ${TEMP.baseVisits} a WHERE a."VisitID" = m."VisitID")`;
  }
  // Sorted: every row of the visits with several fact rows (details: of the few conflict visits).
  const multi =
    `SELECT ${columns.map((c) => (c === 'src_rows' ? `m."src_total" AS "src_rows"` : `m.${q(c)}`)).join(', ')}\n` +
    `FROM (SELECT r.*, SUM(r."src_n") OVER (PARTITION BY r."VisitID") AS "src_total", ` +
    `ROW_NUMBER() OVER (PARTITION BY r."VisitID" ORDER BY ${order}) AS "visit_rn"\n` +
    `FROM (${joinedVisits(x, part, details ? undefined : true, 'all')}) r) m\nWHERE ${where}`;
  if (details) return { columns, select: multi };
  const pick = (a: string) => columns.map((c) => (c === 'src_rows' ? `${a}."src_n" AS "src_rows"` : `${a}.${q(c)}`)).join(', ');
  const single = `SELECT ${pick('s1')}\nFROM (${joinedVisits(x, part, false, 'narrow')}) s1`;
  return { columns, select: `${single}\nUNION ALL\n${multi}` };
}

// ---------------------------------------------------------------------------------------------
// Step 3: pairs and rules, on a narrow projection of the candidates; details joined afterwards.

function mphExpr(x: Ctx, miles: string): string {
  const bands = [...x.p.mphBands].filter((b) => [b.from, b.to, b.mph].every(Number.isFinite));
  if (bands.length === 0) return `CAST(NULL AS ${x.d.doubleType})`;
  bands.sort((a: MphBand, b: MphBand) => a.from - b.from || a.to - b.to);
  const dl = x.d.doubleLiteral;
  return `CASE ${bands.map((b) => `WHEN ${miles} >= ${dl(b.from)} AND ${miles} <= ${dl(b.to)} THEN ${dl(b.mph)}`).join(' ')} END`;
}

/** The value of one detected column in the final SELECT, cast so both engines return the same forms. */
function outputExpr(x: Ctx, defs: Record<string, BaseColumn>, col: { name: string; pgType: string; from: string }): string {
  const { d } = x;
  let src: string;
  let isNull = false;
  const m = /^(V1|V2)\.(\w+)$/.exec(col.from);
  if (m) {
    const base = m[2];
    if (!(base in defs)) throw new Error(`detected column ${col.name}: no base visit column ${base}`);
    isNull = defs[base].expr === null && !COMPUTED_BASE.has(base);
    src = `${m[1] === 'V1' ? 'v1' : 'v2'}.${q(base)}`;
  } else {
    const rule = /^rule (\d)$/.exec(col.from);
    if (rule) return `CASE WHEN c."r${rule[1]}" THEN 'Y' ELSE 'N' END`;
    switch (col.name) {
      case 'MinuteDiffBetweenSch':
        return `CAST(c."gap" AS INTEGER)`;
      case 'DistanceMilesFromLatLng':
        return `CAST(c."miles" AS ${d.doubleType})`;
      case 'AverageMilesPerHour':
        return `CAST(c."mph" AS ${d.doubleType})`;
      case 'ETATravelMinutes':
        // Stored as an integer: rounded half away from zero (ROUND on both engines). Sent as a
        // double, not cast to INTEGER here: an ETA beyond the column's range (an absurd MPH band)
        // is then a rejected row (sync.md, "Invalid rows") instead of a failed DuckDB statement.
        return `CAST(ROUND(c."eta", 0) AS ${d.doubleType})`;
      default:
        throw new Error(`detected column ${col.name}: unknown origin ${col.from}`);
    }
  }
  const t = col.pgType;
  if (isNull) {
    const type = t === 'uuid' || t.startsWith('varchar') || t === 'int8' || t === 'date' || t === 'timestamp' ? 'VARCHAR' : t === 'bool' ? 'BOOLEAN' : t === 'int4' ? 'INTEGER' : d.doubleType;
    return `CAST(NULL AS ${type})`;
  }
  if (t === 'uuid' || t.startsWith('varchar') || t === 'int8') return `CAST(${src} AS VARCHAR)`;
  if (t === 'date') return d.dateText(src);
  if (t === 'timestamp') return d.timestampText(src);
  if (t === 'real') return `CAST(${src} AS ${d.doubleType})`;
  if (t === 'int4') return `CAST(${src} AS INTEGER)`;
  if (t === 'bool') return `CAST(${src} AS BOOLEAN)`;
  throw new Error(`detected column ${col.name}: unhandled type ${t}`);
}

function conflictPairsSelect(x: Ctx): string {
  const { d, p } = x;
  const where = `WHERE NOT COALESCE("IsMissed", false)${p.comprehensive ? '' : ' AND "is_delta" = true'}`;
  // The pairs are matched on the keys alone, then each side's values joined by VisitID (unique
  // among the base visits): a hash table of every candidate's keys costs half the one with all
  // the values the rules need (measured on medium), and only the few pairs carry the values.
  const keys = `SELECT "VisitID" AS "id", "VisitDate" AS "d", "SSN" AS "ssn", "ProviderID" AS "p" FROM ${TEMP.baseVisits} ${where}`;
  const values =
    `SELECT "VisitID" AS "id", "SchStartTime" AS "ss", "SchEndTime" AS "se", "VisitStartTime" AS "vs", "VisitEndTime" AS "ve", ` +
    `"Latitude" AS "lat", "Longitude" AS "lon", "zip", "cs_state1" AS "st1", "cs_state2" AS "st2" FROM ${TEMP.baseVisits} ${where}`;
  const side = (a: string, n: string) =>
    ['ss', 'se', 'vs', 've', 'lat', 'lon'].map((c) => `${a}."${c}" AS "${c}${n}"`).join(', ');
  const matched =
    `SELECT a."id" AS "v1", b."id" AS "v2", a."d" AS "d"\n` +
    `FROM (${keys}) a\nJOIN (${keys}) b ON a."d" = b."d" AND a."ssn" = b."ssn" AND a."p" <> b."p" AND a."id" <> b."id"`;
  const first =
    `SELECT k."v1", k."v2", k."d", ${side('a', '1')}, a."zip" AS "z1", a."st1" AS "a1", a."st2" AS "a2"\n` +
    `FROM (${values}) a\nJOIN (${matched}) k ON k."v1" = a."id"`;
  const pairs =
    `SELECT w.*, ${side('b', '2')}, b."zip" AS "z2", b."st1" AS "b1", b."st2" AS "b2"\n` +
    `FROM (${values}) b\nJOIN (${first}) w ON w."v2" = b."id"`;
  const done = (n: string) => `(s."vs${n}" IS NOT NULL AND s."ve${n}" IS NOT NULL)`;
  const md = d.minuteDiff;
  const gap =
    `CASE WHEN NOT (${done('1')} AND ${done('2')}) THEN 0\n` +
    `    WHEN s."ve1" < s."vs2" AND s."ve2" < s."vs1" THEN LEAST(${md('s."ve1"', 's."vs2"')}, ${md('s."ve2"', 's."vs1"')})\n` +
    `    WHEN s."ve1" < s."vs2" THEN ${md('s."ve1"', 's."vs2"')}\n` +
    `    WHEN s."ve2" < s."vs1" THEN ${md('s."ve2"', 's."vs1"')}\n` +
    `    ELSE 0 END`;
  const known = `s."lat1" IS NOT NULL AND s."lon1" IS NOT NULL AND s."lat2" IS NOT NULL AND s."lon2" IS NOT NULL`;
  const l2 =
    `SELECT s.*,\n` +
    `  (s."vs1" IS NULL AND s."ve1" IS NULL) AS "u1", ${done('1')} AS "c1",\n` +
    `  (s."vs2" IS NULL AND s."ve2" IS NULL) AS "u2", ${done('2')} AS "c2",\n` +
    `  ${gap} AS "gap",\n` +
    `  CASE WHEN ${known} THEN ${d.distanceMetres('s."lat1"', 's."lon1"', 's."lat2"', 's."lon2"')} END AS "dist_m"\n` +
    `FROM (${pairs}) s`;
  const b = (e: string) => `COALESCE(${e}, false)`;
  const l3 =
    `SELECT t.*,\n` +
    `  ROUND(t."dist_m" / 1609 * ${d.doubleLiteral(Math.fround(p.extraDistancePer))}, 2) AS "miles",\n` +
    `  ${b(`t."u1" AND t."u2" AND t."d" >= ${x.today} AND t."ss1" = t."ss2" AND t."se1" = t."se2"`)} AS "r1",\n` +
    `  ${b(`t."c1" AND t."c2" AND t."vs1" = t."vs2" AND t."ve1" = t."ve2"`)} AS "r2",\n` +
    `  ${b(`(t."u1" AND t."c2" AND t."ss1" = t."vs2" AND t."se1" = t."ve2") OR (t."c1" AND t."u2" AND t."ss2" = t."vs1" AND t."se2" = t."ve1")`)} AS "r3",\n` +
    `  ${b(`t."u1" AND t."u2" AND t."d" >= ${x.today} AND t."ss1" < t."se2" AND t."se1" > t."ss2" AND NOT (t."ss1" = t."ss2" AND t."se1" = t."se2")`)} AS "r4",\n` +
    `  ${b(`t."c1" AND t."c2" AND t."vs1" < t."ve2" AND t."ve1" > t."vs2" AND NOT (t."vs1" = t."vs2" AND t."ve1" = t."ve2")`)} AS "r5",\n` +
    `  ${b(
      `(t."u1" AND t."c2" AND t."ss1" < t."ve2" AND t."se1" > t."vs2" AND NOT (t."ss1" = t."vs2" AND t."se1" = t."ve2")) OR ` +
        `(t."c1" AND t."u2" AND t."ss2" < t."ve1" AND t."se2" > t."vs1" AND NOT (t."ss2" = t."vs1" AND t."se2" = t."ve1"))`,
    )} AS "r6",\n` +
    `  ${b(`(t."a1" IS NULL AND t."a2" IS NULL) OR (t."b1" IS NULL AND t."b2" IS NULL) OR t."a1" = t."b1" OR t."a1" = t."b2" OR t."a2" = t."b1" OR t."a2" = t."b2"`)} AS "same_state"\n` +
    `FROM (${l2}) t`;
  const l4 = `SELECT m.*, ${mphExpr(x, 'm."miles"')} AS "mph"\nFROM (${l3}) m`;
  const l5 = `SELECT e.*, CASE WHEN e."mph" <> 0 THEN ROUND(e."miles" / e."mph" * 60, 2) END AS "eta"\nFROM (${l4}) e`;
  const l6 =
    `SELECT g.*, ${b(
      `g."c1" AND g."c2" AND g."miles" IS NOT NULL AND (g."z1" IS NULL OR g."z2" IS NULL OR g."z1" <> g."z2") ` +
        `AND g."mph" IS NOT NULL AND g."gap" > 0 AND g."eta" > g."gap"`,
    )} AS "r7"\nFROM (${l5}) g`;
  return (
    `SELECT c."v1", c."v2", c."gap", c."miles", c."mph", c."eta", c."r1", c."r2", c."r3", c."r4", c."r5", c."r6", c."r7"\n` +
    `FROM (${l6}) c\n` +
    `WHERE (c."r1" OR c."r2" OR c."r3" OR c."r4" OR c."r5" OR c."r6" OR c."r7") AND c."same_state"`
  );
}

/** The detected rows: each conflict pair with both visits' details, in DETECTED_COLUMNS order. */
function detectedRowsSelect(x: Ctx): string {
  const defs = baseColumnDefs(x.d);
  const out = DETECTED_COLUMNS.map((col) => `${outputExpr(x, defs, col)} AS ${q(col.name)}`);
  return (
    `SELECT ${out.join(',\n  ')}\n` +
    `FROM ${TEMP.conflictPairs} c\n` +
    `JOIN ${TEMP.visitDetails} v1 ON v1."VisitID" = c."v1"\n` +
    `JOIN ${TEMP.visitDetails} v2 ON v2."VisitID" = c."v2"`
  );
}

// ---------------------------------------------------------------------------------------------

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** AS_OF taken apart: a naive clock as it is, or an instant with an offset for the session to convert. */
export function parseAsOf(asOf: string): { naive: string } | { instant: string } {
  const m = ISO.exec(asOf.trim());
  if (!m) throw new Error(`AS_OF must be an ISO-8601 date-time (got "${asOf}")`);
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac, off] = m;
  const f = frac ? frac.padEnd(6, '0').slice(0, 6) : '';
  const base = `${y}-${mo}-${d} ${h}:${mi}:${s}${f && Number(f) !== 0 ? `.${f}` : ''}`;
  if (!off) return { naive: base };
  const offset = off === 'Z' ? '+00:00' : off.includes(':') ? off : `${off.slice(0, 3)}:${off.slice(3)}`;
  return { instant: `${base.replace(' ', 'T')}${offset}` };
}

/** The statement that reads T, or undefined when AS_OF is naive (T is AS_OF itself). */
export function clockStatement(dialect: Dialect | SqlDialect, asOf: string | undefined): Statement | undefined {
  const d = typeof dialect === 'string' ? sqlDialect(dialect) : dialect;
  if (asOf === undefined) return { step: STEP.clock, sql: d.clockNowQuery(), params: [], kind: 'query' };
  const parsed = parseAsOf(asOf);
  if ('naive' in parsed) return undefined;
  return { step: STEP.clock, sql: d.clockFromOffsetQuery(), params: [parsed.instant], kind: 'query' };
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` from the engine → T, without a zero fraction. */
export function normaliseClock(text: string): string {
  const t = text.trim().replace('T', ' ');
  const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(t);
  if (!m) throw new Error(`unexpected clock value from the warehouse: "${text}"`);
  const f = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return Number(f) === 0 ? m[1] : `${m[1]}.${f}`;
}

export interface DetectionPlan {
  readonly setup: readonly Statement[];
  readonly excluded: {
    readonly createSsns: Statement;
    readonly insertSsns: Statement;
    readonly createProviders: Statement;
    readonly insertProviders: Statement;
  };
  readonly deltaKeys: { readonly create: Statement; readonly stats: Statement };
  /** Deduplicated dimensions and the visits with several fact rows, then part A. */
  readonly baseChanged: { readonly prepare: readonly Statement[]; readonly create: Statement; readonly stats: Statement };
  /** Comprehensive mode only. */
  readonly baseUnchanged: { readonly insert: Statement; readonly stats: Statement } | undefined;
  readonly affectedGroups: Statement;
  readonly scopeVisitIds: Statement;
  /**
   * The conflict pairs (narrow), their visits, every base column of those visits (the same
   * definition as step 2), then the detected rows (streamed).
   */
  readonly conflicts: {
    readonly pairs: Statement;
    readonly visits: Statement;
    readonly facts: Statement;
    readonly details: Statement;
    readonly rows: Statement;
  };
}

const SAMPLE_ROWS = 3;

/** Every statement of a run after the clock, structured by step. */
export function detectionPlan(dialect: Dialect | SqlDialect, p: PlanParams): DetectionPlan {
  const d = typeof dialect === 'string' ? sqlDialect(dialect) : dialect;
  const x = context(d, p);
  const st = (step: string, sql: string, kind: Statement['kind']): Statement => ({ step, sql, params: [], kind });
  const ssns = uniqueTrimmed(p.excludedSsns);
  const providers = uniqueTrimmed(p.excludedProviders).map((s) => s.toLowerCase());
  const insert = (table: string, column: string, rows: string[]): Statement => ({
    step: STEP.excluded,
    sql: `INSERT INTO ${table} (${q(column)}) VALUES (?)`,
    params: [],
    kind: 'insertRows',
    data: { table, columns: [column], rowCount: rows.length, sample: rows.slice(0, SAMPLE_ROWS).map((r) => [r]) },
  });

  // Caregivers filtered (and SSNs trimmed) before the join, once per caregiver rather than per
  // fact row; the distinct visits counted as distinct rows, then per group (faster than
  // COUNT(DISTINCT) on DuckDB, measured on medium).
  const deltaKeys =
    `SELECT g."visit_date", g."ssn", COUNT(g."visit_id") AS "changed_visits" FROM (\n` +
    `SELECT DISTINCT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", LOWER(f."Visit Id") AS "visit_id"\n` +
    `FROM ${eligibleFact(x, 'changed')}\n` +
    `JOIN (SELECT s."Caregiver Id" AS "key", TRIM(s."SSN") AS "ssn" FROM ${x.tbl('DIMCAREGIVER')} s ` +
    `LEFT JOIN ${TEMP.excludedSsns} xs ON xs."ssn" = TRIM(s."SSN") WHERE TRIM(s."SSN") <> '' AND xs."ssn" IS NULL) c ON c."key" = f."Caregiver Id") g\n` +
    `GROUP BY g."visit_date", g."ssn"`;
  const partStats = (deltaValue: boolean) =>
    `SELECT COUNT(*) AS "rows", SUM(CASE WHEN COALESCE("IsMissed", false) THEN 0 ELSE 1 END) AS "candidates", ` +
    `SUM("src_rows" - 1) AS "dropped", SUM("gps_bad") AS "gps_bad" FROM ${TEMP.baseVisits} WHERE "is_delta" = ${deltaValue}`;
  const dims = dimensions();
  const a = baseVisitsSelect(x, 'changed');
  const b = p.comprehensive ? baseVisitsSelect(x, 'unchanged') : undefined;
  const conflictVisits =
    `SELECT b."VisitID" AS "visit_id", b."is_delta" FROM ${TEMP.baseVisits} b\n` +
    `WHERE b."VisitID" IN (SELECT c."v1" FROM ${TEMP.conflictPairs} c) OR b."VisitID" IN (SELECT c."v2" FROM ${TEMP.conflictPairs} c)`;
  const conflictFacts =
    `SELECT s.*, cv."is_delta" AS "cv_is_delta" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} s\n` +
    `JOIN ${TEMP.conflictVisits} cv ON cv."visit_id" = LOWER(s."Visit Id")`;

  const scopeIds = p.comprehensive
    ? `SELECT DISTINCT LOWER(f."Visit Id") AS "VisitID" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} f\n` +
      `WHERE ${changed(x)} AND ${d.regexFullMatch('LOWER(f."Visit Id")', UUID_RE)}`
    : `SELECT "VisitID" FROM ${TEMP.baseVisits}\n` +
      `WHERE "is_delta" = true AND NOT COALESCE("IsMissed", false) AND ${d.regexFullMatch('"VisitID"', UUID_RE)}`;
  // Millions of ids (and of groups) travel packed, a few hundred per row: the per-row costs of
  // the result set (driver, process boundary, conversion) are paid once per row, not once per id.
  const scope =
    `SELECT ${d.stringAgg('s."VisitID"', ',')} AS "VisitIDs" FROM (${scopeIds}) s\n` +
    `GROUP BY ${d.hashBucket('s."VisitID"', SCOPE_BUCKETS)}`;
  const affectedGroups =
    `SELECT "ssn" AS "SSN", ${d.stringAgg(d.dateText('"visit_date"'), ',')} AS "VisitDates" FROM ${TEMP.deltaKeys}\n` +
    `GROUP BY "ssn"`;

  return {
    setup: d.sessionSetup.map((s) => st(STEP.setup, s, 'execute')),
    excluded: {
      createSsns: st(STEP.excluded, d.createTempTable(TEMP.excludedSsns, [['ssn', 'VARCHAR']]), 'execute'),
      insertSsns: insert(TEMP.excludedSsns, 'ssn', ssns),
      createProviders: st(STEP.excluded, d.createTempTable(TEMP.excludedProviders, [['provider_id', 'VARCHAR']]), 'execute'),
      insertProviders: insert(TEMP.excludedProviders, 'provider_id', providers),
    },
    deltaKeys: {
      create: st(STEP.deltaKeys, d.createTempTableAs(TEMP.deltaKeys, deltaKeys), 'execute'),
      stats: st(
        STEP.deltaKeys,
        `SELECT COUNT(*) AS "groups", COUNT(DISTINCT "ssn") AS "ssns", COUNT(DISTINCT "visit_date") AS "dates", ` +
          `SUM("changed_visits") AS "changed" FROM ${TEMP.deltaKeys}`,
        'query',
      ),
    },
    baseChanged: {
      prepare: [
        st(STEP.baseChanged, d.createTempTableAs(TEMP.caregivers, dedupDimension(x, dims.cg)), 'execute'),
        st(STEP.baseChanged, d.createTempTableAs(TEMP.patients, patientsSelect(x, dims)), 'execute'),
        st(STEP.baseChanged, d.createTempTableAs(TEMP.payerContracts, payerContractsSelect(x)), 'execute'),
        st(STEP.baseChanged, d.createTempTableAs(TEMP.factDups, factDupsSelect(x)), 'execute'),
      ],
      create: st(STEP.baseChanged, d.createTempTableAs(TEMP.baseVisits, a.select), 'execute'),
      stats: st(STEP.baseChanged, partStats(true), 'query'),
    },
    baseUnchanged: b && {
      insert: st(STEP.baseUnchanged, `INSERT INTO ${TEMP.baseVisits} (${b.columns.map(q).join(', ')})\n${b.select}`, 'execute'),
      stats: st(STEP.baseUnchanged, partStats(false), 'query'),
    },
    affectedGroups: st(STEP.affectedGroups, affectedGroups, 'stream'),
    scopeVisitIds: st(STEP.scope, scope, 'stream'),
    conflicts: {
      pairs: st(STEP.conflicts, d.createTempTableAs(TEMP.conflictPairs, conflictPairsSelect(x)), 'execute'),
      visits: st(STEP.conflicts, d.createTempTableAs(TEMP.conflictVisits, conflictVisits), 'execute'),
      facts: st(STEP.conflicts, d.createTempTableAs(TEMP.conflictFacts, conflictFacts), 'execute'),
      details: st(STEP.conflicts, d.createTempTableAs(TEMP.visitDetails, baseVisitsSelect(x, 'details').select), 'execute'),
      rows: st(STEP.conflicts, detectedRowsSelect(x), 'stream'),
    },
  };
}

function uniqueTrimmed(values: readonly string[]): string[] {
  const out = new Set<string>();
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const t = v.trim();
    if (t) out.add(t);
  }
  return [...out];
}

/** The statements of a plan in the order a run sends them. */
export function planStatements(plan: DetectionPlan): Statement[] {
  return [
    ...plan.setup,
    plan.excluded.createSsns,
    plan.excluded.insertSsns,
    plan.excluded.createProviders,
    plan.excluded.insertProviders,
    plan.deltaKeys.create,
    plan.deltaKeys.stats,
    ...plan.baseChanged.prepare,
    plan.baseChanged.create,
    plan.baseChanged.stats,
    ...(plan.baseUnchanged ? [plan.baseUnchanged.insert, plan.baseUnchanged.stats] : []),
    plan.affectedGroups,
    plan.scopeVisitIds,
    plan.conflicts.pairs,
    plan.conflicts.visits,
    plan.conflicts.facts,
    plan.conflicts.details,
    plan.conflicts.rows,
  ];
}

/**
 * Every statement of a run, in order: session setup, the clock read (when AS_OF is not a naive
 * timestamp), steps 0–2, the affected groups and scope streams, step 3.
 */
export function detectionStatements(dialect: Dialect, params: PlanParams): Statement[] {
  const d = sqlDialect(dialect);
  const plan = detectionPlan(d, params);
  const clock = clockStatement(d, params.asOf);
  return [...plan.setup, ...(clock ? [clock] : []), ...planStatements({ ...plan, setup: [] })];
}
