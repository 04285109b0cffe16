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
 * Into `into`: the "ID"s of the open rows (cu_open `o`) that meet any of `conditions`, less the
 * rows this run detected (rejected ones included: they count as detected). One pass over cu_open:
 * each `IN (SELECT …)` under the OR is a hashed subplan of a small set (the scope arrives reduced
 * to the open rows' keys). A join and a pass per condition, then their UNION, took 3.8 s at prod;
 * the whole stale resolution now takes 2.6 s.
 */
async function collectUndetected(db: SyncDb, into: TempTable, conditions: string[]): Promise<void> {
  await db.query(
    createTempAs(
      into,
      `SELECT o."ID" FROM ${TEMP.open} o
        WHERE (${conditions.join('\n           OR ')})
          AND NOT EXISTS (SELECT 1 FROM ${TEMP.detected} d WHERE d."VisitID" = o."VisitID" AND d."ConVisitID" = o."ConVisitID")`,
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
  const conditions: string[] = [];
  const ids = `SELECT s.id FROM ${TEMP.scope} s`;
  if (s.comprehensive) {
    if (s.groups) conditions.push(`(o.ssn, o."VisitDate") IN (SELECT g.ssn, unnest(g.dates) FROM ${TEMP.groups} g)`);
    if (s.scope) conditions.push(`o."VisitID" IN (${ids})`, `o."ConVisitID" IN (${ids})`);
  } else if (s.scope) {
    conditions.push(`(o."VisitID" IN (${ids}) AND o."ConVisitID" IN (${ids}))`);
  }
  if (conditions.length === 0) return 0;
  await collectUndetected(db, TEMP.stale, conditions);
  return resolveIds(db, t, TEMP.stale);
}

/** Open rows of an excluded SSN (trimmed) or agency (either side) are resolved, whatever the scope. */
export async function resolveExclusions(db: SyncDb, t: TargetTables, _open: OpenRows): Promise<number> {
  const ssns = `SELECT btrim(e."SSN") FROM ${t.excludedSsn} e WHERE btrim(e."SSN") <> ''`;
  const agencies = `SELECT a."ProviderID" FROM ${t.excludedAgency} a WHERE a."ProviderID" IS NOT NULL`;
  const any = await db.query<{ s: boolean; a: boolean }>(`SELECT EXISTS (${ssns}) AS s, EXISTS (${agencies}) AS a`);
  const conditions: string[] = [];
  if (any.rows[0].s) conditions.push(`o.ssn IN (${ssns})`);
  if (any.rows[0].a) conditions.push(`o."ProviderID" IN (${agencies})`, `o."ConProviderID" IN (${agencies})`);
  if (conditions.length === 0) return 0;
  await collectUndetected(db, TEMP.excluded, conditions);
  return resolveIds(db, t, TEMP.excluded);
}
