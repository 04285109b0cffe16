// Step 2 (detection.md): base visits, one row per visit, with the coordinates, the cross-state
// codes and the zip code the rules need. Part A: changed visits; part B (comprehensive mode): the
// unchanged visits of affected groups. Step 3 reuses the same definition for the details of the
// conflict visits, so the same row is chosen for each visit.
import { BASE_VISIT_COLUMNS } from '../schema/columns.js';
import { baseColumnDefs, EXTRA_COLUMNS, NARROW_COLUMNS, storedBaseColumns } from './baseColumns.js';
import { createTempTableAs, eligibleCaregivers, eligibleFact, factSource, type Ctx, type Part } from './context.js';
import { caregiversSelect, dedupDimension, dimensions, factDupsSelect, nullKey, patientsSelect, payerContractsSelect } from './dimensions.js';
import { GPS_LAT_GROUP, GPS_LON_GROUP, GPS_RE, inRange, normalisedState } from './locations.js';
import { STEP, TEMP } from './names.js';
import { execute, query, type ExecuteStatement, type QueryStatement } from './statement.js';

const GPS_OUT = 'f."Call Out GPS Coordinates"';
const GPS_IN = 'f."Call In GPS Coordinates"';

/**
 * The joined rows of one part with every stored base column, the coordinates (detection.md,
 * "Coordinates"), the cross-state codes and zip code, and `src_n`, the number of source rows the
 * fact row fans out to. `dups`: the visits with several fact rows (true) or those with one (false).
 */
