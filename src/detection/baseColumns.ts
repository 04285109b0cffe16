// The base visit columns (base-visit-columns.tsv): each is an expression over the fact row (alias
// f) or a column of a deduplicated dimension (aliases in dimensions.ts); `null`: always NULL,
// neither stored nor sorted on (a constant does not change the order).
import { BASE_VISIT_COLUMNS } from '../schema/columns.js';
import type { SqlDialect } from './dialect/index.js';

type Kind = 'text' | 'id' | 'int8' | 'double' | 'bool' | 'date' | 'ts';

export interface BaseColumn {
  readonly expr: string | null;
  readonly kind: Kind;
}

export function baseColumnDefs(d: SqlDialect): Record<string, BaseColumn> {
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
    // is_delta is a literal per part (2a: true, 2b: false); set in joinedVisits (baseVisits.ts).
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
    // Computed in the geo levels of joinedVisits (baseVisits.ts) (detection.md, "Coordinates").
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
export const EXTRA_COLUMNS = ['src_rows', 'gps_bad', 'cs_state1', 'cs_state2', 'zip'] as const;
/** The base columns the rules, statistics and scope need: all that step 2 stores for every visit. */
export const NARROW_COLUMNS = [
  'is_delta', 'SSN', 'IsMissed', 'ProviderID', 'VisitID', 'VisitDate',
  'SchStartTime', 'SchEndTime', 'VisitStartTime', 'VisitEndTime', 'Longitude', 'Latitude',
];
export const COMPUTED_BASE = new Set(['Longitude', 'Latitude']);

/** The stored base visit columns in base-visit-columns.tsv order, always-NULL ones left out. */
export function storedBaseColumns(defs: Record<string, BaseColumn>): string[] {
  return BASE_VISIT_COLUMNS.filter((c) => defs[c].expr !== null || COMPUTED_BASE.has(c));
}
