// Validation (sync.md, "Invalid rows"): a staged row whose value cannot be stored is rejected with
// its reason, kept only by its keys (it counts as detected: neither updated nor resolved), and
// reported by its keys and column, never by its value (operations.md, "Security").
import { DETECTED_COLUMNS } from '../schema/columns.js';
import { formatCount, type Logger } from '../log.js';
import type { RejectRecord } from '../run/recorder.js';
import { postgresText, UUID_PATTERN } from '../sqlText.js';
import { castExpr, columnChecks, DETECTED_NAMES, KEY_COLUMNS } from './columns.js';
import { count, type SyncDb } from './db.js';
import { TEMP, TEMP_DDL } from './tempTables.js';

const q = postgresText.ident;
const str = postgresText.str;

/** FAIL_ON_REJECTS=true and some detected rows could not be stored: nothing was written. */
export class RejectsError extends Error {
  override readonly name = 'RejectsError';
}

/** One rejected row as the log shows it: keys, column, reason. */
export interface RejectedRow {
  readonly visitId: string | null;
  readonly conVisitId: string | null;
  readonly column: string;
  readonly reason: string;
  /** The rejected value's length in characters: never the value itself (operations.md, "Security"). */
  readonly length: number | null;
}

export interface Validation {
  /** Rows rejected. */
  readonly rejected: number;
  /** Per column and reason: the count and the first rows' keys. */
  readonly rejects: RejectRecord[];
  /** The first rejected rows, in staging order. */
  readonly first: RejectedRow[];
}

const DUPLICATE = 'duplicate (VisitID, ConVisitID) among the detected rows';
const MISSING_KEY = 'missing (NULL)';

/** The text of column `name` of a row staged as text (its `raw` values, in DETECTED_COLUMNS order). */
function rawValue(alias: string, name: string): string {
  return `${alias}.raw[${DETECTED_NAMES.indexOf(name) + 1}]`;
}

/** A key of staged row `alias` as the warehouse sent it, whichever way the row was staged. */
function keyText(alias: string, name: (typeof KEY_COLUMNS)[number]): string {
  return `CASE WHEN ${alias}.raw IS NULL THEN ${alias}.${q(name)}::text ELSE ${rawValue(alias, name)} END`;
}

/** Both keys of staged row `alias` are UUIDs (the precheck vouches for that, the pattern otherwise). */
function uuidKeys(alias: string): string {
  return `(${alias}.raw IS NULL OR (${KEY_COLUMNS.map((k) => `coalesce(${rawValue(alias, k)} ~ ${str(UUID_PATTERN)}, false)`).join(' AND ')}))`;
}

/** Staged row `alias`'s place among the rows of its keys (a UUID's case ignored), first by rn: 1. */
function keyRank(alias: string): string {
  return `row_number() OVER (PARTITION BY ${KEY_COLUMNS.map((k) => `lower(${keyText(alias, k)})`).join(', ')} ORDER BY ${alias}.rn)`;
}

/**
 * Validate cu_detected as staging left it (stage.ts): reasons into cu_reject; afterwards every
 * row is typed, one per key, rejected ones reduced to their keys. `unvouched`: the rows staged as
 * text. `firstRows`: how many rejected rows `first` holds.
 */
export async function validate(db: SyncDb, unvouched: number, firstRows: number): Promise<Validation> {
  await db.query(TEMP_DDL.reject);
  if (unvouched > 0 || !(await keysUnique(db))) await checkRows(db);
  await db.query(`CREATE UNIQUE INDEX ON ${TEMP.detected} (rn)`);
  // Statistics of the columns the later statements join and filter on only: on all 200-odd
  // columns ANALYZE costs more than the rest of the validation.
  await db.query(`ANALYZE ${TEMP.detected} (rn, rejected, "VisitID", "ConVisitID")`);
  return readRejects(db, firstRows);
}

/**
 * With every row typed (the precheck vouched for all), none can be invalid, only a duplicate: the
 * unique index on the keys, whose build is the duplicate check (uuid equality ignores case, as
 * the general path's lower() does). False, and no index, when a key repeats. Validation runs
 * before the merge's transaction: the failed build aborts nothing.
 */
async function keysUnique(db: SyncDb): Promise<boolean> {
  try {
    await db.query(`CREATE UNIQUE INDEX ON ${TEMP.detected} (${KEY_COLUMNS.map(q).join(', ')})`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === UNIQUE_VIOLATION) return false;
    throw err;
  }
}

const UNIQUE_VIOLATION = '23505';

/**
 * The general path, in place: the SQL checks on the rows staged as text, the duplicates among
 * all rows, then one row per key, typed.
 */
