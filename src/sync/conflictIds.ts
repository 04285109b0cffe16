// CONFLICTIDs (sync.md, "Insert", and the repair of "Update"): one per visit that gets an inserted
// or repaired row: the smallest existing one of the visit (any row), else a new one, consecutive
// from the largest in either table, in VisitID order.
import { count, type SyncDb, type TargetTables } from './db.js';
import { createTempAs, TEMP } from './tempTables.js';

export interface VisitConflictIds {
  /** Visits that need a CONFLICTID. */
  readonly visits: number;
  /** Of those, visits without one in any row: they get a new one. */
  readonly toAllocate: number;
}

/**
 * cu_visit_cid: the visits of matched rows without a CONFLICTID and, with ENABLE_INSERT, of new
 * rows, each with the smallest CONFLICTID any CVM row of the visit has (NULL when none has one).
 */
export async function collectConflictIds(db: SyncDb, t: TargetTables, opts: { readonly enableInsert: boolean }): Promise<VisitConflictIds> {
  const sources = [`SELECT visit_id FROM ${TEMP.match} WHERE no_cid`];
  if (opts.enableInsert) sources.push(`SELECT visit_id FROM ${TEMP.fresh}`);
  const r = await db.query(
    createTempAs(
      TEMP.visitCid,
      `SELECT v.visit_id, (SELECT min(c."CONFLICTID") FROM ${t.cvm} c WHERE c."VisitID" = v.visit_id) AS cid, false AS allocated
         FROM (${sources.join(' UNION ')}) v`,
    ),
  );
  const missing = await db.query(`SELECT count(*) AS n FROM ${TEMP.visitCid} WHERE cid IS NULL`);
  return { visits: r.rowCount ?? 0, toAllocate: count(missing) };
}

/**
 * New CONFLICTIDs for the visits without one, from the largest of either table plus one (the
 * CONFLICTID index of init_db answers the maximum without a scan). Returns how many.
 */
export async function allocateConflictIds(db: SyncDb, t: TargetTables): Promise<number> {
  const r = await db.query(
    `WITH base AS (
       SELECT greatest(coalesce((SELECT max(c."CONFLICTID") FROM ${t.cvm} c), 0),
                       coalesce((SELECT max("CONFLICTID") FROM ${t.conflicts}), 0)) AS b
     ), numbered AS (
       SELECT v.visit_id, row_number() OVER (ORDER BY v.visit_id::text) AS k FROM ${TEMP.visitCid} v WHERE v.cid IS NULL
     )
     UPDATE ${TEMP.visitCid} v SET cid = base.b + numbered.k, allocated = true
       FROM numbered, base WHERE v.visit_id = numbered.visit_id`,
  );
  return r.rowCount ?? 0;
}

/** Index cu_visit_cid for the writes; returns how many visits reuse an existing CONFLICTID. */
export async function indexConflictIds(db: SyncDb): Promise<number> {
  const reused = await db.query(`SELECT count(*) AS n FROM ${TEMP.visitCid} WHERE NOT allocated`);
  await db.query(`CREATE UNIQUE INDEX ON ${TEMP.visitCid} (visit_id)`);
  await db.query(`ANALYZE ${TEMP.visitCid}`);
  return count(reused);
}
