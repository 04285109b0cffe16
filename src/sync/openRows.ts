// The open rows (sync.md, "Stale resolution"): the only rows resolution may touch. Taken once, at
// the start of the run, while the warehouse computes (performance.md: the job's PostgreSQL work
// overlaps the warehouse's), into cu_open, with a filter of their keys that lets the stale scope's
// streams keep only what can reach one of them: of production's 12.5 M affected groups and 15 M
// changed visits, the groups and ids of open rows. Rows opened while the run computes (by a
// person) are left to the next run; rows closed meanwhile are re-checked when resolved.
import { resolvable } from './columns.js';
import { copyOut } from './copy.js';
import type { SyncDb, TargetTables } from './db.js';
import { KeyFilter } from './keyFilter.js';
import { createTempAs, TEMP } from './tempTables.js';

/** cu_open exists: the value resolution takes as its proof. */
export interface OpenRows {
  /** Open rows (open status, not InService/PTO, CONFLICTID set), detected by this run or not. */
  readonly rows: number;
  /** Their visit ids (both sides) and, when `groups`, their (trimmed SSN, VisitDate) groups. */
  readonly filter: KeyFilter;
}

/**
 * cu_open and its key filter. `groups`: the comprehensive scope's groups are filtered too (the
 * delta-only scope is ids alone).
 */
export async function snapshotOpenRows(db: SyncDb, t: TargetTables, opts: { readonly groups: boolean }): Promise<OpenRows> {
  const r = await db.query(
    createTempAs(
      TEMP.open,
      `SELECT c."ID", c."VisitID", c."ConVisitID", btrim(c."SSN") AS ssn, c."VisitDate", c."ProviderID", c."ConProviderID"
         FROM ${t.cvm} c WHERE ${resolvable('c')}`,
    ),
  );
  await db.query(`ANALYZE ${TEMP.open}`);
  const rows = r.rowCount ?? 0;
  const filter = new KeyFilter(rows * (opts.groups ? 3 : 2));
  db.throwIfStopped();
  // uuid and date print the same whatever the session's settings: lower-case, and to_char's ISO.
  await copyOut(db.client, `SELECT "VisitID", "ConVisitID", ssn, to_char("VisitDate", 'YYYY-MM-DD') FROM ${TEMP.open}`, ([visit, con, ssn, date]) => {
    if (visit) filter.addId(visit);
    if (con) filter.addId(con);
    if (opts.groups && ssn !== null && date) filter.addGroup(ssn, date);
  });
  return { rows, filter };
}
