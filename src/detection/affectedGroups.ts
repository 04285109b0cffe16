// Step 1 (detection.md): the affected groups, the distinct (VisitDate, trimmed SSN) of changed
// visits that pass the shared filters, with their count of changed visits; then their stream.
import { createTempTableAs, eligibleFact, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { execute, query, stream, type ExecuteStatement, type QueryStatement, type StreamStatement } from './statement.js';

export interface DeltaKeysStatements {
  readonly create: ExecuteStatement;
  /** Columns groups, ssns, dates, changed. */
  readonly stats: QueryStatement;
}

export function deltaKeysStatements(x: Ctx): DeltaKeysStatements {
  // Caregivers filtered (and SSNs trimmed) before the join, once per caregiver rather than per
  // fact row; the distinct visits counted as distinct rows, then per group (faster than
  // COUNT(DISTINCT) on DuckDB, measured on medium).
  const ssn = x.d.trimSpaces('s."SSN"');
  const deltaKeys =
    `SELECT g."visit_date", g."ssn", COUNT(g."visit_id") AS "changed_visits" FROM (\n` +
    `SELECT DISTINCT CAST(f."Visit Date" AS DATE) AS "visit_date", c."ssn", LOWER(f."Visit Id") AS "visit_id"\n` +
    `FROM ${eligibleFact(x, 'changed')}\n` +
    `JOIN (SELECT s."Caregiver Id" AS "key", ${ssn} AS "ssn" FROM ${x.tbl('DIMCAREGIVER')} s ` +
    `LEFT JOIN ${TEMP.excludedSsns} xs ON xs."ssn" = ${ssn} WHERE ${ssn} <> '' AND xs."ssn" IS NULL) c ON c."key" = f."Caregiver Id") g\n` +
    `GROUP BY g."visit_date", g."ssn"`;
  return {
    create: execute(STEP.deltaKeys, createTempTableAs(TEMP.deltaKeys, deltaKeys)),
    stats: query(
      STEP.deltaKeys,
      `SELECT COUNT(*) AS "groups", COUNT(DISTINCT "ssn") AS "ssns", COUNT(DISTINCT "visit_date") AS "dates", ` +
        `SUM("changed_visits") AS "changed" FROM ${TEMP.deltaKeys}`,
    ),
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
