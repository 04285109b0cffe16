// The open rows (sync.md, "Stale resolution"): the only rows resolution may touch. Taken once, at
// the start of the run, while the warehouse computes (performance.md: the job's PostgreSQL work
// overlaps the warehouse's), into cu_open, with their keys packed for the warehouse: the stale
// scope's streams then bring back only the groups and ids that reach an open row (of production's
// 12.5 M affected groups and 15 M changed visits, under 1 %). Rows opened while the run computes
// (by a person) are left to the next run; rows closed meanwhile are re-checked when resolved.
import { KEY_SEPARATOR } from '../detection/openKeys.js';
import type { OpenKeys } from '../detection/types.js';
import { resolvable } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import { createTempAs, TEMP, TEMP_DDL } from './tempTables.js';

/** cu_open exists: the value resolution takes as its proof. */
export interface OpenRows {
  /** Open rows (open status, not InService/PTO, CONFLICTID set), detected by this run or not. */
  readonly rows: number;
  /** Their visit ids (both sides) and, comprehensive, their (trimmed SSN, VisitDate) groups. */
  readonly keys: OpenKeys;
}

/** Open rows per pack (up to 2,000 ids, ~74 KB; 1,000 groups, ~32 KB), and packs per insert (ids ~3.7 MB). */
const ROWS_PER_PACK = 1000;
const PACKS_PER_BATCH = 50;

/**
 * The packs: one pass over cu_open, ROWS_PER_PACK rows to a pack, their ids and groups joined by
 * commas (repeats left to the warehouse's DISTINCT: de-duplicating here cost PostgreSQL more than
 * it saved). A group is its date then its SSN's hex (OpenKeys); dates outside years 1–9999 are not
 * sent (no affected group has one, and the warehouse could not read them).
 */
function packs(groups: boolean): string {
  const group = `CASE WHEN o.ssn <> '' AND o."VisitDate" BETWEEN DATE '0001-01-01' AND DATE '9999-12-31'
                 THEN to_char(o."VisitDate", 'YYYY-MM-DD') || encode(convert_to(o.ssn, 'UTF8'), 'hex') END`;
  return `SELECT o.n / ${ROWS_PER_PACK} AS pack, string_agg(NULLIF(concat_ws('${KEY_SEPARATOR}', o."VisitID", o."ConVisitID"), ''), '${KEY_SEPARATOR}') AS ids,
                 ${groups ? `string_agg(${group}, '${KEY_SEPARATOR}')` : 'NULL::text'} AS groups
            FROM (SELECT *, row_number() OVER () - 1 AS n FROM ${TEMP.open}) o GROUP BY o.n / ${ROWS_PER_PACK}`;
}

/** The packs' `kind` column, PACKS_PER_BATCH packs at a time (memory holds one batch). */
async function* readPacks(db: SyncDb, kind: 'ids' | 'groups', count: number): AsyncIterable<string[][]> {
  for (let from = 0; from < count; from += PACKS_PER_BATCH) {
    db.throwIfStopped();
    const r = await db.query<{ keys: string | null }>(`SELECT ${kind} AS keys FROM ${TEMP.openKeys} WHERE pack >= $1 AND pack < $2 AND ${kind} IS NOT NULL`, [
      from,
      from + PACKS_PER_BATCH,
    ]);
    yield r.rows.map((row) => [row.keys as string]);
  }
}

/**
 * cu_open and its packed keys. `groups`: the comprehensive scope's groups are sent too (the
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
  db.throwIfStopped();
  for (const ddl of TEMP_DDL.openKeys) await db.query(ddl);
  await db.query(`INSERT INTO ${TEMP.openKeys} (pack, ids, groups) ${packs(opts.groups)}`);
  const rows = r.rowCount ?? 0;
  const count = Math.ceil(rows / ROWS_PER_PACK);
  return {
    rows,
    keys: { ids: () => readPacks(db, 'ids', count), groups: () => readPacks(db, 'groups', opts.groups ? count : 0) },
  };
}
