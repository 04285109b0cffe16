// The small differences between DuckDB and Snowflake SQL that detection needs. Every step is
// written once (steps.ts) in terms of these helpers; nothing else in detection knows which
// engine it talks to (detection.md: "one set of step definitions, two dialects").
import type { Dialect } from '../warehouse/warehouse.js';

export interface SqlDialect {
  readonly name: Dialect;
  /** Statements run once at the start of a session, before the clock is read. */
  readonly sessionSetup: readonly string[];
  /** The naive timestamp type (`TIMESTAMP` / `TIMESTAMP_NTZ`). */
  readonly timestampType: string;
  /** The 64-bit float type (`DOUBLE` / `FLOAT`). */
  readonly doubleType: string;
  /** A naive timestamp literal from `YYYY-MM-DD HH:MM:SS[.ffffff]` (validated by the caller). */
  timestampLiteral(ts: string): string;
  /** A date literal from `YYYY-MM-DD`. */
  dateLiteral(date: string): string;
  /** A DOUBLE literal of a finite number, exactly the same double on both engines. */
  doubleLiteral(n: number): string;
  /** `expr` plus `n` units (negative: minus); year arithmetic clamps Feb 29 to Feb 28 on both. */
  dateAdd(unit: 'year' | 'day' | 'hour', n: number, expr: string): string;
  /** Whole minutes between two timestamps, counting minute boundaries (Snowflake DATEDIFF). */
  minuteDiff(from: string, to: string): string;
  /** Great-circle distance in metres on a sphere of radius 6 371 010 m. */
  distanceMetres(lat1: string, lon1: string, lat2: string, lon2: string): string;
  /** Capture group `group` of the first match of `pattern` in `expr`; NULL when no match. */
  regexGroup(expr: string, pattern: string, group: number): string;
  /**
   * Capture groups `groups` of the first match of `pattern` in `expr`, each as `regexGroup` gives
   * it; the engine may match once for all of them.
   */
  regexGroups(expr: string, pattern: string, groups: readonly number[]): string[];
  /** True when `pattern` matches the whole of `expr`. */
  regexFullMatch(expr: string, pattern: string): string;
  /** Text to DOUBLE, NULL when it does not parse. */
  tryToDouble(expr: string): string;
  /** Timestamp as text `YYYY-MM-DD HH:MM:SS`, `.ffffff` only when the fraction is not zero. */
  timestampText(expr: string): string;
  /** Date as text `YYYY-MM-DD`. */
  dateText(expr: string): string;
  /** Aggregate: the values of `expr` joined by `sep` (any order). */
  stringAgg(expr: string, sep: string): string;
  /** A bucket number in [0, n) (or (-n, n)) from a hash of `expr`: spreads rows over n groups. */
  hashBucket(expr: string, n: number): string;
  /** `CREATE OR REPLACE TEMPORARY TABLE name AS select`. */
  createTempTableAs(name: string, select: string): string;
  /** `CREATE OR REPLACE TEMPORARY TABLE name (cols)`. */
  createTempTable(name: string, columns: ReadonlyArray<readonly [string, string]>): string;
  /** Reads T as a naive timestamp text in the session's zone: the session's current time. */
  clockNowQuery(): string;
  /** Converts the bound ISO-8601 instant with an offset (`?`) to the session's zone, as naive text. */
  clockFromOffsetQuery(): string;
}

/** A double-quoted identifier (column names are case-sensitive and contain spaces). */
export function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A single-quoted string literal for text that has no backslash (both engines read it alike). */
export function str(s: string): string {
  if (s.includes('\\')) throw new Error(`string literal with a backslash is not portable: ${s}`);
  return `'${s.replace(/'/g, "''")}'`;
}

const EARTH_RADIUS_M = 6371010;

function doubleText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  // Shortest text that reads back as the same double, parsed from text (a numeric literal would be
  // an exact DECIMAL first, and its conversion to DOUBLE is not always the nearest double).
  return String(n);
}