function joinedVisits(x: Ctx, part: Part, dups: boolean, columns: 'narrow' | 'all'): string {
  const { d, q } = x;
  const defs = baseColumnDefs(d);
  defs.is_delta = { expr: part === 'changed' ? 'true' : part === 'unchanged' ? 'false' : 'f."cv_is_delta"', kind: 'bool' };
  const dims = dimensions(d);
  const wanted = (c: string) => defs[c].expr !== null && (columns === 'all' || NARROW_COLUMNS.includes(c));
  const raw = BASE_VISIT_COLUMNS.filter(wanted).map((c) => `${defs[c].expr} AS ${q(c)}`);
  const n = (a: string) => `COALESCE(${a}."n", 1)`;
  // Narrow rows use office, payer/contract, service code and user only to count the source rows
  // they fan out to: only their keys with several rows need joining (an empty table, usually).
  const countOnly = (select: string) => (columns === 'all' ? select : `SELECT * FROM (${select}) t WHERE t."n" > 1`);
  raw.push(
    ...d.regexGroups(GPS_OUT, GPS_RE, [GPS_LAT_GROUP, GPS_LON_GROUP]).map((e, i) => `${e} AS ${i ? '"out_lon_t"' : '"out_lat_t"'}`),
    ...d.regexGroups(GPS_IN, GPS_RE, [GPS_LAT_GROUP, GPS_LON_GROUP]).map((e, i) => `${e} AS ${i ? '"in_lon_t"' : '"in_lat_t"'}`),
    `${GPS_OUT} AS "gps_out"`,
    `${GPS_IN} AS "gps_in"`,
    `pp."lat" AS "addr_lat"`,
    `pp."lon" AS "addr_lon"`,
    `COALESCE(pp."addr_ok", false) AS "addr_ok"`,
    `pp."st" AS "st_pp"`,
    `pa."st" AS "st_pa"`,
    `${normalisedState(x, 'pr."ProviderAddressState"')} AS "st_pr"`,
    `pp."zip" AS "zip"`,
    `${['cg', 'pr', 'o', 'pp', 'pa', 'pc', 'sc', 'u'].map(n).join(' * ')} AS "src_n"`,
  );
  // Part 2b, visits with one fact row: only those of affected groups (delta_keys is unique).
  const groups =
    part === 'unchanged' && !dups
      ? `\nJOIN ${TEMP.deltaKeys} k ON k."visit_date" = CAST(f."Visit Date" AS DATE) AND k."ssn" = cg."SSN"`
      : '';
  // A few fact rows (comprehensive mode: the pair facts; otherwise the sorted branch of visits with
  // several fact rows, or the details) join only the caregiver and patient rows they name: hash
  // tables of the whole tables cost more than the rest (measured on medium: step 2b 2.2 -> 1.2 CPU
  // seconds).
  const few = dups || part === 'details' || x.p.comprehensive;
  const namedBy =
    part === 'details'
      ? `${TEMP.conflictFacts} s`
      : x.p.comprehensive
        ? `${TEMP.pairFacts} s`
        : `${x.tbl('FACTVISITCALLPERFORMANCE_CR')} s JOIN ${TEMP.factDups} fd ON fd."visit_id" = LOWER(s."Visit Id")`;
  const named = (table: string, col: string) => (!few ? table : `(SELECT * FROM ${table} WHERE "key" IN (SELECT s.${q(col)} FROM ${namedBy}))`);
  const l1 =
    `SELECT ${raw.join(',\n  ')}\n` +
    `FROM ${eligibleFact(x, part, dups, part === 'details' ? undefined : factSource(x))}\n` +
    `JOIN ${named(TEMP.caregivers, 'Caregiver Id')} cg ON cg."key" = f."Caregiver Id"${groups}\n` +
    `JOIN (${dedupDimension(x, dims.pr)}) pr ON pr."key" = f."Provider Id"\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.o))}) o ON o."key" = f."Office Id"\n` +
    `LEFT JOIN ${named(TEMP.patients, 'Provider Patient Id')} pp ON pp."key" = f."Provider Patient Id"\n` +
    `LEFT JOIN ${named(TEMP.patients, 'Payer Patient Id')} pa ON pa."key" = f."Payer Patient Id"\n` +
    `LEFT JOIN (${countOnly(`SELECT * FROM ${TEMP.payerContracts}`)}) pc ON pc."payer_key" = ${nullKey(x, 'f."Payer Id"')} AND pc."contract_key" = ${nullKey(x, 'f."Contract Id"')}\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.sc))}) sc ON sc."key" = f."Service Code Id"\n` +
    `LEFT JOIN (${countOnly(dedupDimension(x, dims.u))}) u ON u."key" = f."Visit Updated User Id"`;
  // l2: parsed numbers; l3: which source is usable; l4: the chosen coordinates and codes.
  const l2 =
    `SELECT r1.*, ${d.tryToDouble('r1."out_lat_t"')} AS "out_lat", ${d.tryToDouble('r1."out_lon_t"')} AS "out_lon", ` +
    `${d.tryToDouble('r1."in_lat_t"')} AS "in_lat", ${d.tryToDouble('r1."in_lon_t"')} AS "in_lon"\nFROM (${l1}) r1`;
  const l3 =
    `SELECT r2.*, ${inRange('r2."out_lat"', 'r2."out_lon"')} AS "out_ok", ${inRange('r2."in_lat"', 'r2."in_lon"')} AS "in_ok"\nFROM (${l2}) r2`;
  const pick = (out: string, inn: string, addr: string) =>
    `CASE WHEN r3."out_ok" THEN r3.${q(out)} WHEN r3."in_ok" THEN r3.${q(inn)} WHEN r3."addr_ok" THEN r3.${q(addr)} END`;
  const bad = (text: string, ok: string) => `CASE WHEN r3.${q(text)} <> '' AND NOT r3.${q(ok)} THEN 1 ELSE 0 END`;
  return (
    `SELECT r3.*, ${pick('out_lat', 'in_lat', 'addr_lat')} AS "Latitude", ${pick('out_lon', 'in_lon', 'addr_lon')} AS "Longitude",\n` +
    `  ${bad('gps_out', 'out_ok')} + ${bad('gps_in', 'in_ok')} AS "gps_bad",\n` +
    `  CASE WHEN r3."st_pp" IS NULL AND r3."st_pa" IS NULL THEN r3."st_pr" ELSE r3."st_pp" END AS "cs_state1",\n` +
    `  CASE WHEN r3."st_pp" IS NULL AND r3."st_pa" IS NULL THEN r3."st_pr" ELSE r3."st_pa" END AS "cs_state2"\n` +
    `FROM (${l3}) r3`
  );
}

/**
 * Base visits of one part (detection.md, step 2), one row per visit. Part 2a: changed visits
 * (every one is in an affected group by construction). Part 2b: unchanged visits of affected
 * groups. In comprehensive mode only the visits of the groups that can hold a pair (performance.md,
 * cu_pair_facts): a visit of another group has no pair, and the stale scope does not read the
 * base visits in that mode. Visits with one fact row need no sort (their dimensions are deduplicated already);
 * visits with several fact rows are sorted by every base column and the first row kept, then (2b)
 * filtered by group, and a visit already taken as changed is not taken again.
 *
 * `base`: the narrow columns the rules, statistics and scope need, for every candidate.
 * `details`: every base column, for the visits of the conflict pairs only (step 3); the same
 * definition, so the same row is chosen for each visit.
 */
