// The one pass over conflictvisitmaps (wide: each full scan reads all of it) into a narrow,
// analysed temporary table that allocation, CRDATEUNIQUE and resolution read afterwards.
import { resolvable } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import { createTempAs, TEMP } from './tempTables.js';

/** cu_rows exists: the value the steps that read it take as their proof. */
export interface TargetRows {
  readonly rows: number;
}

/**
 * cu_rows holds
 * - the rows resolution may touch (`open`: open, not InService/PTO, CONFLICTID set, not detected
 *   by this run; the writes before resolution change detected rows only, so it stays true),
 * - every row of a CONFLICTID this run reuses (CRDATEUNIQUE of the rows it inserts),
 * - every row whose CONFLICTID is at least the largest parent's: with the parents' maximum, the
 *   largest CONFLICTID of either table, from which new ones are allocated.
 * Take it after collectConflictIds and before allocateConflictIds: cu_visit_cid then holds the
 * reused CONFLICTIDs only.
 */
export async function snapshotTargetRows(db: SyncDb, t: TargetTables): Promise<TargetRows> {
  // Not detected: an anti-join written as a LEFT JOIN (a NOT EXISTS under OR would run once per row).
  const open = `${resolvable('c')} AND d.rn IS NULL`;
  const r = await db.query(
    createTempAs(
      TEMP.rows,
      `SELECT c."ID", c."VisitID", c."ConVisitID", btrim(c."SSN") AS ssn, c."VisitDate", c."ProviderID", c."ConProviderID",
              c."CONFLICTID", c."CreatedDate", coalesce(${open}, false) AS open
         FROM ${t.cvm} c
         LEFT JOIN ${TEMP.detected} d ON d."VisitID" = c."VisitID" AND d."ConVisitID" = c."ConVisitID"
        WHERE (${open})
           OR c."CONFLICTID" >= (SELECT coalesce(max(p."CONFLICTID"), 0) FROM ${t.conflicts} p)
           OR c."CONFLICTID" IN (SELECT v.cid FROM ${TEMP.visitCid} v WHERE v.cid IS NOT NULL)`,
    ),
  );
  await db.query(`ANALYZE ${TEMP.rows}`);
  return { rows: r.rowCount ?? 0 };
}
