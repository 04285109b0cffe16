// The open rows (sync.md, "Stale resolution"): the only rows resolution may touch. Taken once, at
// the start of the run, while the warehouse computes (performance.md: the job's PostgreSQL work
// overlaps the warehouse's), into cu_open, with their keys packed for the warehouse: the stale
// scope's streams then bring back only the groups and ids that reach an open row (of production's
// 12.5 M affected groups and 15 M changed visits, under 1 %). Rows opened while the run computes
// (by a person) are left to the next run; rows closed meanwhile are re-checked when resolved.
import type { OpenKeys } from '../detection/types.js';
import { resolvable } from './columns.js';
import type { SyncDb, TargetTables } from './db.js';
import { createTempAs, TEMP } from './tempTables.js';

/** cu_open exists: the value resolution takes as its proof. */
export interface OpenRows {
  /** Open rows (open status, not InService/PTO, CONFLICTID set), detected by this run or not. */
  readonly rows: number;
  /** Their visit ids (both sides) and, comprehensive, their (trimmed SSN, VisitDate) groups. */
  readonly keys: OpenKeys;
}

/** Keys per packed row (~37 KB of ids), and packed rows per batch sent (~4 MB). */
const KEYS_PER_ROW = 1000;
const ROWS_PER_BATCH = 100;

/**
 * The packs of `kind`, numbered from 0: each key once, KEYS_PER_ROW to a pack, in no order. A
 * group is its date then its SSN's hex (OpenKeys): dates outside years 1–9999 are not sent (no
 * affected group has one, and the warehouse could not read them).
 */
function packs(kind: 'ids' | 'groups'): string {
  const keys =
    kind === 'ids'
      ? `SELECT o."VisitID"::text AS k FROM ${TEMP.open} o WHERE o."VisitID" IS NOT NULL
          UNION SELECT o."ConVisitID"::text FROM ${TEMP.open} o WHERE o."ConVisitID" IS NOT NULL`
      : `SELECT DISTINCT to_char(o."VisitDate", 'YYYY-MM-DD') || encode(convert_to(o.ssn, 'UTF8'), 'hex') AS k FROM ${TEMP.open} o
          WHERE o.ssn <> '' AND o."VisitDate" BETWEEN DATE '0001-01-01' AND DATE '9999-12-31'`;
  return `SELECT '${kind}' AS kind, n / ${KEYS_PER_ROW} AS pack, string_agg(k, ',') AS keys
            FROM (SELECT k, row_number() OVER () - 1 AS n FROM (${keys}) u) s GROUP BY n / ${KEYS_PER_ROW}`;
}

/** The packs of `kind`, ROWS_PER_BATCH at a time (memory holds one batch). */
async function* readPacks(db: SyncDb, kind: 'ids' | 'groups', count: number): AsyncIterable<string[][]> {
  for (let from = 0; from < count; from += ROWS_PER_BATCH) {
    db.throwIfStopped();
    const r = await db.query<{ keys: string }>(`SELECT keys FROM ${TEMP.openKeys} WHERE kind = $1 AND pack >= $2 AND pack < $3`, [
      kind,
      from,
      from + ROWS_PER_BATCH,
    ]);
    yield r.rows.map((row) => [row.keys]);
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
  await db.query(createTempAs(TEMP.openKeys, opts.groups ? `${packs('ids')} UNION ALL ${packs('groups')}` : packs('ids')));
  const counts = await db.query<{ kind: string; n: number }>(`SELECT kind, count(*)::int AS n FROM ${TEMP.openKeys} GROUP BY kind`);
  const count = (kind: string) => counts.rows.find((c) => c.kind === kind)?.n ?? 0;
  const ids = count('ids');
  const groups = count('groups');
  return {
    rows: r.rowCount ?? 0,
    keys: { ids: () => readPacks(db, 'ids', ids), groups: () => readPacks(db, 'groups', groups) },
  };
}
