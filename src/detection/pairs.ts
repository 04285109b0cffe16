// Step 3 (detection.md, "Pairs and rules"): the ordered pairs of candidate visits of a group, the
// seven rules, distance, gap, MPH band and ETA, on a narrow projection of the candidates; the
// details of the conflict visits joined afterwards (the same definition as step 2), and the
// detected rows in DETECTED_COLUMNS order.
import { DETECTED_COLUMNS } from '../schema/columns.js';
import { baseColumnDefs, COMPUTED_BASE, type BaseColumn } from './baseColumns.js';
import { baseVisitsSelect } from './baseVisits.js';
import { createTempTableAs, factSource, type Ctx } from './context.js';
import { STEP, TEMP } from './names.js';
import { execute, stream, type ExecuteStatement, type StreamStatement } from './statement.js';
import type { MphBand } from './types.js';

function mphExpr(x: Ctx, miles: string): string {
  const bands = [...x.p.mphBands].filter((b) => [b.from, b.to, b.mph].every(Number.isFinite));
  if (bands.length === 0) return `CAST(NULL AS ${x.d.doubleType})`;
  bands.sort((a: MphBand, b: MphBand) => a.from - b.from || a.to - b.to);
  const dl = x.d.doubleLiteral;
  return `CASE ${bands.map((b) => `WHEN ${miles} >= ${dl(b.from)} AND ${miles} <= ${dl(b.to)} THEN ${dl(b.mph)}`).join(' ')} END`;
}

/** The value of one detected column in the final SELECT, cast so both engines return the same forms. */
function outputExpr(x: Ctx, defs: Record<string, BaseColumn>, col: { name: string; pgType: string; from: string }): string {
  const { d } = x;
  let src: string;
  let isNull = false;
  const m = /^(V1|V2)\.(\w+)$/.exec(col.from);
  if (m) {
    const base = m[2];
    if (!(base in defs)) throw new Error(`detected column ${col.name}: no base visit column ${base}`);
    isNull = defs[base].expr === null && !COMPUTED_BASE.has(base);
    src = `${m[1] === 'V1' ? 'v1' : 'v2'}.${x.q(base)}`;
  } else {
    const rule = /^rule (\d)$/.exec(col.from);
    if (rule) return `CASE WHEN c."r${rule[1]}" THEN 'Y' ELSE 'N' END`;
    switch (col.name) {
      case 'MinuteDiffBetweenSch':
        return `CAST(c."gap" AS INTEGER)`;
      case 'DistanceMilesFromLatLng':
        return `CAST(c."miles" AS ${d.doubleType})`;
      case 'AverageMilesPerHour':
        return `CAST(c."mph" AS ${d.doubleType})`;
      case 'ETATravelMinutes':
        // Stored as an integer: rounded half away from zero (ROUND on both engines). Sent as a
        // double, not cast to INTEGER here: an ETA beyond the column's range (an absurd MPH band)
        // is then a rejected row (sync.md, "Invalid rows") instead of a failed DuckDB statement.
        return `CAST(ROUND(c."eta", 0) AS ${d.doubleType})`;
      default:
        throw new Error(`detected column ${col.name}: unknown origin ${col.from}`);
    }
  }
  const t = col.pgType;
  if (isNull) {
    const type = t === 'uuid' || t.startsWith('varchar') || t === 'int8' || t === 'date' || t === 'timestamp' ? 'VARCHAR' : t === 'bool' ? 'BOOLEAN' : t === 'int4' ? 'INTEGER' : d.doubleType;
    return `CAST(NULL AS ${type})`;
  }
  if (t === 'uuid' || t.startsWith('varchar') || t === 'int8') return `CAST(${src} AS VARCHAR)`;
  if (t === 'date') return d.dateText(src);
  if (t === 'timestamp') return d.timestampText(src);
  if (t === 'real') return `CAST(${src} AS ${d.doubleType})`;
  if (t === 'int4') return `CAST(${src} AS INTEGER)`;
  if (t === 'bool') return `CAST(${src} AS BOOLEAN)`;
  throw new Error(`detected column ${col.name}: unhandled type ${t}`);
}

