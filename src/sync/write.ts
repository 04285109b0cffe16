// The writes of sync.md, "Update" and "Insert": dirty matched rows, the CONFLICTID repair of
// clean ones, new rows, and the parent `conflicts` rows. Each returns the rows it changed.
import { postgresText } from '../sqlText.js';
import { DETECTED_NAMES, RULE_FLAGS, UPDATED_COLUMNS } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import { dirtyParts } from './match.js';
import { createTempAs, TEMP } from './tempTables.js';

const q = postgresText.ident;

/**
 * How new rows get their ids. A dry run moves no sequence: nextval and setval are not undone by
 * its rollback (and restoring a value afterwards would hand out again ids other sessions took
 * meanwhile). Its parents take the CONFLICTIDs allocation computed, as a real run's do.
 */
export interface NewIds {
  readonly dryRun: boolean;
}

export interface Updates {
  readonly updated: number;
  readonly byFlag: number;
  readonly byColumn: number;
  readonly reopened: number;
  /** Dirty rows whose NULL CONFLICTID was set in the same write. */
  readonly repaired: number;
}

/** Dirty matched rows (all matched rows with SKIP_UNCHANGED_RECORDS=false) get the detected values. */
export async function updateMatched(db: SyncDb, t: TargetTables, opts: { readonly skipUnchanged: boolean }): Promise<Updates> {
  const p = dirtyParts('c', 'd');
  const reopen = p.reopen;
  const sets = [
    ...UPDATED_COLUMNS.map((n) => `${q(n)} = d.${q(n)}`),
    ...RULE_FLAGS.map((f) => `${q(f)} = CASE WHEN c.${q(f)} = 'N' THEN d.${q(f)} ELSE c.${q(f)} END`),
    `"StatusFlag" = CASE WHEN ${reopen} THEN 'U' ELSE c."StatusFlag" END`,
    `"ResolveDate" = CASE WHEN ${reopen} THEN NULL ELSE c."ResolveDate" END`,
    `"ResolvedBy" = CASE WHEN ${reopen} THEN NULL ELSE c."ResolvedBy" END`,
    `"UpdateFlag" = NULL`,
    `"UpdatedDate" = CURRENT_TIMESTAMP`,
    // the CONFLICTID repair of a dirty row happens in the same write
    `"CONFLICTID" = coalesce(c."CONFLICTID", v.cid)`,
  ];
  const where = opts.skipUnchanged ? `AND (${p.byFlag} OR ${p.byColumn} OR ${reopen})` : '';
  const r = await db.query(
    `WITH u AS (
       UPDATE ${t.cvm} c SET ${sets.join(', ')}
         FROM ${TEMP.match} m
         JOIN ${TEMP.detected} d ON d.rn = m.rn
         LEFT JOIN ${TEMP.visitCid} v ON v.visit_id = m.visit_id
        WHERE c."ID" = m.cvm_id ${where}
       RETURNING m.by_flag, m.by_column, m.reopen, m.no_cid AND v.cid IS NOT NULL AS repaired
     )
     SELECT count(*) AS n, count(*) FILTER (WHERE by_flag) AS by_flag, count(*) FILTER (WHERE by_column) AS by_column,
            count(*) FILTER (WHERE reopen) AS reopen, count(*) FILTER (WHERE repaired) AS repaired
       FROM u`,
  );
  const row = r.rows[0];
  return {
    updated: Number(row.n),
    byFlag: Number(row.by_flag),
    byColumn: Number(row.by_column),
    reopened: Number(row.reopen),
    repaired: Number(row.repaired),
  };
}

/** Clean matched rows whose CONFLICTID is NULL: only the CONFLICTID changes. Returns how many. */
export async function repairConflictIds(db: SyncDb, t: TargetTables): Promise<number> {
  const r = await db.query(
    `UPDATE ${t.cvm} c SET "CONFLICTID" = v.cid
       FROM ${TEMP.match} m JOIN ${TEMP.visitCid} v ON v.visit_id = m.visit_id
      WHERE c."ID" = m.cvm_id AND m.no_cid AND c."CONFLICTID" IS NULL AND v.cid IS NOT NULL`,
  );
  return r.rowCount ?? 0;
}

