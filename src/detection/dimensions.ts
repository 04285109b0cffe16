// Step 2, the deduplicated dimensions (detection.md, step 2: "a visit must appear once"). For one
// fact row, the joined rows are the Cartesian product of the matching rows of each dimension, and
// every base column comes from exactly one dimension (payer and contract together make `Contract`,
// so they are one). The row that sorts first by the base columns is then the product of each
// dimension's row that sorts first by its own columns, in the same column order: so each
// dimension is deduplicated on its own (a small table) and the number of source rows of a visit is
// the product of the dimensions' row counts. Only visits with several FACT rows need the full sort
// (a window over those few rows, baseVisits.ts).
import { BASE_VISIT_COLUMNS } from '../schema/columns.js';
import { factSource, type Ctx } from './context.js';
import type { SqlDialect } from './dialect/index.js';
import { inRange, normalisedState } from './locations.js';
import { TEMP } from './names.js';

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

export function dimensions(d: SqlDialect): Record<'cg' | 'pr' | 'o' | 'pat' | 'sc' | 'u', Dimension> {
  const ssn = d.trimSpaces('s."SSN"');
  return {
    cg: {
      alias: 'cg',
      // Shared filter: the caregiver's trimmed SSN is non-empty and not excluded.
      from: (x) =>
        `${x.tbl('DIMCAREGIVER')} s LEFT JOIN ${TEMP.excludedSsns} xs ON xs."ssn" = ${ssn}`,
      key: `s."Caregiver Id"`,
      where: `${ssn} <> '' AND xs."ssn" IS NULL`,
      columns: [
        ['SSN', ssn],
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
        ['ProviderAddressState', `UPPER(${d.trimSpaces('s."Address State"')})`],
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

export type Dimensions = ReturnType<typeof dimensions>;

function sortIndex(name: string): number {
  const i = BASE_VISIT_COLUMNS.indexOf(name);
  if (i < 0) throw new Error(`not a base visit column: ${name}`);
  return i;
}

/** One row per key: the row sorting first by the dimension's columns (base visit order), and `n`. */
export function dedupDimension(x: Ctx, dim: Dimension): string {
  const { q } = x;
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

/** Caregivers, one row per `Caregiver Id`. Comprehensive mode: only those the pair facts name (each one's rows all kept). */
export function caregiversSelect(x: Ctx, dims: Dimensions): string {
  const named = x.p.comprehensive ? ` AND s."Caregiver Id" IN (SELECT f."Caregiver Id" FROM ${TEMP.pairFacts} f)` : '';
  return dedupDimension(x, { ...dims.cg, where: `${dims.cg.where}${named}` });
}

/**
 * Patients, one row per `Patient Id`, with the address chosen for the patient (detection.md,
 * step 2: primary, `Address Type` containing GPS, latest created, NULL oldest, then the smallest
 * id), and what the rules need from it: normalised state, zip code, usable coordinates.
 */
export function patientsSelect(x: Ctx, dims: Dimensions): string {
  // Comprehensive mode: only the patients the pair facts name (each patient's rows all kept).
  const named = x.p.comprehensive
    ? ` AND s."Patient Id" IN (SELECT f."Provider Patient Id" FROM ${TEMP.pairFacts} f UNION SELECT f."Payer Patient Id" FROM ${TEMP.pairFacts} f)`
    : '';
  const addr =
    `SELECT a.* FROM (SELECT s.*, ROW_NUMBER() OVER (PARTITION BY s."Patient Id" ` +
    `ORDER BY s."Application Created UTC Timestamp" DESC NULLS LAST, s."Patient Address Id" ASC NULLS LAST) AS "addr_rn" ` +
    `FROM ${x.tbl('DIMPATIENTADDRESS')} s WHERE s."Primary Address" = true AND s."Address Type" LIKE '%GPS%'${named}) a ` +
    `WHERE a."addr_rn" = 1`;
  return (
    `SELECT p.*, LOWER(a."Patient Address Id") AS "AddressID", a."Application Patient Address Id" AS "AppAddressID", ` +
    `a."Address Line 1" AS "AddressL1", a."Address Line 2" AS "AddressL2", a."City" AS "City", ` +
    `a."Address State" AS "AddressState", a."Zip Code" AS "ZipCode", a."County" AS "County", ` +
    `a."Latitude" AS "lat", a."Longitude" AS "lon", ${inRange('a."Latitude"', 'a."Longitude"')} AS "addr_ok", ` +
    `${normalisedState(x, 'a."Address State"')} AS "st", NULLIF(${x.d.trimSpaces('a."Zip Code"')}, '') AS "zip"\n` +
    `FROM (${dedupDimension(x, { ...dims.pat, where: `${dims.pat.where}${named}` })}) p\nLEFT JOIN (${addr}) a ON a."Patient Id" = p."key"`
  );
}

/**
 * Stands for a NULL id in the keys of cu_payer_contracts, so the fact joins it with a plain
 * equality (hash-joinable everywhere; ids are UUID text, never this).
 */
const NULL_KEY = '<NULL>';
export const nullKey = (x: Ctx, e: string): string => `COALESCE(${e}, ${x.str(NULL_KEY)})`;

/** Payer and contract of each (Payer Id, Contract Id) the fact rows name, deduplicated together. */
export function payerContractsSelect(x: Ctx): string {
  return (
    `SELECT z."payer_key", z."contract_key", z."n", z."Contract", z."PayerState" FROM (` +
    `SELECT k."payer_key", k."contract_key", COALESCE(py."Payer Name", ct."Contract Name") AS "Contract", py."Payer State" AS "PayerState", ` +
    `COUNT(*) OVER (PARTITION BY k."payer_key", k."contract_key") AS "n", ` +
    `ROW_NUMBER() OVER (PARTITION BY k."payer_key", k."contract_key" ORDER BY COALESCE(py."Payer Name", ct."Contract Name") ASC NULLS LAST, py."Payer State" ASC NULLS LAST) AS "rn" ` +
    `FROM (SELECT DISTINCT ${nullKey(x, 'f."Payer Id"')} AS "payer_key", ${nullKey(x, 'f."Contract Id"')} AS "contract_key" FROM ${factSource(x)} f) k ` +
    `LEFT JOIN ${x.tbl('DIMPAYER')} py ON py."Payer Id" = NULLIF(k."payer_key", ${x.str(NULL_KEY)}) AND py."Is Active" = true AND py."Is Demo" = false ` +
    `LEFT JOIN ${x.tbl('DIMCONTRACT')} ct ON ct."Contract Id" = NULLIF(k."contract_key", ${x.str(NULL_KEY)}) AND ct."Is Active" = true) z WHERE z."rn" = 1`
  );
}

/**
 * Visit ids (lower-cased) with more than one fact row: only these need the full sort. The pair
 * facts hold every row of their visits, so they tell it as well as the fact table.
 */
export function factDupsSelect(x: Ctx): string {
  return (
    `SELECT LOWER(f."Visit Id") AS "visit_id" FROM ${factSource(x)} f ` +
    `GROUP BY LOWER(f."Visit Id") HAVING COUNT(*) > 1`
  );
}