function conflictPairsSelect(x: Ctx): string {
  const { d, p } = x;
  const where = `WHERE NOT COALESCE("IsMissed", false)${p.comprehensive ? '' : ' AND "is_delta" = true'}`;
  // The pairs are matched on the keys alone, then each side's values joined by VisitID (unique
  // among the base visits): a hash table of every candidate's keys costs half the one with all
  // the values the rules need (measured on medium), and only the few pairs carry the values.
  const keys = `SELECT "VisitID" AS "id", "VisitDate" AS "d", "SSN" AS "ssn", "ProviderID" AS "p" FROM ${TEMP.baseVisits} ${where}`;
  const values =
    `SELECT "VisitID" AS "id", "SchStartTime" AS "ss", "SchEndTime" AS "se", "VisitStartTime" AS "vs", "VisitEndTime" AS "ve", ` +
    `"Latitude" AS "lat", "Longitude" AS "lon", "zip", "cs_state1" AS "st1", "cs_state2" AS "st2" FROM ${TEMP.baseVisits} ${where}`;
  const side = (a: string, n: string) =>
    ['ss', 'se', 'vs', 've', 'lat', 'lon'].map((c) => `${a}."${c}" AS "${c}${n}"`).join(', ');
  const matched =
    `SELECT a."id" AS "v1", b."id" AS "v2", a."d" AS "d"\n` +
    `FROM (${keys}) a\nJOIN (${keys}) b ON a."d" = b."d" AND a."ssn" = b."ssn" AND a."p" <> b."p" AND a."id" <> b."id"`;
  const first =
    `SELECT k."v1", k."v2", k."d", ${side('a', '1')}, a."zip" AS "z1", a."st1" AS "a1", a."st2" AS "a2"\n` +
    `FROM (${values}) a\nJOIN (${matched}) k ON k."v1" = a."id"`;
  const pairs =
    `SELECT w.*, ${side('b', '2')}, b."zip" AS "z2", b."st1" AS "b1", b."st2" AS "b2"\n` +
    `FROM (${values}) b\nJOIN (${first}) w ON w."v2" = b."id"`;
  const done = (n: string) => `(s."vs${n}" IS NOT NULL AND s."ve${n}" IS NOT NULL)`;
  const md = d.minuteDiff;
  const gap =
    `CASE WHEN NOT (${done('1')} AND ${done('2')}) THEN 0\n` +
    `    WHEN s."ve1" < s."vs2" AND s."ve2" < s."vs1" THEN LEAST(${md('s."ve1"', 's."vs2"')}, ${md('s."ve2"', 's."vs1"')})\n` +
    `    WHEN s."ve1" < s."vs2" THEN ${md('s."ve1"', 's."vs2"')}\n` +
    `    WHEN s."ve2" < s."vs1" THEN ${md('s."ve2"', 's."vs1"')}\n` +
    `    ELSE 0 END`;
  const known = `s."lat1" IS NOT NULL AND s."lon1" IS NOT NULL AND s."lat2" IS NOT NULL AND s."lon2" IS NOT NULL`;
  const l2 =
    `SELECT s.*,\n` +
    `  (s."vs1" IS NULL AND s."ve1" IS NULL) AS "u1", ${done('1')} AS "c1",\n` +
    `  (s."vs2" IS NULL AND s."ve2" IS NULL) AS "u2", ${done('2')} AS "c2",\n` +
    `  ${gap} AS "gap",\n` +
    `  CASE WHEN ${known} THEN ${d.distanceMetres('s."lat1"', 's."lon1"', 's."lat2"', 's."lon2"')} END AS "dist_m"\n` +
    `FROM (${pairs}) s`;
  const b = (e: string) => `COALESCE(${e}, false)`;
  const l3 =
    `SELECT t.*,\n` +
    `  ROUND(t."dist_m" / 1609 * ${d.doubleLiteral(Math.fround(p.extraDistancePer))}, 2) AS "miles",\n` +
    `  ${b(`t."u1" AND t."u2" AND t."d" >= ${x.today} AND t."ss1" = t."ss2" AND t."se1" = t."se2"`)} AS "r1",\n` +
    `  ${b(`t."c1" AND t."c2" AND t."vs1" = t."vs2" AND t."ve1" = t."ve2"`)} AS "r2",\n` +
    `  ${b(`(t."u1" AND t."c2" AND t."ss1" = t."vs2" AND t."se1" = t."ve2") OR (t."c1" AND t."u2" AND t."ss2" = t."vs1" AND t."se2" = t."ve1")`)} AS "r3",\n` +
    `  ${b(`t."u1" AND t."u2" AND t."d" >= ${x.today} AND t."ss1" < t."se2" AND t."se1" > t."ss2" AND NOT (t."ss1" = t."ss2" AND t."se1" = t."se2")`)} AS "r4",\n` +
    `  ${b(`t."c1" AND t."c2" AND t."vs1" < t."ve2" AND t."ve1" > t."vs2" AND NOT (t."vs1" = t."vs2" AND t."ve1" = t."ve2")`)} AS "r5",\n` +
    `  ${b(
      `(t."u1" AND t."c2" AND t."ss1" < t."ve2" AND t."se1" > t."vs2" AND NOT (t."ss1" = t."vs2" AND t."se1" = t."ve2")) OR ` +
        `(t."c1" AND t."u2" AND t."ss2" < t."ve1" AND t."se2" > t."vs1" AND NOT (t."ss2" = t."vs1" AND t."se2" = t."ve1"))`,
    )} AS "r6",\n` +
    `  ${b(`(t."a1" IS NULL AND t."a2" IS NULL) OR (t."b1" IS NULL AND t."b2" IS NULL) OR t."a1" = t."b1" OR t."a1" = t."b2" OR t."a2" = t."b1" OR t."a2" = t."b2"`)} AS "same_state"\n` +
    `FROM (${l2}) t`;
  const l4 = `SELECT m.*, ${mphExpr(x, 'm."miles"')} AS "mph"\nFROM (${l3}) m`;
  const l5 = `SELECT e.*, CASE WHEN e."mph" <> 0 THEN ROUND(e."miles" / e."mph" * 60, 2) END AS "eta"\nFROM (${l4}) e`;
  const l6 =
    `SELECT g.*, ${b(
      `g."c1" AND g."c2" AND g."miles" IS NOT NULL AND (g."z1" IS NULL OR g."z2" IS NULL OR g."z1" <> g."z2") ` +
        `AND g."mph" IS NOT NULL AND g."gap" > 0 AND g."eta" > g."gap"`,
    )} AS "r7"\nFROM (${l5}) g`;
  return (
    `SELECT c."v1", c."v2", c."gap", c."miles", c."mph", c."eta", c."r1", c."r2", c."r3", c."r4", c."r5", c."r6", c."r7"\n` +
    `FROM (${l6}) c\n` +
    `WHERE (c."r1" OR c."r2" OR c."r3" OR c."r4" OR c."r5" OR c."r6" OR c."r7") AND c."same_state"`
  );
}

