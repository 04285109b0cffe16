// Matching (sync.md, "Matching", "Update"): each valid detected row against the CVM rows of its
// key, with the three reasons a matched row is dirty computed once.
import { postgresText } from '../sqlText.js';
import { COMPARED_COLUMNS, notInServicePto, RULE_FLAGS } from './columns.js';
import { count, type SyncDb, type TargetTables } from './db.js';
import { createTempAs, TEMP } from './tempTables.js';

const q = postgresText.ident;

export interface Matches {
  /** CVM rows matched (a key can have several). */
  readonly matchedRows: number;
  /** Detected rows with at least one matched CVM row. */
  readonly matched: number;
  /** Matched CVM rows that are dirty (all of them with SKIP_UNCHANGED_RECORDS=false). */
  readonly dirty: number;
  /** Detected rows no CVM row has the key of. */
  readonly new: number;
  /** Detected rows whose key only InService/PTO rows have: not inserted. */
  readonly blockedByInServicePto: number;
}

/** The dirtiness predicate of sync.md ("Update") between stored row `c` and detected row `d`. */
export function dirtyParts(c: string, d: string): { byFlag: string; byColumn: string; reopen: string } {
  return {
    byFlag: `(${RULE_FLAGS.map((f) => `(${c}.${q(f)} = 'N' AND ${d}.${q(f)} IS DISTINCT FROM 'N')`).join(' OR ')})`,
    byColumn: `(${COMPARED_COLUMNS.map((col) => `${c}.${q(col)} IS DISTINCT FROM ${d}.${q(col)}`).join(' OR ')})`,
    reopen: `(${c}."StatusFlag" = 'R' OR ${c}."StatusFlag" IS NULL)`,
  };
}

/** cu_detected against conflictvisitmaps → cu_match (matched rows) and cu_new (new keys). */
export async function matchDetected(db: SyncDb, t: TargetTables, opts: { readonly skipUnchanged: boolean }): Promise<Matches> {
  const p = dirtyParts('c', 'd');
  // One probe of the ("VisitID", "ConVisitID") index per detected row gives both the matched
  // rows and the new keys (no CVM row at all has the key: an InService/PTO row blocks the insert).
  await db.query(
    createTempAs(
      TEMP.probe,
      `SELECT c."ID" AS cvm_id, d.rn, d."VisitID" AS visit_id, ${notInServicePto('c')} AS usable, c."CONFLICTID" IS NULL AS no_cid,
              ${p.byFlag} AS by_flag, ${p.byColumn} AS by_column, ${p.reopen} AS reopen
         FROM ${TEMP.detected} d
         LEFT JOIN ${t.cvm} c ON c."VisitID" = d."VisitID" AND c."ConVisitID" = d."ConVisitID"
        WHERE NOT d.rejected`,
    ),
  );
  await db.query(
    createTempAs(TEMP.match, `SELECT cvm_id, rn, visit_id, no_cid, by_flag, by_column, reopen FROM ${TEMP.probe} WHERE cvm_id IS NOT NULL AND usable`),
  );
  await db.query(`ANALYZE ${TEMP.match}`);
  await db.query(createTempAs(TEMP.fresh, `SELECT rn, visit_id FROM ${TEMP.probe} WHERE cvm_id IS NULL`));
  await db.query(`ANALYZE ${TEMP.fresh}`);
  const dirty = opts.skipUnchanged ? '(by_flag OR by_column OR reopen)' : 'true';
  const r = await db.query(
    `SELECT (SELECT count(*) FROM ${TEMP.match}) AS rows,
            (SELECT count(DISTINCT rn) FROM ${TEMP.match}) AS matched,
            (SELECT count(*) FROM ${TEMP.match} WHERE ${dirty}) AS dirty,
            (SELECT count(*) FROM ${TEMP.fresh}) AS fresh,
            (SELECT count(*) FROM ${TEMP.detected} WHERE NOT rejected) AS valid`,
  );
  const matched = count(r, 'matched');
  const fresh = count(r, 'fresh');
  return {
    matchedRows: count(r, 'rows'),
    matched,
    dirty: count(r, 'dirty'),
    new: fresh,
    blockedByInServicePto: count(r, 'valid') - matched - fresh,
  };
}
