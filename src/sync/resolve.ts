// Resolution (sync.md, "Stale resolution", "Exclusions resolve too"): open rows in the scope this
// run evaluated that it did not detect again, and open rows of excluded SSNs or agencies. Both
// read the open rows from cu_open (openRows.ts). Each returns the rows it resolved.
import { resolvable } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import type { OpenRows } from './openRows.js';
import type { StagedGroups, StagedScope } from './stage.js';
import { createTempAs, TEMP, type TempTable } from './tempTables.js';

/** What the stale scope is made of: the staged groups (comprehensive mode) and scope ids. */
export interface StaleScope {
  readonly comprehensive: boolean;
  readonly groups: StagedGroups | undefined;
  readonly scope: StagedScope | undefined;
}

/**
 * Into `into`: the "ID"s of the open rows the selects find (each a SELECT of cu_open `o`), less
 * the rows this run detected (rejected ones included: they count as detected).
 */
async function collectUndetected(db: SyncDb, into: TempTable, selects: string[]): Promise<void> {
  await db.query(
    createTempAs(
      into,
      `SELECT x."ID" FROM (${selects.map((s) => `SELECT o."ID", o."VisitID", o."ConVisitID" ${s}`).join('\n UNION \n')}) x
        WHERE NOT EXISTS (SELECT 1 FROM ${TEMP.detected} d WHERE d."VisitID" = x."VisitID" AND d."ConVisitID" = x."ConVisitID")`,
    ),
  );
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
export async function resolveStale(db: SyncDb, t: TargetTables, s: StaleScope, _open: OpenRows): Promise<number> {
  const selects: string[] = [];
  if (s.comprehensive) {
    if (s.groups) selects.push(`FROM ${TEMP.open} o JOIN ${TEMP.groups} g ON g.ssn = o.ssn WHERE o."VisitDate" = ANY (g.dates)`);
    if (s.scope) {
      // One join per side: each hashes the (filtered, small) scope and passes once over cu_open.
      selects.push(`FROM ${TEMP.open} o JOIN ${TEMP.scope} s ON s.id = o."VisitID"`);
      selects.push(`FROM ${TEMP.open} o JOIN ${TEMP.scope} s ON s.id = o."ConVisitID"`);
    }
  } else if (s.scope) {
    selects.push(`FROM ${TEMP.open} o JOIN ${TEMP.scope} s1 ON s1.id = o."VisitID" JOIN ${TEMP.scope} s2 ON s2.id = o."ConVisitID"`);
  }
  if (selects.length === 0) return 0;
  await collectUndetected(db, TEMP.stale, selects);
  return resolveIds(db, t, TEMP.stale);
}

/** Open rows of an excluded SSN (trimmed) or agency (either side) are resolved, whatever the scope. */
export async function resolveExclusions(db: SyncDb, t: TargetTables, _open: OpenRows): Promise<number> {
  const ssns = `SELECT btrim(e."SSN") FROM ${t.excludedSsn} e WHERE btrim(e."SSN") <> ''`;
  const agencies = `SELECT a."ProviderID" FROM ${t.excludedAgency} a WHERE a."ProviderID" IS NOT NULL`;
  const any = await db.query<{ s: boolean; a: boolean }>(`SELECT EXISTS (${ssns}) AS s, EXISTS (${agencies}) AS a`);
  const selects: string[] = [];
  if (any.rows[0].s) selects.push(`FROM ${TEMP.open} o WHERE o.ssn IN (${ssns})`);
  if (any.rows[0].a) {
    selects.push(`FROM ${TEMP.open} o WHERE o."ProviderID" IN (${agencies})`);
    selects.push(`FROM ${TEMP.open} o WHERE o."ConProviderID" IN (${agencies})`);
  }
  if (selects.length === 0) return 0;
  await collectUndetected(db, TEMP.excluded, selects);
  return resolveIds(db, t, TEMP.excluded);
}
