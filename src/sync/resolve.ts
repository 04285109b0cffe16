// Resolution (sync.md, "Stale resolution", "Exclusions resolve too"): open rows in the scope this
// run evaluated that it did not detect again, and open rows of excluded SSNs or agencies. Both
// read the open rows from cu_rows (targetRows.ts). Each returns the rows it resolved.
import { resolvable } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import type { StagedGroups, StagedScope } from './stage.js';
import { createTempAs, TEMP, type TempTable } from './tempTables.js';
import type { TargetRows } from './targetRows.js';

/** What the stale scope is made of: the staged groups (comprehensive mode) and scope ids. */
export interface StaleScope {
  readonly comprehensive: boolean;
  readonly groups: StagedGroups | undefined;
  readonly scope: StagedScope | undefined;
}

/** Resolve the rows of `ids` (a temporary table of "ID"s), re-checking that each is still open. */
async function resolveIds(db: SyncDb, t: TargetTables, ids: TempTable): Promise<number> {
  await db.query(`CREATE UNIQUE INDEX ON ${ids} ("ID")`);
  await db.query(`ANALYZE ${ids}`);
  const r = await db.query(
    `UPDATE ${t.cvm} c SET "StatusFlag" = 'R', "UpdatedDate" = CURRENT_TIMESTAMP,
            "ResolveDate" = coalesce(c."ResolveDate", CURRENT_TIMESTAMP),
            "ResolvedBy" = coalesce(c."ResolvedBy", c."ConAgencyContact", c."ConProviderName")
       FROM ${ids} st
      WHERE c."ID" = st."ID" AND ${resolvable('c')}`,
  );
  return r.rowCount ?? 0;
}

/**
 * Stale rows: comprehensive mode, open rows of an affected group (trimmed SSN, VisitDate) or with
 * a scope visit id on either side; delta-only mode, open rows with both ids in the scope.
 */
export async function resolveStale(db: SyncDb, t: TargetTables, s: StaleScope, _rows: TargetRows): Promise<number> {
  const parts: string[] = [];
  if (s.comprehensive) {
    if (s.groups) {
      parts.push(`SELECT o."ID" FROM ${TEMP.rows} o JOIN ${TEMP.groups} g ON g.ssn = o.ssn WHERE o.open AND o."VisitDate" = ANY (g.dates)`);
    }
    if (s.scope) {
      // Both ids of a row against the scope in one join: one pass over cu_scope (millions of
      // ids), hashing the open rows' ids, from an analysed table: over a UNION ALL subquery the
      // planner knew nothing of their distinct values and hashed the scope instead.
      await db.query(
        createTempAs(
          TEMP.openIds,
          `SELECT o."ID", o."VisitID" AS id FROM ${TEMP.rows} o WHERE o.open
           UNION ALL SELECT o."ID", o."ConVisitID" FROM ${TEMP.rows} o WHERE o.open`,
        ),
      );
      await db.query(`ANALYZE ${TEMP.openIds}`);
      parts.push(`SELECT k."ID" FROM ${TEMP.openIds} k JOIN ${TEMP.scope} s ON s.id = k.id`);
    }
  } else if (s.scope) {
    parts.push(
      `SELECT o."ID" FROM ${TEMP.rows} o
         JOIN ${TEMP.scope} s1 ON s1.id = o."VisitID" JOIN ${TEMP.scope} s2 ON s2.id = o."ConVisitID"
        WHERE o.open`,
    );
  }
  if (parts.length === 0) return 0;
  // The rows in scope into an indexed, analysed temporary table first: as a subquery of the
  // UPDATE it was rescanned once per CVM row whenever the table's statistics lagged behind its
  // content (rows this transaction inserted, a table not analysed since a bulk load).
  await db.query(createTempAs(TEMP.stale, parts.join('\n UNION \n')));
  return resolveIds(db, t, TEMP.stale);
}

/** Open rows of an excluded SSN (trimmed) or agency (either side) are resolved, whatever the scope. */
export async function resolveExclusions(db: SyncDb, t: TargetTables, _rows: TargetRows): Promise<number> {
  const ssns = `SELECT btrim(e."SSN") FROM ${t.excludedSsn} e WHERE btrim(e."SSN") <> ''`;
  const agencies = `SELECT a."ProviderID" FROM ${t.excludedAgency} a WHERE a."ProviderID" IS NOT NULL`;
  const any = await db.query<{ s: boolean; a: boolean }>(`SELECT EXISTS (${ssns}) AS s, EXISTS (${agencies}) AS a`);
  const parts: string[] = [];
  if (any.rows[0].s) parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o.ssn IN (${ssns})`);
  if (any.rows[0].a) {
    parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o."ProviderID" IN (${agencies})`);
    parts.push(`SELECT o."ID" FROM ${TEMP.rows} o WHERE o.open AND o."ConProviderID" IN (${agencies})`);
  }
  if (parts.length === 0) return 0;
  await db.query(createTempAs(TEMP.excluded, parts.join('\n UNION \n')));
  return resolveIds(db, t, TEMP.excluded);
}
