// The statements of a run, in order, built from the steps (detection.md, steps 0–3). All relative
// times come from the run's clock T, inlined as literals (no now() in any step); excluded SSNs and
// providers travel as data into temporary tables.
//
//   Session setup   DuckDB only: insertion order off, the written join order kept
//   Clock           the session's local time, or AS_OF with an offset converted (none for a naive AS_OF)
//   Step 0          cu_excluded_ssns, cu_excluded_providers: created, filled by insertRows   exclusions.ts
//   Step 1          cu_delta_keys: affected (VisitDate, SSN) groups, changed visits; stats   affectedGroups.ts
//                   cu_pair_groups (comprehensive): the narrow pass, affected groups with rows
//                   of two or more providers, the only groups steps 2 and 3 widen; stats
//   Step 2a         cu_pair_facts (comprehensive: the fact rows of the visits of those groups,
//                   what steps 2 and 3 read), cu_caregivers, cu_patients (with the chosen
//                   address), cu_payer_contracts (deduplicated dimensions), cu_fact_dups;
//                   cu_base_visits part A; stats                                          baseVisits.ts
//   Step 2b         cu_base_visits part B (unchanged visits of affected groups; comprehensive only); stats
//   Open keys       cu_open_ids_packed, cu_open_groups_packed (comprehensive): created, filled by
//                   insertRows with the open rows' keys the job sends; cu_open_ids,
//                   cu_open_groups: unpacked; stats                                        openKeys.ts
//   Affected groups stream [SSN, VisitDates]: one row per SSN, its dates joined by commas  affectedGroups.ts
//   Scope visit ids stream [VisitIDs]: the ids in hash buckets, joined by commas            scope.ts
//                   (both the whole scope, or with open keys only what reaches an open row)
//   Step 3          cu_conflict_pairs (narrow pairs, rules, values), cu_conflict_visits,
//                   cu_conflict_facts, cu_visit_details (every base column of those visits
//                   only), then the detected rows, streamed                                  pairs.ts
import type { Dialect } from '../warehouse/warehouse.js';
import { affectedGroupsStatement, deltaKeysStatements, type DeltaKeysStatements } from './affectedGroups.js';
import { baseChangedStatements, baseUnchangedStatements, type BaseChangedStatements, type BaseUnchangedStatements } from './baseVisits.js';
import { clockStatement } from './clock.js';
import { context, type Ctx, type PlanParams } from './context.js';
import { sqlDialect, type SqlDialect } from './dialect/index.js';
import { exclusionStatements, type ExclusionStatements } from './exclusions.js';
import { STEP } from './names.js';
import { conflictStatements, type ConflictStatements } from './pairs.js';
import { scopeVisitIdsStatement } from './scope.js';
import { openKeysStatements, type OpenKeysStatements } from './openKeys.js';
import { execute, type ExecuteStatement, type Statement, type StreamStatement } from './statement.js';

/** The stale scope's streams, whole (without open keys) or reduced to what reaches an open row. */
export interface ScopeStatements {
  readonly affectedGroups: StreamStatement;
  readonly scopeVisitIds: StreamStatement;
}

export interface DetectionPlan {
  readonly setup: readonly ExecuteStatement[];
  readonly excluded: ExclusionStatements;
  readonly deltaKeys: DeltaKeysStatements;
  readonly baseChanged: BaseChangedStatements;
  /** Comprehensive mode only. */
  readonly baseUnchanged: BaseUnchangedStatements | undefined;
  /** The whole stale scope (a run that was sent no open keys). */
  readonly scope: ScopeStatements;
  /** The open rows' keys, then the scope they reach: what the job runs. */
  readonly openKeys: OpenKeysStatements;
  readonly openScope: ScopeStatements;
  readonly conflicts: ConflictStatements;
}

function scopeStatements(x: Ctx, openRowsOnly: boolean): ScopeStatements {
  return { affectedGroups: affectedGroupsStatement(x, openRowsOnly), scopeVisitIds: scopeVisitIdsStatement(x, openRowsOnly) };
}

/** Every statement of a run after the clock, structured by step. */
export function detectionPlan(d: SqlDialect, p: PlanParams): DetectionPlan {
  const x = context(d, p);
  return {
    setup: d.sessionSetup.map((s) => execute(STEP.setup, s)),
    excluded: exclusionStatements(x),
    deltaKeys: deltaKeysStatements(x),
    baseChanged: baseChangedStatements(x),
    baseUnchanged: baseUnchangedStatements(x),
    scope: scopeStatements(x, false),
    openKeys: openKeysStatements(x),
    openScope: scopeStatements(x, true),
    conflicts: conflictStatements(x),
  };
}

/** The statements of a plan after the clock, in the order a run sends them. */
function afterClock(plan: DetectionPlan): Statement[] {
  const { excluded: ex, deltaKeys, baseChanged, baseUnchanged: b, openKeys: k, conflicts: c } = plan;
  return [
    ex.createSsns,
    ex.insertSsns,
    ex.createProviders,
    ex.insertProviders,
    deltaKeys.create,
    deltaKeys.stats,
    ...(deltaKeys.pairGroups ? [deltaKeys.pairGroups.create, deltaKeys.pairGroups.stats] : []),
    ...baseChanged.prepare,
    baseChanged.create,
    baseChanged.stats,
    ...(b ? [b.insert, b.stats] : []),
    k.createIds,
    k.insertIds,
    ...(k.groups ? [k.groups.create, k.groups.insert] : []),
    ...k.unpack,
    k.stats,
    plan.openScope.affectedGroups,
    plan.openScope.scopeVisitIds,
    c.pairs,
    c.visits,
    c.facts,
    c.details,
    c.rows,
  ];
}

/**
 * Every statement of a run with stale cleanup, in order: session setup, the clock read (when AS_OF
 * is not a naive timestamp), steps 0–2, the open keys (their rows are the job's), the affected
 * groups and scope streams they reach, step 3.
 */
export function detectionStatements(dialect: Dialect, params: PlanParams): Statement[] {
  const d = sqlDialect(dialect);
  const plan = detectionPlan(d, params);
  const clock = clockStatement(d, params.asOf);
  return [...plan.setup, ...(clock ? [clock] : []), ...afterClock(plan)];
}