/** The detected rows: each conflict pair with both visits' details, in DETECTED_COLUMNS order. */
function detectedRowsSelect(x: Ctx): string {
  const defs = baseColumnDefs(x.d);
  const out = DETECTED_COLUMNS.map((col) => `${outputExpr(x, defs, col)} AS ${x.q(col.name)}`);
  return (
    `SELECT ${out.join(',\n  ')}\n` +
    `FROM ${TEMP.conflictPairs} c\n` +
    `JOIN ${TEMP.visitDetails} v1 ON v1."VisitID" = c."v1"\n` +
    `JOIN ${TEMP.visitDetails} v2 ON v2."VisitID" = c."v2"`
  );
}

export interface ConflictStatements {
  readonly pairs: ExecuteStatement;
  readonly visits: ExecuteStatement;
  readonly facts: ExecuteStatement;
  readonly details: ExecuteStatement;
  /** The detected rows, streamed. */
  readonly rows: StreamStatement;
}

/**
 * The conflict pairs (narrow), their visits, their fact rows, every base column of those visits
 * (the same definition as step 2), then the detected rows.
 */
export function conflictStatements(x: Ctx): ConflictStatements {
  const conflictVisits =
    `SELECT b."VisitID" AS "visit_id", b."is_delta" FROM ${TEMP.baseVisits} b\n` +
    `WHERE b."VisitID" IN (SELECT c."v1" FROM ${TEMP.conflictPairs} c) OR b."VisitID" IN (SELECT c."v2" FROM ${TEMP.conflictPairs} c)`;
  const conflictFacts =
    `SELECT s.*, cv."is_delta" AS "cv_is_delta" FROM ${factSource(x)} s\n` +
    `JOIN ${TEMP.conflictVisits} cv ON cv."visit_id" = LOWER(s."Visit Id")`;
  const step = STEP.conflicts;
  return {
    pairs: execute(step, createTempTableAs(TEMP.conflictPairs, conflictPairsSelect(x))),
    visits: execute(step, createTempTableAs(TEMP.conflictVisits, conflictVisits)),
    facts: execute(step, createTempTableAs(TEMP.conflictFacts, conflictFacts)),
    details: execute(step, createTempTableAs(TEMP.visitDetails, baseVisitsSelect(x, 'details').select)),
    rows: stream(step, detectedRowsSelect(x)),
  };
}
