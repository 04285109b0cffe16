// Names shared by the steps of a run: the step names the recorder and the log show, and the
// run's temporary tables (one warehouse session per run).

export const STEP = {
  setup: 'Session setup',
  clock: 'Clock',
  excluded: 'Step 0 (excluded_ssns)',
  deltaKeys: 'Step 1 (delta_keys)',
  baseChanged: 'Step 2a (base_visits changed)',
  baseUnchanged: 'Step 2b (base_visits unchanged)',
  openKeys: 'Open rows\' keys (to the warehouse)',
  affectedGroups: 'Affected groups',
  scope: 'Scope visit ids',
  conflicts: 'Step 3 (conflicts)',
} as const;

export type StepName = (typeof STEP)[keyof typeof STEP];

export const TEMP = {
  excludedSsns: 'cu_excluded_ssns',
  excludedProviders: 'cu_excluded_providers',
  deltaKeys: 'cu_delta_keys',
  pairGroups: 'cu_pair_groups',
  pairFacts: 'cu_pair_facts',
  caregivers: 'cu_caregivers',
  patients: 'cu_patients',
  payerContracts: 'cu_payer_contracts',
  factDups: 'cu_fact_dups',
  baseVisits: 'cu_base_visits',
  openIdsPacked: 'cu_open_ids_packed',
  openGroupsPacked: 'cu_open_groups_packed',
  openIds: 'cu_open_ids',
  openGroups: 'cu_open_groups',
  conflictPairs: 'cu_conflict_pairs',
  conflictVisits: 'cu_conflict_visits',
  conflictFacts: 'cu_conflict_facts',
  visitDetails: 'cu_visit_details',
} as const;