const duckdb: SqlDialect = {
  name: 'duckdb',
  // Results are unordered anyway; without insertion order DuckDB builds tables in parallel
  // with less memory. Every join of the steps is written with the large side first and the
  // small, deduplicated side second (the hash table); DuckDB's cardinality estimates of the
  // filtered fact table are far too low, and left to itself it builds hash tables of ~1.4 M
  // wide fact rows instead (measured: the base visits step 10x slower), so the written order
  // is kept.
  sessionSetup: ['SET preserve_insertion_order = false', "SET disabled_optimizers = 'join_order,build_side_probe_side'"],
  timestampType: 'TIMESTAMP',
  doubleType: 'DOUBLE',
  timestampLiteral: (ts) => `TIMESTAMP ${str(ts)}`,
  dateLiteral: (d) => `DATE ${str(d)}`,
  doubleLiteral: (n) => `CAST(${str(doubleText(n))} AS DOUBLE)`,
  dateAdd: (unit, n, expr) => `(${expr} + INTERVAL (${n}) ${unit.toUpperCase()})`,
  minuteDiff: (from, to) => `date_diff('minute', date_trunc('minute', ${from}), date_trunc('minute', ${to}))`,
  // Haversine; LEAST guards against a rounding error pushing the argument past 1.
  distanceMetres: (lat1, lon1, lat2, lon2) =>
    `(${2 * EARTH_RADIUS_M} * asin(sqrt(least(1.0, ` +
    `pow(sin(radians(${lat2} - ${lat1}) / 2), 2) + ` +
    `cos(radians(${lat1})) * cos(radians(${lat2})) * pow(sin(radians(${lon2} - ${lon1}) / 2), 2)))))`,
  regexGroup: (expr, pattern, group) => `NULLIF(regexp_extract(${expr}, ${str(pattern)}, ${group}), '')`,
  // One regexp_extract with a list of names returns every group as a struct (empty strings when no
  // match); the identical calls are evaluated once (common subexpressions), not once per group.
  regexGroups: (expr, pattern, groups) => {
    const names = Array.from({ length: Math.max(...groups) }, (_, i) => `'g${i + 1}'`).join(', ');
    return groups.map((g) => `NULLIF(struct_extract(regexp_extract(${expr}, ${str(pattern)}, [${names}]), 'g${g}'), '')`);
  },
  regexFullMatch: (expr, pattern) => `regexp_full_match(${expr}, ${str(pattern)})`,
  tryToDouble: (expr) => `TRY_CAST(${expr} AS DOUBLE)`,
  timestampText: (e) =>
    `CASE WHEN date_trunc('second', ${e}) = ${e} THEN strftime(${e}, '%Y-%m-%d %H:%M:%S') ELSE strftime(${e}, '%Y-%m-%d %H:%M:%S.%f') END`,
  dateText: (e) => `strftime(${e}, '%Y-%m-%d')`,
  stringAgg: (expr, sep) => `string_agg(${expr}, ${str(sep)})`,
  hashBucket: (expr, n) => `hash(${expr}) % ${n}`,
  createTempTableAs: (name, select) => `CREATE OR REPLACE TEMPORARY TABLE ${name} AS\n${select}`,
  createTempTable: (name, cols) => `CREATE OR REPLACE TEMPORARY TABLE ${name} (${cols.map(([c, t]) => `${q(c)} ${t}`).join(', ')})`,
  clockNowQuery: () => `SELECT strftime(current_localtimestamp(), '%Y-%m-%d %H:%M:%S.%f') AS "t"`,
  // With ICU (bundled), TIMESTAMPTZ -> TIMESTAMP gives the wall-clock time in the TimeZone setting.
  clockFromOffsetQuery: () => `SELECT strftime(CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f') AS "t"`,
};

const snowflake: SqlDialect = {
  name: 'snowflake',
  sessionSetup: [],
  timestampType: 'TIMESTAMP_NTZ',
  doubleType: 'FLOAT',
  timestampLiteral: (ts) => `${str(ts)}::TIMESTAMP_NTZ`,
  dateLiteral: (d) => `${str(d)}::DATE`,
  doubleLiteral: (n) => `${str(doubleText(n))}::FLOAT`,
  dateAdd: (unit, n, expr) => `DATEADD(${unit}, ${n}, ${expr})`,
  minuteDiff: (from, to) => `DATEDIFF(minute, ${from}, ${to})`,
  distanceMetres: (lat1, lon1, lat2, lon2) => `ST_DISTANCE(ST_MAKEPOINT(${lon1}, ${lat1}), ST_MAKEPOINT(${lon2}, ${lat2}))`,
  regexGroup: (expr, pattern, group) => `REGEXP_SUBSTR(${expr}, ${str(pattern)}, 1, 1, 'e', ${group})`,
  regexGroups: (expr, pattern, groups) => groups.map((g) => snowflake.regexGroup(expr, pattern, g)),
  regexFullMatch: (expr, pattern) => `REGEXP_LIKE(${expr}, ${str(pattern)})`,
  tryToDouble: (expr) => `TRY_TO_DOUBLE(${expr})`,
  timestampText: (e) =>
    `CASE WHEN DATE_TRUNC('second', ${e}) = ${e} THEN TO_VARCHAR(${e}, 'YYYY-MM-DD HH24:MI:SS') ELSE TO_VARCHAR(${e}, 'YYYY-MM-DD HH24:MI:SS.FF6') END`,
  dateText: (e) => `TO_VARCHAR(${e}, 'YYYY-MM-DD')`,
  stringAgg: (expr, sep) => `LISTAGG(${expr}, ${str(sep)})`,
  hashBucket: (expr, n) => `MOD(HASH(${expr}), ${n})`,
  createTempTableAs: (name, select) => `CREATE OR REPLACE TEMPORARY TABLE ${name} AS\n${select}`,
  createTempTable: (name, cols) => `CREATE OR REPLACE TEMPORARY TABLE ${name} (${cols.map(([c, t]) => `${q(c)} ${t}`).join(', ')})`,
  // CURRENT_TIMESTAMP is TIMESTAMP_LTZ in the session's TIMEZONE; as NTZ it is that wall-clock time.
  clockNowQuery: () => `SELECT TO_VARCHAR(CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF6') AS "t"`,
  // The instant, converted to the session's TIMEZONE, then its wall-clock time.
  clockFromOffsetQuery: () =>
    `SELECT TO_VARCHAR(CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ(?))::TIMESTAMP_LTZ::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF6') AS "t"`,
};

export function sqlDialect(name: Dialect): SqlDialect {
  return name === 'duckdb' ? duckdb : snowflake;
}
