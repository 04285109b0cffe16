// The column sets of sync.md, derived from DETECTED_COLUMNS, and the SQL that checks one staged
// text value against its column's PostgreSQL type ("Invalid rows").
import { DETECTED_COLUMNS, type DetectedColumn } from '../schema/columns.js';
import { postgresText, UUID_PATTERN } from '../sqlText.js';

export const DETECTED_NAMES: readonly string[] = DETECTED_COLUMNS.map((c) => c.name);

export const KEY_COLUMNS = ['VisitID', 'ConVisitID'] as const;

export const RULE_FLAGS = [
  'SameSchTimeFlag',
  'SameVisitTimeFlag',
  'SchAndVisitTimeSameFlag',
  'SchOverAnotherSchTimeFlag',
  'VisitTimeOverAnotherVisitTimeFlag',
  'SchTimeOverVisitTimeFlag',
  'DistanceFlag',
] as const;

/** Maintained by another process after insert: never overwritten by an update. */
export const AGENCY_CONTACT_COLUMNS = ['AgencyContact', 'ConAgencyContact', 'AgencyPhone', 'ConAgencyPhone'] as const;

/** sync.md, "Update", rule 2: a difference in one of these makes a matched row dirty. */
export const COMPARED_COLUMNS = [
  'ProviderID', 'ConProviderID', 'VisitDate', 'SchStartTime', 'SchEndTime', 'ConSchStartTime', 'ConSchEndTime',
  'EVVStartTime', 'EVVEndTime', 'ConEVVStartTime', 'ConEVVEndTime', 'CaregiverID', 'ConCaregiverID', 'OfficeID',
  'ConOfficeID', 'PatientID', 'ConPatientID', 'PayerID', 'ConPayerID', 'ServiceCodeID', 'ConServiceCodeID', 'IsMissed',
  'EVVType', 'ConIsMissed', 'ConEVVType', 'P_PatientID', 'ConP_PatientID', 'PA_PatientID', 'ConPA_PatientID',
  'ContractType', 'ConContractType', 'FederalTaxNumber', 'ConFederalTaxNumber',
  // left out by the job it replaces; compared here so corrected times and positions arrive
  'VisitStartTime', 'VisitEndTime', 'ConVisitStartTime', 'ConVisitEndTime', 'PLatitude', 'PLongitude',
  'ConPLatitude', 'ConPLongitude', 'MinuteDiffBetweenSch', 'DistanceMilesFromLatLng', 'AverageMilesPerHour',
  'ETATravelMinutes',
] as const;

const NOT_SET = new Set<string>([...KEY_COLUMNS, ...RULE_FLAGS, ...AGENCY_CONTACT_COLUMNS]);

/** Set to the detected value on a dirty row. */
export const UPDATED_COLUMNS: readonly string[] = DETECTED_NAMES.filter((n) => !NOT_SET.has(n));

/** The eight dates that make a row an InService/PTO row. */
export const INSERVICE_PTO_COLUMNS = [
  'InserviceStartDate', 'InserviceEndDate', 'PTOStartDate', 'PTOEndDate',
  'ConInserviceStartDate', 'ConInserviceEndDate', 'ConPTOStartDate', 'ConPTOEndDate',
] as const;

/** `alias` is not an InService/PTO row (the predicate of the partial (SSN, VisitDate) index). */
export function notInServicePto(alias: string): string {
  return INSERVICE_PTO_COLUMNS.map((c) => `${alias}.${postgresText.ident(c)} IS NULL`).join(' AND ');
}

/** Open rows: `U`, `N` or NULL. */
export function isOpen(alias: string): string {
  return `(${alias}."StatusFlag" IN ('U', 'N') OR ${alias}."StatusFlag" IS NULL)`;
}

/** What resolution may touch: open, not InService/PTO, CONFLICTID set (sync.md, "Stale resolution"). */
export function resolvable(alias: string): string {
  return `${isOpen(alias)} AND ${notInServicePto(alias)} AND ${alias}."CONFLICTID" IS NOT NULL`;
}

