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
import { createTempAs, TEMP } from './tempTables.js';

/** cu_open exists: the value resolution takes as its proof. */
export interface OpenRows {
  /** Open rows (open status, not InService/PTO, CONFLICTID set), detected by this run or not. */
  readonly rows: number;
  /** Their visit ids (both sides) and, comprehensive, their (trimmed SSN, VisitDate) groups. */
  readonly keys: OpenKeys;
}

type KeyKind = keyof OpenKeys;

/**
 * Keys per pack, and packs per insert: ~3.7 MB of ids (37 characters each), ~4 MB of groups (10
 * characters of date and the SSN's hex, ~33 for an 11-character SSN).
 */
const PACK = { ids: { keys: 2000, perInsert: 50 }, groups: { keys: 1000, perInsert: 120 } } as const;

/**
 * The packs of `kind`, numbered from 0: each key once, in no order. Ids are de-duplicated as uuid
 * (a visit is on both sides of its mirrored rows, so this halves what goes up); a group is its
 * date then its SSN's hex (OpenKeys). Dates outside years 1–9999 are not sent: no affected group
 * has one, and the warehouse could not read them.
 */
function packs(kind: KeyKind): string {
  const keys =
    kind === 'ids'
      ? `SELECT k::text AS k FROM (SELECT o."VisitID" AS k FROM ${TEMP.open} o UNION SELECT o."ConVisitID" FROM ${TEMP.open} o) u WHERE k IS NOT NULL`
      : `SELECT to_char(g.d, 'YYYY-MM-DD') || encode(convert_to(g.ssn, 'UTF8'), 'hex') AS k
           FROM (SELECT DISTINCT o.ssn, o."VisitDate" AS d FROM ${TEMP.open} o
                  WHERE o.ssn <> '' AND o."VisitDate" BETWEEN DATE '0001-01-01' AND DATE '9999-12-31') g`;
  return `SELECT '${kind}' AS kind, s.n / ${PACK[kind].keys} AS pack, string_agg(s.k, '${KEY_SEPARATOR}') AS keys
            FROM (SELECT k, row_number() OVER () - 1 AS n FROM (${keys}) x) s GROUP BY s.n / ${PACK[kind].keys}`;
}

/** The packs of `kind`, an insert's worth at a time (memory holds one). */
async function* readPacks(db: SyncDb, kind: KeyKind, count: number): AsyncIterable<string[][]> {
  const per = PACK[kind].perInsert;
  for (let from = 0; from < count; from += per) {
    db.throwIfStopped();
    const r = await db.query<{ keys: string }>(`SELECT keys FROM ${TEMP.openKeys} WHERE kind = $1 AND pack >= $2 AND pack < $3`, [kind, from, from + per]);
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
  const counts = await db.query<{ kind: KeyKind; n: number }>(`SELECT kind, count(*)::int AS n FROM ${TEMP.openKeys} GROUP BY kind`);
  // A kind without keys has no pack, hence no count.
  const packsOf = (kind: KeyKind) => counts.rows.find((c) => c.kind === kind)?.n ?? 0;
  return {
    rows: r.rowCount ?? 0,
    keys: { ids: () => readPacks(db, 'ids', packsOf('ids')), groups: () => readPacks(db, 'groups', packsOf('groups')) },
  };
}
