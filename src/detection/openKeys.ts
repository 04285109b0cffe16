// The open rows' keys (sync.md, "Stale resolution": the scope may be reduced first in the
// warehouse). The job sends the visit ids and (SSN, VisitDate) groups of the open CVM rows,
// packed (OpenKeys in types.ts); the warehouse unpacks them into two small tables, and the stale
// scope's streams keep only the groups and ids that can reach an open row. Production's scope is
// 12.5 M groups and 15 M ids, of which the open rows reach under 1 %: a few MB go up to the
// warehouse instead of a GB coming back.
import { createTempTable, createTempTableAs, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { execute, insertRows, query, type ExecuteStatement, type InsertRowsStatement, type QueryStatement } from './statement.js';

/** The separator of the packed keys. */
export const KEY_SEPARATOR = ',';
/** A packed group: its VisitDate as `YYYY-MM-DD` (10 characters), then the SSN's hexadecimal. */
const DATE_CHARS = 10;

export interface OpenKeysStatements {
  readonly createIds: ExecuteStatement;
  /** The rows come from the job (OpenKeys.ids); the statement's own rows are none. */
  readonly insertIds: InsertRowsStatement;
  /** Comprehensive mode only: the delta-only scope is ids alone. */
  readonly groups: { readonly create: ExecuteStatement; readonly insert: InsertRowsStatement } | undefined;
  /** cu_open_ids ("visit_id") and, comprehensive, cu_open_groups ("ssn", "visit_date"), distinct. */
  readonly unpack: readonly ExecuteStatement[];
  /** Columns ids, groups. */
  readonly stats: QueryStatement;
}

export function openKeysStatements(x: Ctx): OpenKeysStatements {
  const { d } = x;
  const ids = `SELECT DISTINCT s."value" AS "visit_id" FROM (${d.splitRows(TEMP.openIdsPacked, '"ids"', KEY_SEPARATOR)}) s`;
  const groups =
    `SELECT DISTINCT ${d.textFromHex(`SUBSTR(s."value", ${DATE_CHARS + 1})`)} AS "ssn", CAST(SUBSTR(s."value", 1, ${DATE_CHARS}) AS DATE) AS "visit_date"\n` +
    `FROM (${d.splitRows(TEMP.openGroupsPacked, '"groups"', KEY_SEPARATOR)}) s`;
  const comprehensive = x.p.comprehensive;
  return {
    createIds: execute(STEP.openKeys, createTempTable(x, TEMP.openIdsPacked, [['ids', 'VARCHAR']])),
    insertIds: insertRows(STEP.openKeys, d.text, TEMP.openIdsPacked, 'ids', [], "the open rows' visit ids, packed (the job's openRows.ts)"),
    groups: comprehensive
      ? {
          create: execute(STEP.openKeys, createTempTable(x, TEMP.openGroupsPacked, [['groups', 'VARCHAR']])),
          insert: insertRows(STEP.openKeys, d.text, TEMP.openGroupsPacked, 'groups', [], "the open rows' groups, packed (the job's openRows.ts)"),
        }
      : undefined,
    unpack: [
      execute(STEP.openKeys, createTempTableAs(TEMP.openIds, ids)),
      ...(comprehensive ? [execute(STEP.openKeys, createTempTableAs(TEMP.openGroups, groups))] : []),
    ],
    stats: query(
      STEP.openKeys,
      `SELECT (SELECT COUNT(*) FROM ${TEMP.openIds}) AS "ids", ` +
        (comprehensive ? `(SELECT COUNT(*) FROM ${TEMP.openGroups}) AS "groups"` : `0 AS "groups"`),
    ),
  };
}