async function checkRows(db: SyncDb): Promise<void> {
  const v = await db.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`);
  const inputIsValid = Number(v.rows[0].n) >= 160000;
  // One CASE per row: the first column whose value cannot be stored names the reason. Rows
  // the precheck vouched for (typed already) pass every one of these checks: they are skipped.
  // A key cannot be NULL: the row could be neither matched nor stored.
  const whens = KEY_COLUMNS.map((k) => `WHEN ${rawValue('s', k)} IS NULL THEN ARRAY[${str(k)}, ${str(MISSING_KEY)}, NULL]`);
  for (const col of DETECTED_COLUMNS) {
    const ref = rawValue('s', col.name);
    for (const check of columnChecks(col, ref, inputIsValid)) {
      whens.push(`WHEN ${ref} IS NOT NULL AND ${check.invalid} THEN ARRAY[${str(col.name)}, ${str(check.reason)}, char_length(${ref})::text]`);
    }
  }
  await db.query(
    `INSERT INTO ${TEMP.reject} (rn, col, reason, len, visit_id, con_visit_id)
     SELECT x.rn, x.r[1], x.r[2], x.r[3]::int, x.visit_id, x.con_visit_id
       FROM (SELECT s.rn, ${rawValue('s', 'VisitID')} AS visit_id, ${rawValue('s', 'ConVisitID')} AS con_visit_id, CASE ${whens.join('\n')} END AS r
               FROM ${TEMP.detected} s WHERE s.raw IS NOT NULL) x
      WHERE x.r IS NOT NULL`,
  );
  // At most one row per key, the first: every later row of a key leaves cu_detected (one ranking
  // pass), and is rejected as a duplicate unless it was rejected for a value of its own.
  await db.query(
    `WITH later AS (
       DELETE FROM ${TEMP.detected} d
        USING (SELECT s.rn, ${keyRank('s')} AS k FROM ${TEMP.detected} s WHERE ${uuidKeys('s')}) x
        WHERE d.rn = x.rn AND x.k > 1
       RETURNING d.rn, ${keyText('d', 'VisitID')} AS v, ${keyText('d', 'ConVisitID')} AS c
     )
     INSERT INTO ${TEMP.reject} (rn, col, reason, visit_id, con_visit_id)
     SELECT l.rn, ${str(KEY_COLUMNS.join(', '))}, ${str(DUPLICATE)}, l.v, l.c
       FROM later l
      WHERE NOT EXISTS (SELECT 1 FROM ${TEMP.reject} r WHERE r.rn = l.rn)`,
  );
  await db.query(`CREATE UNIQUE INDEX ON ${TEMP.reject} (rn)`);
  // Rows whose keys are not UUIDs cannot be stored at all (their reasons are recorded above).
  await db.query(`DELETE FROM ${TEMP.detected} d WHERE NOT ${uuidKeys('d')}`);
  // The rows staged as text, typed; rejected ones keep only their keys.
  const sets = DETECTED_COLUMNS.map((c) => {
    const cast = castExpr(c, rawValue('d', c.name));
    return `${q(c.name)} = ${KEY_NAMES.has(c.name) ? cast : `CASE WHEN NOT x.rejected THEN ${cast} END`}`;
  });
  await db.query(
    `UPDATE ${TEMP.detected} d SET rejected = x.rejected, raw = NULL, ${sets.join(', ')}
       FROM (SELECT s.rn, r.rn IS NOT NULL AS rejected FROM ${TEMP.detected} s LEFT JOIN ${TEMP.reject} r ON r.rn = s.rn WHERE s.raw IS NOT NULL) x
      WHERE d.rn = x.rn`,
  );
  await db.query(`CREATE UNIQUE INDEX ON ${TEMP.detected} (${KEY_COLUMNS.map(q).join(', ')})`);
}

const KEY_NAMES: ReadonlySet<string> = new Set(KEY_COLUMNS);

async function readRejects(db: SyncDb, firstRows: number): Promise<Validation> {
  const r = await db.query<{ col: string; reason: string; n: string; examples: Array<{ VisitID: string | null; ConVisitID: string | null }> }>(
    `SELECT col, reason, count(*) AS n,
            (array_agg(json_build_object('VisitID', visit_id, 'ConVisitID', con_visit_id) ORDER BY rn))[1:5] AS examples
       FROM ${TEMP.reject} GROUP BY col, reason ORDER BY count(*) DESC, col, reason`,
  );
  const rejects: RejectRecord[] = r.rows.map((row) => ({
    reason: `${row.col}: ${row.reason}`,
    count: Number(row.n),
    examples: row.examples.map((e) => ({ VisitID: e.VisitID, ConVisitID: e.ConVisitID, column: row.col })),
  }));
  const rejected = rejects.reduce((n, x) => n + x.count, 0);
  if (rejected === 0) return { rejected, rejects, first: [] };
  const first = await db.query<{ col: string; reason: string; len: number | null; visit_id: string | null; con_visit_id: string | null }>(
    `SELECT col, reason, len, visit_id, con_visit_id FROM ${TEMP.reject} ORDER BY rn LIMIT $1`,
    [firstRows],
  );
  return {
    rejected,
    rejects,
    first: first.rows.map((e) => ({ visitId: e.visit_id, conVisitId: e.con_visit_id, column: e.col, reason: e.reason, length: e.len })),
  };
}

/** The rejects in the log: one line with the count per reason, then the first rows by their keys. */
export function logRejects(log: Logger, v: Validation): void {
  if (v.rejected === 0) return;
  log.warn(
    `${formatCount(v.rejected)} detected row${v.rejected > 1 ? 's' : ''} rejected as invalid (left out of the write, counted as detected): ` +
      v.rejects.map((x) => `${x.reason} (${formatCount(x.count)})`).join('; '),
  );
  for (const e of v.first) {
    log.warn(`  rejected: VisitID ${e.visitId ?? 'NULL'}, ConVisitID ${e.conVisitId ?? 'NULL'}: ${e.column} ${e.reason}${e.length === null ? '' : ` (a value of ${formatCount(e.length)} characters)`}`);
  }
}

/** FAIL_ON_REJECTS: the error that stops the run before anything is written. */
export function rejectsError(rejected: number): RejectsError {
  return new RejectsError(`FAIL_ON_REJECTS: ${formatCount(rejected)} detected row${rejected > 1 ? 's' : ''} could not be stored; nothing was written`);
}
