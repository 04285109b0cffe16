// The dry run's changes file (operations.md, "Dry run"): every row the merge wrote inside the
// transaction it is about to roll back, read back before the rollback and streamed by COPY as CSV
// into an owner-only file. One line per differing column of an updated row, one line per other
// row. It holds column values by design (operations.md, "Security"): mode 0600, and the log says so.
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { to as copyTo } from 'pg-copy-streams';
import { postgresText } from '../sqlText.js';
import type { SyncDb, TargetTables } from './db.js';
import { createTempAs, TEMP } from './tempTables.js';

const q = postgresText.ident;
const lit = postgresText.str;

/** What a line says happened to its row, in the order the file lists them. */
export const CHANGE_OUTCOMES = ['insert', 'update', 'repair', 'resolve-stale', 'resolve-excluded', 'insert-conflict'] as const;
export type ChangeOutcome = (typeof CHANGE_OUTCOMES)[number];

/** The header of the file, in order. */
export const CHANGE_FIELDS = ['outcome', 'ID', 'VisitID', 'ConVisitID', 'CONFLICTID', 'column', 'stored', 'new'] as const;

/** One line of the file; an empty field is null (PostgreSQL's CSV NULL), `""` an empty text. */
export type ChangeLine = { readonly outcome: ChangeOutcome } & { readonly [K in Exclude<(typeof CHANGE_FIELDS)[number], 'outcome'>]: string | null };

/** Set on every written row to the run's time: not listed as a difference. */
const RUN_TIME_COLUMN = 'UpdatedDate';

/** The changes file mode: owner read and write only. */
export const CHANGES_FILE_MODE = 0o600;

/**
 * Dry run, after matching and before any write: the stored rows an update or CONFLICTID repair
 * may change (dirty or without CONFLICTID; every matched row with SKIP_UNCHANGED_RECORDS=false),
 * as they are, so the changes file can show stored and new values side by side.
 */
export async function keepStoredRows(db: SyncDb, t: TargetTables, opts: { readonly skipUnchanged: boolean }): Promise<number> {
  const candidates = opts.skipUnchanged ? 'WHERE by_flag OR by_column OR reopen OR no_cid' : '';
  const r = await db.query(createTempAs(TEMP.stored, `SELECT c.* FROM ${t.cvm} c WHERE c."ID" IN (SELECT cvm_id FROM ${TEMP.match} ${candidates})`));
  return r.rowCount ?? 0;
}

/** The columns of conflictvisitmaps, as the server has them (production may have more than the spec). */
async function cvmColumns(db: SyncDb, t: TargetTables): Promise<string[]> {
  const r = await db.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [t.cvm],
  );
  return r.rows.map((x) => x.name);
}

/** The SELECT of the file's lines: each row this transaction wrote (its xmin) that a step meant to write. */
async function changesSelect(db: SyncDb, t: TargetTables): Promise<string> {
  // Rows this transaction wrote carry its id as xmin (txid_current() is the id with its epoch).
  const mine = (alias: string) => `${alias}.xmin = (txid_current() % 4294967296)::text::xid`;
  const diffs = (await cvmColumns(db, t))
    .filter((n) => n !== RUN_TIME_COLUMN)
    .map((n) => `(${lit(n)}, s.${q(n)}::text, c.${q(n)}::text)`);
  const line = (outcome: string, alias: string) =>
    `SELECT ${lit(outcome)} AS outcome, ${alias}."ID" AS id, ${alias}."VisitID" AS visit_id, ${alias}."ConVisitID" AS con_visit_id,
            ${alias}."CONFLICTID" AS cid, NULL::text AS col, NULL::text AS stored, NULL::text AS new`;
  const exists = await db.query<{ stale: boolean; excluded: boolean }>(
    `SELECT to_regclass($1) IS NOT NULL AS stale, to_regclass($2) IS NOT NULL AS excluded`,
    [TEMP.stale, TEMP.excluded],
  );
  const parts = [
    // Updated rows have the run's UpdatedDate; a repaired clean row only its new CONFLICTID.
    `SELECT CASE WHEN c.${q(RUN_TIME_COLUMN)} IS DISTINCT FROM s.${q(RUN_TIME_COLUMN)} THEN 'update' ELSE 'repair' END,
            c."ID", c."VisitID", c."ConVisitID", c."CONFLICTID", x.col, x.stored, x.new
       FROM ${TEMP.stored} s
       JOIN ${t.cvm} c ON c."ID" = s."ID"
       LEFT JOIN LATERAL (SELECT v.col, v.stored, v.new FROM (VALUES ${diffs.join(', ')}) v(col, stored, new)
                           WHERE v.stored IS DISTINCT FROM v.new) x ON true
      WHERE ${mine('c')}`,
    // New keys had no row before: every row of theirs this transaction wrote is an insert (its
    // dry-run ID is not the one a real run would take, so none is given).
    `SELECT 'insert', NULL::bigint, c."VisitID", c."ConVisitID", c."CONFLICTID", NULL, NULL, NULL
       FROM ${t.cvm} c
      WHERE ${mine('c')} AND (c."VisitID", c."ConVisitID") IN (SELECT d."VisitID", d."ConVisitID" FROM ${TEMP.fresh} n JOIN ${TEMP.detected} d ON d.rn = n.rn)`,
  ];
  // Stale resolution runs first: a row both stale and excluded is resolved (and counted) as stale.
  if (exists.rows[0].stale) parts.push(`${line('resolve-stale', 'c')} FROM ${t.cvm} c WHERE ${mine('c')} AND c."ID" IN (SELECT "ID" FROM ${TEMP.stale})`);
  if (exists.rows[0].excluded) {
    const notStale = exists.rows[0].stale ? ` AND c."ID" NOT IN (SELECT "ID" FROM ${TEMP.stale})` : '';
    parts.push(`${line('resolve-excluded', 'c')} FROM ${t.cvm} c WHERE ${mine('c')} AND c."ID" IN (SELECT "ID" FROM ${TEMP.excluded})${notStale}`);
  }
  parts.push(
    `SELECT 'insert-conflict', NULL::bigint, NULL::uuid, NULL::uuid, p."CONFLICTID", NULL, NULL, NULL
       FROM ${t.conflicts} p WHERE ${mine('p')} AND p."CONFLICTID" IN (SELECT cid FROM ${TEMP.visitCid} WHERE cid IS NOT NULL)`,
  );
  const order = `array_position(ARRAY[${CHANGE_OUTCOMES.map(lit).join(', ')}], outcome)`;
  return `SELECT outcome, id AS ${q('ID')}, visit_id AS ${q('VisitID')}, con_visit_id AS ${q('ConVisitID')}, cid AS ${q('CONFLICTID')},
                 col AS ${q('column')}, stored, new
            FROM (${parts.join('\n UNION ALL \n')}) z(outcome, id, visit_id, con_visit_id, cid, col, stored, new)
           ORDER BY ${order}, visit_id::text, con_visit_id::text, id, cid, col`;
}

