// Step 1 (detection.md): the affected groups, the distinct (VisitDate, trimmed SSN) of changed
// visits that pass the shared filters, with their count of changed visits; then their stream.
// Comprehensive mode adds the narrow pass (performance.md): the affected groups that can hold a
// pair, the only ones steps 2 and 3 widen and pair.
import { createTempTableAs, eligibleCaregivers, eligibleFact, type Ctx } from './context.js';
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
  /** Columns groups, visits. */
  readonly stats: QueryStatement;
}

/**
 * The narrow pass: the affected groups holding fact rows of two or more providers among the rows
 * that could be a candidate's (shared filters, an active non-demo provider, not missed), with
 * their number of such rows. A pair's two visits are such rows of one group, so every pair lies
 * in one of these groups; a caregiver's several SSNs or a visit's several fact rows can only add
 * groups, never hide one.
 */
function pairGroupsStatements(x: Ctx): PairGroupsStatements | undefined {
  if (!x.p.comprehensive) return undefined;
  const providers = `(SELECT DISTINCT s."Provider Id" AS "key" FROM ${x.tbl('DIMPROVIDER')} s WHERE s."Is Active" = true AND s."Is Demo" = false) pr`;
  const rows =
    `SELECT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", LOWER(f."Provider Id") AS "provider_id"\n` +
    `FROM ${eligibleFact(x, 'any')}\n` +
    `JOIN ${eligibleCaregivers(x)} ON c."key" = f."Caregiver Id"\n` +
    `JOIN ${providers} ON pr."key" = f."Provider Id"\n` +
    `WHERE NOT COALESCE(f."Is Missed", false)`;
  // Two or more providers: the smallest and the largest differ.
  const groups =
    `SELECT k."visit_date", k."ssn", COUNT(*) AS "visits" FROM (${rows}) v\n` +
    `JOIN ${TEMP.deltaKeys} k ON k."visit_date" = v."visit_date" AND k."ssn" = v."ssn"\n` +
    `GROUP BY k."visit_date", k."ssn" HAVING MIN(v."provider_id") <> MAX(v."provider_id")`;
  return {
    create: execute(STEP.deltaKeys, createTempTableAs(TEMP.pairGroups, groups)),
    stats: query(STEP.deltaKeys, `SELECT COUNT(*) AS "groups", SUM("visits") AS "visits" FROM ${TEMP.pairGroups}`),
  };
}

export function deltaKeysStatements(x: Ctx): DeltaKeysStatements {
  // The distinct visits counted as distinct rows, then per group (faster than COUNT(DISTINCT) on
  // DuckDB, measured on medium).
  const deltaKeys =
    `SELECT g."visit_date", g."ssn", COUNT(g."visit_id") AS "changed_visits" FROM (\n` +
    `SELECT DISTINCT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", LOWER(f."Visit Id") AS "visit_id"\n` +
    `FROM ${eligibleFact(x, 'changed')}\n` +
    `JOIN ${eligibleCaregivers(x)} ON c."key" = f."Caregiver Id") g\n` +
    `GROUP BY g."visit_date", g."ssn"`;
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
 * of groups travel packed: the per-row costs of a result set are paid once per SSN.
 */
export function affectedGroupsStatement(x: Ctx): StreamStatement {
  const { d } = x;
  return stream(
    STEP.affectedGroups,
    `SELECT "ssn" AS "SSN", ${d.stringAgg(d.dateText('"visit_date"'), ',')} AS "VisitDates" FROM ${TEMP.deltaKeys}\n` +
      `GROUP BY "ssn"`,
  );
}