// ---- validation of staged text values --------------------------------------------------------

const INTEGER_RE = '^\\s*[+-]?[0-9]+\\s*$';
const DECIMAL_RE = '^\\s*[+-]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][+-]?[0-9]+)?\\s*$';
const DATE_RE = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
const TIMESTAMP_RE =
  '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([ T]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?)?$';

const INT_RANGE: Record<string, [string, string]> = {
  int2: ['-32768', '32767'],
  int4: ['-2147483648', '2147483647'],
  int8: ['-9223372036854775808', '9223372036854775807'],
};

export interface Check {
  /** SQL that is true when the (non-NULL) value `v` cannot be stored. */
  readonly invalid: string;
  readonly reason: string;
}

const lit = postgresText.str;

/**
 * The checks of one column, in order: the first that holds names the reason. `v` is the staged
 * text expression; `inputIsValid`: the server has pg_input_is_valid (PostgreSQL 16+), which
 * catches what a pattern cannot (30 February).
 */
export function columnChecks(col: DetectedColumn, v: string, inputIsValid: boolean): Check[] {
  const t = col.pgType;
  const varchar = /^varchar\((\d+)\)$/.exec(t);
  if (varchar) return [{ invalid: `char_length(${v}) > ${varchar[1]}`, reason: `longer than ${varchar[1]} characters` }];
  switch (t) {
    case 'uuid':
      return [{ invalid: `${v} !~ ${lit(UUID_PATTERN)}`, reason: 'not a UUID' }];
    case 'int8':
      return [
        { invalid: `${v} !~ ${lit(INTEGER_RE)}`, reason: 'not a whole number' },
        { invalid: `NOT (btrim(${v})::numeric BETWEEN ${INT_RANGE.int8[0]} AND ${INT_RANGE.int8[1]})`, reason: 'out of range for int8' },
      ];
    case 'int2':
    case 'int4':
      // computed minutes may arrive unrounded: stored rounded half away from zero (detection.md)
      return [
        { invalid: `${v} !~ ${lit(DECIMAL_RE)}`, reason: 'not a number' },
        { invalid: `NOT (round(btrim(${v})::numeric) BETWEEN ${INT_RANGE[t][0]} AND ${INT_RANGE[t][1]})`, reason: `out of range for ${t}` },
      ];
    case 'real':
      return [
        { invalid: `${v} !~ ${lit(DECIMAL_RE)}`, reason: 'not a number' },
        {
          invalid: `(abs(btrim(${v})::numeric) > 3.4028234e38 OR (abs(btrim(${v})::numeric) < 1.1754944e-38 AND btrim(${v})::numeric <> 0))`,
          reason: 'out of range for real',
        },
      ];
    case 'date':
      return [{ invalid: `NOT (${v} ~ ${lit(DATE_RE)}${inputIsValid ? ` AND pg_input_is_valid(${v}, 'date')` : ''})`, reason: 'not a date' }];
    case 'timestamp':
      return [
        { invalid: `NOT (${v} ~ ${lit(TIMESTAMP_RE)}${inputIsValid ? ` AND pg_input_is_valid(${v}, 'timestamp')` : ''})`, reason: 'not a timestamp' },
      ];
    case 'bool':
      return [{ invalid: `lower(${v}) NOT IN ('t', 'f', 'true', 'false')`, reason: 'not a boolean' }];
    default:
      throw new Error(`no validation for column type ${t} (${col.name})`);
  }
}

/** The staged text `v` cast to the column's type (only evaluated on valid values). */
export function castExpr(col: DetectedColumn, v: string): string {
  switch (col.pgType) {
    case 'int2':
    case 'int4':
      return `round(btrim(${v})::numeric)::${col.pgType}`;
    case 'int8':
    case 'real':
      return `btrim(${v})::${col.pgType}`;
    default:
      return `${v}::${col.pgType}`;
  }
}
