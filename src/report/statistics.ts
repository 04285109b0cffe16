// The statistics every run reports (sync.md, "Statistics every run reports"): one typed interface
// and one table of labels, in the order the log summary, the run report's readers, the status
// email and the benchmark show them. Each statistic has one name and one label, and one writer:
// detection or sync. (The sync once copied its own `affectedGroups`, the groups it received, over
// detection's: 0 whenever the stream was not sent.)

export interface RunStatistics {
  // detection (detection.md)
  /**
   * Step 1: fact rows whose Visit Updated Timestamp is in the lookback and that pass the shared
   * filters, counted in each affected group they fall in (a caregiver with two SSNs: in both).
   */
  changedVisits: number;
  /** Step 1: (SSN, VisitDate) groups of the changed visits. */
  affectedGroups: number;
  affectedSsns: number;
  affectedDates: number;
  /** Step 1's narrow pass (comprehensive mode): affected groups with visits of two or more providers. */
  pairGroups: number;
  /** Their fact rows that can be a candidate's (the visits widened are those rows' visits). */
  pairGroupVisits: number;
  candidatesPartA: number;
  candidatesPartB: number;
  duplicateSourceRowsDropped: number;
  unusableGpsValues: number;
  /** Step 3: rows detection produced. */
  detectedRows: number;
  // sync (sync.md)
  /** Detected rows the sync received. */
  detected: number;
  rejected: number;
  /** Detected rows with at least one matching CVM row. */
  matched: number;
  /** CVM rows matched (one key can have several). */
  matchedRows: number;
  new: number;
  blockedByInServicePto: number;
  inserted: number;
  dirty: number;
  updated: number;
  updatedByFlag: number;
  updatedByColumn: number;
  reopened: number;
  clean: number;
  staleResolved: number;
  exclusionResolved: number;
  conflictIdsRepaired: number;
  conflictIdsReused: number;
  conflictIdsAllocated: number;
  parentsCreated: number;
  /** Affected groups the sync received for the stale scope (0 when the stream is not sent). */
  affectedGroupsReceived: number;
  scopeVisitIds: number;
}

export type StatisticName = keyof RunStatistics;

/** Every statistic's label, in display order (the compiler checks that none is missing). */
const LABELS: { readonly [K in StatisticName]: string } = {
  changedVisits: 'Changed visits',
  affectedGroups: 'Affected groups',
  affectedSsns: 'Affected SSNs',
  affectedDates: 'Affected dates',
  pairGroups: 'Groups that can hold a pair',
  pairGroupVisits: 'Visits of those groups',
  candidatesPartA: 'Candidate visits (Part A)',
  candidatesPartB: 'Candidate visits (Part B)',
  duplicateSourceRowsDropped: 'Duplicate source rows dropped',
  unusableGpsValues: 'Unusable GPS values',
  detectedRows: 'Detected rows',
  detected: 'Detected rows received by the sync',
  rejected: 'Rejected as invalid',
  matched: 'Matched (detected rows)',
  matchedRows: 'Matched CVM rows',
  new: 'New',
  blockedByInServicePto: 'Blocked by InService/PTO rows',
  inserted: 'Inserted',
  dirty: 'Dirty',
  updated: 'Updated',
  updatedByFlag: 'Updated: by rule flag',
  updatedByColumn: 'Updated: by business column',
  reopened: 'Updated: re-opened',
  clean: 'Clean (skipped)',
  staleResolved: 'Stale resolved',
  exclusionResolved: 'Resolved by exclusions',
  conflictIdsRepaired: 'CONFLICTID repaired',
  conflictIdsReused: 'CONFLICTID reused (visits)',
  conflictIdsAllocated: 'CONFLICTID allocated (visits)',
  parentsCreated: 'conflicts rows created',
  affectedGroupsReceived: 'Affected groups received by the sync',
  scopeVisitIds: 'Scope visit ids received by the sync',
};

export interface StatisticDefinition {
  readonly name: StatisticName;
  readonly label: string;
}

/** The table: every statistic with its label, in display order. */
export const STATISTICS: readonly StatisticDefinition[] = Object.freeze(
  (Object.keys(LABELS) as StatisticName[]).map((name) => Object.freeze({ name, label: LABELS[name] })),
);

function isStatisticName(name: string): name is StatisticName {
  return Object.prototype.hasOwnProperty.call(LABELS, name);
}

/**
 * The label of a statistic; a name outside the table (a report's statistics are open: older
 * reports, `<x>Before`/`<x>After` pairs) reads as words: `cvmRows` → `Cvm rows`.
 */
export function statisticLabel(name: string): string {
  if (isStatisticName(name)) return LABELS[name];
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/[_.]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** The recorded statistics in table order first, then any others in their recorded order. */
export function orderedStatistics(stats: Readonly<Record<string, number | undefined>>): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const { name } of STATISTICS) {
    const v = stats[name];
    if (v !== undefined) out.push([name, v]);
  }
  for (const [k, v] of Object.entries(stats)) if (!isStatisticName(k) && v !== undefined) out.push([k, v]);
  return out;
}
