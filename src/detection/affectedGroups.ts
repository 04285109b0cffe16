// Step 1 (detection.md): the affected groups, the distinct (VisitDate, trimmed SSN) of changed
// visits that pass the shared filters, with their count of changed visits; then their stream.
// Comprehensive mode adds the narrow pass (performance.md): the affected groups that can hold a
// pair, the only ones steps 2 and 3 widen and pair.
import { changed, createTempTableAs, eligibleCaregivers, eligibleFact, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { execute, query, stream, type ExecuteStatement, type QueryStatement, type StreamStatement } from './statement.js';

export interface DeltaKeysStatements {
  readonly create: ExecuteStatement;
  /** Columns groups, ssns, dates, changed. */
  readonly stats: QueryStatement;
  /** The narrow pass; comprehensive mode only. */
  readonly pairGroups: PairGroupsStatements | undefined;
}

export interface PairGroupsStatements {
  readonly create: ExecuteStatement;
  /** Columns pair_groups, pair_visits. */
  readonly stats: QueryStatement;
}

/**
 * Comprehensive mode: the affected groups with, per group, what the narrow pass needs: the
 * smallest and largest provider, and the number, of the fact rows that could be a candidate's
 * (shared filters, an active non-demo provider, not missed). One scan of the window's fact rows
 * (changed or not), grouped once, by group: the rows are what `changedVisits` counts, and a first
 * grouping by visit (to count a visit's several fact rows once) cost two thirds of the step
 * (measured at prod: 19.4 s against 7.6 s). A provider is its rank among the active non-demo
 * providers by lower-cased id (equal ids, equal ranks): integer MIN/MAX cost half of what text
 * ones did over ~1.5 M visits (measured on medium).
 */
function deltaKeysWithProviders(x: Ctx): string {
  const active = `SELECT DISTINCT s."Provider Id" AS "key" FROM ${x.tbl('DIMPROVIDER')} s WHERE s."Is Active" = true AND s."Is Demo" = false`;
  const providers = `(SELECT a."key", DENSE_RANK() OVER (ORDER BY LOWER(a."key")) AS "rank" FROM (${active}) a) pr`;
  // The row's provider rank when the row could be a candidate's, else NULL.
  const provider = `CASE WHEN NOT COALESCE(f."Is Missed", false) THEN pr."rank" END`;
  const changedRows = `SUM(CASE WHEN ${changed(x)} THEN 1 ELSE 0 END)`;
  return (
    `SELECT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", CAST(${changedRows} AS BIGINT) AS "changed_visits", ` +
    `COUNT(${provider}) AS "candidate_rows", MIN(${provider}) AS "provider_min", MAX(${provider}) AS "provider_max"\n` +
    `FROM ${eligibleFact(x, 'any')}\n` +
    `JOIN ${eligibleCaregivers(x)} ON c."key" = f."Caregiver Id"\n` +
    `LEFT JOIN ${providers} ON pr."key" = f."Provider Id"\n` +
    `GROUP BY CAST(f."Visit Date" AS DATE), c."ssn" HAVING ${changedRows} > 0`
  );
}

/**
 * The narrow pass: the affected groups holding fact rows of two or more providers among the rows
 * that could be a candidate's, with their number of such rows. A pair's two visits are such rows
 * of one group, so every pair lies in one of these groups; a caregiver's several SSNs or a visit's
 * several fact rows can only add groups, never hide one.
 */
function pairGroupsStatements(x: Ctx): PairGroupsStatements | undefined {
  if (!x.p.comprehensive) return undefined;
  // Two or more providers: the smallest and the largest differ.
  const groups = `SELECT "visit_date", "ssn", "candidate_rows" AS "visits" FROM ${TEMP.deltaKeys} WHERE "provider_min" <> "provider_max"`;
  return {
    create: execute(STEP.deltaKeys, createTempTableAs(TEMP.pairGroups, groups)),
    stats: query(STEP.deltaKeys, `SELECT COUNT(*) AS "pair_groups", SUM("visits") AS "pair_visits" FROM ${TEMP.pairGroups}`),
  };
}

export function deltaKeysStatements(x: Ctx): DeltaKeysStatements {
  const deltaKeys = x.p.comprehensive
    ? deltaKeysWithProviders(x)
    : `SELECT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", COUNT(*) AS "changed_visits"\n` +
      `FROM ${eligibleFact(x, 'changed')}\n` +
      `JOIN ${eligibleCaregivers(x)} ON c."key" = f."Caregiver Id"\n` +
      `GROUP BY CAST(f."Visit Date" AS DATE), c."ssn"`;
  return {
    create: execute(STEP.deltaKeys, createTempTableAs(TEMP.deltaKeys, deltaKeys)),
    stats: query(
      STEP.deltaKeys,
      `SELECT COUNT(*) AS "groups", COUNT(DISTINCT "ssn") AS "ssns", COUNT(DISTINCT "visit_date") AS "dates", ` +
        `SUM("changed_visits") AS "changed" FROM ${TEMP.deltaKeys}`,
    ),
    pairGroups: pairGroupsStatements(x),
  };
}

/**
 * The affected groups stream, one row per SSN: [SSN, its VisitDates joined by commas]. Millions
 * of groups travel packed: the per-row costs of a result set are paid once per SSN. `openRowsOnly`: only
 * the groups of open rows (openKeys.ts), the only ones resolution can use.
 */
export function affectedGroupsStatement(x: Ctx, openRowsOnly: boolean): StreamStatement {
  const { d } = x;
  // The large side first, the small one hashed (the DuckDB dialect keeps the written join order).
  const join = openRowsOnly ? `\nJOIN ${TEMP.openGroups} o ON o."ssn" = k."ssn" AND o."visit_date" = k."visit_date"` : '';
  return stream(
    STEP.affectedGroups,
    `SELECT k."ssn" AS "SSN", ${d.stringAgg(d.dateText('k."visit_date"'), ',')} AS "VisitDates" FROM ${TEMP.deltaKeys} k${join}\n` +
      `GROUP BY k."ssn"`,
  );
}
