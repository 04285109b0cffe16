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

export function scopeVisitIdsStatement(x: Ctx): StreamStatement {
  const { d, p } = x;
  const ids = p.comprehensive
    ? `SELECT DISTINCT LOWER(f."Visit Id") AS "VisitID" FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} f\n` +
      `WHERE ${changed(x)} AND ${d.regexFullMatch('LOWER(f."Visit Id")', UUID_PATTERN_LOWER)}`
    : `SELECT "VisitID" FROM ${TEMP.baseVisits}\n` +
      `WHERE "is_delta" = true AND NOT COALESCE("IsMissed", false) AND ${d.regexFullMatch('"VisitID"', UUID_PATTERN_LOWER)}`;
  // Millions of ids travel packed, a few hundred per row: the per-row costs of the result set
  // (driver, process boundary, conversion) are paid once per row, not once per id.
  return stream(
    STEP.scope,
    `SELECT ${d.stringAgg('s."VisitID"', ',')} AS "VisitIDs" FROM (${ids}) s\n` + `GROUP BY ${d.hashBucket('s."VisitID"', SCOPE_BUCKETS)}`,
  );
}