/**
 * New rows, after the update and the repair. CRDATEUNIQUE: the earliest CreatedDate among the
 * rows of the CONFLICTID after the run, the new row included: the stored rows of a reused
 * CONFLICTID and the rows this run repaired with it, whether it was reused or allocated (read
 * through the CONFLICTID index of init_db). Returns how many rows were inserted.
 */
export async function insertNew(db: SyncDb, t: TargetTables, ids: NewIds): Promise<number> {
  // The identity may lag behind MAX("ID") (rows written with explicit ids): advance it first.
  if (!ids.dryRun) await advanceSequence(db, t.cvm, 'ID', `SELECT max("ID") FROM ${t.cvm}`);
  await db.query(
    createTempAs(
      TEMP.cidCreated,
      `SELECT c."CONFLICTID" AS cid, min(c."CreatedDate") AS created
         FROM ${t.cvm} c
        WHERE c."CONFLICTID" IN (SELECT v.cid FROM ${TEMP.visitCid} v WHERE v.visit_id IN (SELECT visit_id FROM ${TEMP.fresh}))
        GROUP BY c."CONFLICTID"`,
    ),
  );
  const cols = DETECTED_NAMES.map(q);
  // Dry run: ids below every existing one, counted down without the sequence.
  const id = ids.dryRun
    ? { col: '"ID", ', over: ' OVERRIDING SYSTEM VALUE', value: `(SELECT least(min(x."ID"), 0) FROM ${t.cvm} x) - row_number() OVER (ORDER BY d."VisitID", d."ConVisitID"), ` }
    : { col: '', over: '', value: '' };
  const r = await db.query(
    `INSERT INTO ${t.cvm} (${id.col}${cols.join(', ')}, "CONFLICTID", "StatusFlag", "InServiceFlag", "PTOFlag", "CreatedDate", "CRDATEUNIQUE")${id.over}
     SELECT ${id.value}${cols.map((c) => `d.${c}`).join(', ')}, v.cid, 'U', 'N', 'N', CURRENT_TIMESTAMP, least(CURRENT_TIMESTAMP, e.created)
       FROM ${TEMP.fresh} n
       JOIN ${TEMP.detected} d ON d.rn = n.rn
       JOIN ${TEMP.visitCid} v ON v.visit_id = n.visit_id
       LEFT JOIN ${TEMP.cidCreated} e ON e.cid = v.cid
      ORDER BY d."VisitID", d."ConVisitID"`,
  );
  return r.rowCount ?? 0;
}

/**
 * A parent `conflicts` row for every CONFLICTID given to an inserted or repaired row; then the
 * identity past the largest id used. Returns how many parents were created.
 */
export async function createParents(db: SyncDb, t: TargetTables, allocated: number, ids: NewIds): Promise<number> {
  const r = await db.query(
    `INSERT INTO ${t.conflicts} ("CONFLICTID", "CreatedDate") OVERRIDING SYSTEM VALUE
     SELECT DISTINCT v.cid, CURRENT_DATE::timestamp
       FROM ${TEMP.visitCid} v
      WHERE v.cid IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM ${t.conflicts} p WHERE p."CONFLICTID" = v.cid)
      ORDER BY v.cid`,
  );
  const created = r.rowCount ?? 0;
  if (!ids.dryRun && (allocated > 0 || created > 0)) await advanceSequence(db, t.conflicts, 'CONFLICTID', `SELECT max(cid) FROM ${TEMP.visitCid}`);
  return created;
}

/** Move the sequence behind `table`.`column` to `maxSql`'s value when it lags behind. */
async function advanceSequence(db: SyncDb, table: string, column: string, maxSql: string): Promise<void> {
  const seq = await db.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [table, column]);
  const name = seq.rows[0]?.seq;
  if (!name) return;
  await db.query(
    `SELECT setval($1::regclass, m) FROM (${maxSql}) AS x(m)
      WHERE m IS NOT NULL AND m > coalesce(pg_sequence_last_value($1::regclass), 0)`,
    [name],
  );
}
