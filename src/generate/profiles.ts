// Benchmark profiles (performance.md). The production run to match: 12.5 M affected (date, SSN)
// groups with a 36-hour lookback, 640 K distinct SSNs, ~150 K detected conflict rows.
//
// Model: a caregiver (one SSN) works for 1–3 agencies; each caregiver has about
// `daysPerCaregiver` working days spread over the detection window (distinct dates, so a
// (date, SSN) group is one caregiver's day), with 1–4 visits a day in non-overlapping slots far
// enough apart to travel. Only the days picked for an injected conflict (a share of the days of
// multi-agency caregivers) hold overlapping, identical or travel-impossible visits at two agencies.

export type Profile = 'small' | 'medium' | 'prod';

export interface ProfileSpec {
  /** Approximate number of generated visits (fact rows), hand-crafted edge cases not counted. */
  readonly visits: number;
  /** Mean number of working days (date groups) per caregiver; each caregiver gets 1 … 2×mean−1. */
  readonly daysPerCaregiver: number;
  /** Share of working days with 1, 2, 3, 4 visits. */
  readonly visitsPerDay: readonly [number, number, number, number];
  /** Share of caregivers working for 1, 2, 3 agencies. */
  readonly agencies: readonly [number, number, number];
  readonly providers: number;
  /** Patients per caregiver (each patient is two DIMPATIENT rows: provider side and payer side). */
  readonly patientsPerCaregiver: number;
  readonly payers: number;
  readonly contracts: number;
  readonly serviceCodes: number;
  readonly users: number;
  /** Share of working days with visits changed within the 36-hour lookback (affected groups). */
  readonly changedDayShare: number;
  /** Share of a multi-agency caregiver's working days with an injected cross-agency conflict. */
  readonly conflictDayShare: number;
  /** Share of New York City multi-agency caregivers whose second agency is in New Jersey. */
  readonly crossStateShare: number;
  /** Caregivers holding the placeholder SSN 000-00-0000, and as many holding 999-99-9999. */
  readonly placeholderSsnCaregivers: number;
  readonly blankSsnShare: number;
  readonly missedShare: number;
  readonly nullUpdatedShare: number;
  /** Share of days just outside the detection window (older history, far-future schedules). */
  readonly outsideWindowShare: number;
}

export const PROFILES: Record<Profile, ProfileSpec> = {
  // Thousands of visits, dense in every feature: many multi-agency caregivers and conflicts, half
  // of the days changed (so affected groups also hold unchanged visits and stale conflicts exist).
  small: {
    visits: 5_000,
    daysPerCaregiver: 6,
    visitsPerDay: [0.6, 0.25, 0.1, 0.05],
    agencies: [0.6, 0.3, 0.1],
    providers: 24,
    patientsPerCaregiver: 1.5,
    payers: 12,
    contracts: 20,
    serviceCodes: 15,
    users: 25,
    changedDayShare: 0.5,
    conflictDayShare: 0.15,
    crossStateShare: 0.08,
    placeholderSsnCaregivers: 3,
    blankSsnShare: 0.01,
    missedShare: 0.03,
    nullUpdatedShare: 0.02,
    outsideWindowShare: 0.01,
  },
  // One tenth of the production shape: ~1.6 M visits, ~1.32 M (date, SSN) groups of ~66 K SSNs,
  // ~1.25 M of them affected, ~15 K detected rows.
  medium: {
    visits: 1_600_000,
    daysPerCaregiver: 20,
    visitsPerDay: [0.84, 0.12, 0.03, 0.01],
    agencies: [0.83, 0.13, 0.04],
    providers: 300,
    patientsPerCaregiver: 1.2,
    payers: 60,
    contracts: 120,
    serviceCodes: 80,
    users: 2_000,
    changedDayShare: 0.955,
    conflictDayShare: 0.042,
    crossStateShare: 0.02,
    placeholderSsnCaregivers: 15,
    blankSsnShare: 0.003,
    missedShare: 0.02,
    nullUpdatedShare: 0.015,
    outsideWindowShare: 0.004,
  },
  // The production shape: ~16 M visits, ~13.2 M groups of ~660 K SSNs, ~12.5 M affected,
  // ~150 K detected rows.
  prod: {
    visits: 16_000_000,
    daysPerCaregiver: 20,
    visitsPerDay: [0.84, 0.12, 0.03, 0.01],
    agencies: [0.83, 0.13, 0.04],
    providers: 3_000,
    patientsPerCaregiver: 1.2,
    payers: 200,
    contracts: 400,
    serviceCodes: 150,
    users: 20_000,
    changedDayShare: 0.955,
    conflictDayShare: 0.042,
    crossStateShare: 0.02,
    placeholderSsnCaregivers: 40,
    blankSsnShare: 0.003,
    missedShare: 0.02,
    nullUpdatedShare: 0.015,
    outsideWindowShare: 0.004,
  },
};

export interface DerivedSizes {
  /** Working days (date groups) to generate, before conflict days add visits. */
  readonly groups: number;
  readonly caregivers: number;
  readonly patients: number;
}

export function meanVisitsPerDay(spec: ProfileSpec): number {
  return spec.visitsPerDay.reduce((s, w, i) => s + w * (i + 1), 0);
}

export function derivedSizes(spec: ProfileSpec): DerivedSizes {
  const groups = Math.round(spec.visits / meanVisitsPerDay(spec));
  const caregivers = Math.max(10, Math.round(groups / spec.daysPerCaregiver));
  const patients = Math.max(60, Math.round(caregivers * spec.patientsPerCaregiver));
  return { groups, caregivers, patients };
}
