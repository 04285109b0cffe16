// The scope visit ids stream (sync.md, stale scope): comprehensive mode, every fact row changed in
// the lookback; delta-only mode, the changed candidate visits. Ids that are not UUIDs are left out.
import { UUID_PATTERN_LOWER } from '../sqlText.js';
import { changed, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { stream, type StreamStatement } from './statement.js';

/**
 * Hash buckets of the stream: ~1,000 ids per row at 15 M changed visits, a handful at a few
 * thousand (one row per bucket that has ids).
 */
export const SCOPE_BUCKETS = 16384;

/**
 * `openRowsOnly`: only the ids of open rows (openKeys.ts). Those are PostgreSQL's uuid text, so an id
 * equal to one is a valid UUID: the pattern is not checked again over millions of ids.
 */
export function scopeVisitIdsStatement(x: Ctx, openRowsOnly: boolean): StreamStatement {
  const { d, p } = x;
  const join = (id: string) => (openRowsOnly ? `\nJOIN ${TEMP.openIds} o ON o."visit_id" = ${id}` : '');
  const valid = (id: string) => (openRowsOnly ? '' : ` AND ${d.regexFullMatch(id, UUID_PATTERN_LOWER)}`);
  const fact = 'LOWER(f."Visit Id")';
  const ids = p.comprehensive
    ? `SELECT DISTINCT ${fact} AS "VisitID" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} f${join(fact)}\n` + `WHERE ${changed(x)}${valid(fact)}`
    : `SELECT b."VisitID" FROM ${TEMP.baseVisits} b${join('b."VisitID"')}\n` +
      `WHERE b."is_delta" = true AND NOT COALESCE(b."IsMissed", false)${valid('b."VisitID"')}`;
  // Millions of ids travel packed, a few hundred per row: the per-row costs of the result set
  // (driver, process boundary, conversion) are paid once per row, not once per id.
  return stream(
    STEP.scope,
    `SELECT ${d.stringAgg('s."VisitID"', ',')} AS "VisitIDs" FROM (${ids}) s\n` + `GROUP BY ${d.hashBucket('s."VisitID"', SCOPE_BUCKETS)}`,
  );
}