/**
 * Write the changes of the open transaction to `path` (CSV with a header), before its rollback.
 * Written to an owner-only temporary file beside it, then renamed over it: an existing file is
 * replaced, never read or widened. Returns the number of lines (rows of CSV) written.
 */
export async function writeChanges(db: SyncDb, t: TargetTables, path: string): Promise<number> {
  const select = await changesSelect(db, t);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    db.throwIfStopped();
    const stream = db.client.query(copyTo(`COPY (${select}) TO STDOUT WITH (FORMAT csv, HEADER true)`));
    await pipeline(stream, createWriteStream(tmp, { flags: 'wx', mode: CHANGES_FILE_MODE }));
    // The mode of a new file is masked by the umask: set it exactly.
    await chmod(tmp, CHANGES_FILE_MODE);
    await rename(tmp, path);
    return stream.rowCount;
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Split CSV text (RFC 4180, as PostgreSQL writes it) into records; an unquoted empty field is null. */
function parseCsv(text: string): Array<Array<string | null>> {
  const records: Array<Array<string | null>> = [];
  let record: Array<string | null> = [];
  let i = 0;
  while (i < text.length) {
    let field: string | null;
    if (text[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        const end = text.indexOf('"', i);
        if (end < 0) throw new Error('changes file: a quoted field is not closed');
        v += text.slice(i, end);
        i = end + 1;
        if (text[i] === '"') {
          v += '"';
          i++;
        } else break;
      }
      field = v;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n' && text[end] !== '\r') end++;
      field = end === i ? null : text.slice(i, end);
      i = end;
    }
    record.push(field);
    if (text[i] === ',') {
      i++;
      if (i === text.length) record.push(null);
      continue;
    }
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    records.push(record);
    record = [];
  }
  return records;
}

/** Read a changes file back (tests, the demo, an operator's script). */
export async function readChanges(path: string): Promise<ChangeLine[]> {
  const [header, ...records] = parseCsv(await readFile(path, 'utf8'));
  if (header?.join(',') !== CHANGE_FIELDS.join(',')) throw new Error(`${path}: not a changes file (header ${header?.join(',')})`);
  return records.map((r) => {
    const outcome = r[0] as ChangeOutcome;
    if (!CHANGE_OUTCOMES.includes(outcome)) throw new Error(`${path}: unknown outcome ${String(r[0])}`);
    return Object.fromEntries(CHANGE_FIELDS.map((f, k) => [f, r[k] ?? null])) as ChangeLine;
  });
}

/** Rows per outcome (an update with several differing columns counts once). */
export function countChanges(lines: readonly ChangeLine[]): Record<ChangeOutcome, number> {
  const counts = Object.fromEntries(CHANGE_OUTCOMES.map((o) => [o, 0])) as Record<ChangeOutcome, number>;
  const seen = new Set<string>();
  for (const l of lines) {
    const key = `${l.outcome}|${l.ID}|${l.VisitID}|${l.ConVisitID}|${l.CONFLICTID}`;
    if (seen.has(key)) continue;
    seen.add(key);
    counts[l.outcome]++;
  }
  return counts;
}