export function baseVisitsSelect(x: Ctx, part: Part): { columns: string[]; select: string } {
  const { q } = x;
  const defs = baseColumnDefs(x.d);
  const stored = storedBaseColumns(defs);
  const details = part === 'details';
  const columns = details ? stored : [...stored.filter((c) => NARROW_COLUMNS.includes(c)), ...EXTRA_COLUMNS];
  const order = stored.map((c) => `r.${q(c)} ASC NULLS LAST`).join(', ');
  let where = `m."visit_rn" = 1`;
  if (part === 'unchanged') {
    where +=
      ` AND EXISTS (SELECT 1 FROM ${TEMP.deltaKeys} k WHERE k."visit_date" = m."VisitDate" AND k."ssn" = m."SSN")` +
      ` AND NOT EXISTS (SELECT 1 FROM ${TEMP.baseVisits} a WHERE a."VisitID" = m."VisitID")`;
  }
  // Sorted: every row of the visits with several fact rows; the others have one joined row each.
  const multi =
    `SELECT ${columns.map((c) => (c === 'src_rows' ? `m."src_total" AS "src_rows"` : `m.${q(c)}`)).join(', ')}\n` +
    `FROM (SELECT r.*, SUM(r."src_n") OVER (PARTITION BY r."VisitID") AS "src_total", ` +
    `ROW_NUMBER() OVER (PARTITION BY r."VisitID" ORDER BY ${order}) AS "visit_rn"\n` +
    `FROM (${joinedVisits(x, part, true, 'all')}) r) m\nWHERE ${where}`;
  const pick = (a: string) => columns.map((c) => (c === 'src_rows' ? `${a}."src_n" AS "src_rows"` : `${a}.${q(c)}`)).join(', ');
  const single = `SELECT ${pick('s1')}\nFROM (${joinedVisits(x, part, false, details ? 'all' : 'narrow')}) s1`;
  return { columns, select: `${single}\nUNION ALL\n${multi}` };
}

/**
 * Comprehensive mode: every fact row of the visits with a row in a group that can hold a pair
 * (Step 1's narrow pass). Steps 2 and 3 read these instead of the fact table: all rows of each
 * such visit, so its chosen row is the same; a visit without a row there has no pair.
 */
function pairFactsSelect(x: Ctx): string {
  const ids =
    `SELECT LOWER(f."Visit Id") FROM ${eligibleFact(x, 'any')}\n` +
    `JOIN ${eligibleCaregivers(x)} ON c."key" = f."Caregiver Id"\n` +
    `JOIN ${TEMP.pairGroups} k ON k."visit_date" = CAST(f."Visit Date" AS DATE) AND k."ssn" = c."ssn"`;
  return `SELECT s.* FROM ${x.tbl('FACTVISITCALLPERFORMANCE_CR')} s\nWHERE LOWER(s."Visit Id") IN (${ids})`;
}

export interface BaseChangedStatements {
  /** The deduplicated dimensions and the visits with several fact rows. */
  readonly prepare: readonly ExecuteStatement[];
  /** Part A, creating cu_base_visits. */
  readonly create: ExecuteStatement;
  /** Columns rows, candidates, dropped, gps_bad. */
  readonly stats: QueryStatement;
}

export interface BaseUnchangedStatements {
  /** Part B, added to cu_base_visits. */
  readonly insert: ExecuteStatement;
  readonly stats: QueryStatement;
}

/** The statistics of one part: base visits, candidates (not missed), dropped source rows, bad GPS texts. */
function partStats(deltaValue: boolean): string {
  return (
    `SELECT COUNT(*) AS "rows", SUM(CASE WHEN COALESCE("IsMissed", false) THEN 0 ELSE 1 END) AS "candidates", ` +
    `SUM("src_rows" - 1) AS "dropped", SUM("gps_bad") AS "gps_bad" FROM ${TEMP.baseVisits} WHERE "is_delta" = ${deltaValue}`
  );
}

export function baseChangedStatements(x: Ctx): BaseChangedStatements {
  const dims = dimensions(x.d);
  const step = STEP.baseChanged;
  return {
    prepare: [
      ...(x.p.comprehensive ? [execute(step, createTempTableAs(TEMP.pairFacts, pairFactsSelect(x)))] : []),
      execute(step, createTempTableAs(TEMP.caregivers, caregiversSelect(x, dims))),
      execute(step, createTempTableAs(TEMP.patients, patientsSelect(x, dims))),
      execute(step, createTempTableAs(TEMP.payerContracts, payerContractsSelect(x))),
      execute(step, createTempTableAs(TEMP.factDups, factDupsSelect(x))),
    ],
    create: execute(step, createTempTableAs(TEMP.baseVisits, baseVisitsSelect(x, 'changed').select)),
    stats: query(step, partStats(true)),
  };
}

/** Part B; none in delta-only mode (the changed visits are the candidates). */
export function baseUnchangedStatements(x: Ctx): BaseUnchangedStatements | undefined {
  if (!x.p.comprehensive) return undefined;
  const b = baseVisitsSelect(x, 'unchanged');
  return {
    insert: execute(STEP.baseUnchanged, `INSERT INTO ${TEMP.baseVisits} (${b.columns.map(x.q).join(', ')})\n${b.select}`),
    stats: query(STEP.baseUnchanged, partStats(false)),
  };
}
