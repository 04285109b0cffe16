// DuckDB's side of the SqlDialect (the local warehouse and the tests).
import { duckdbText } from '../../sqlText.js';
import { doubleText, type SqlDialect } from './dialect.js';

const EARTH_RADIUS_M = 6371010;
const { str } = duckdbText;

export const duckdbDialect: SqlDialect = {
  name: 'duckdb',
  text: duckdbText,
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
  trimSpaces: (expr) => `trim(${expr}, ' ')`,
  tryToDouble: (expr) => `TRY_CAST(${expr} AS DOUBLE)`,
  timestampText: (e) =>
    `CASE WHEN date_trunc('second', ${e}) = ${e} THEN strftime(${e}, '%Y-%m-%d %H:%M:%S') ELSE strftime(${e}, '%Y-%m-%d %H:%M:%S.%f') END`,
  dateText: (e) => `strftime(${e}, '%Y-%m-%d')`,
  // list() then array_to_string, not string_agg: the same text (NULLs skipped, NULL for none), but
  // string_agg's states grow by reallocation and ran out of a 2 GB memory_limit packing
  // production's 15 M scope ids; list() packs them within it.
  stringAgg: (expr, sep) => `array_to_string(list(${expr}), ${str(sep)})`,
  hashBucket: (expr, n) => `hash(${expr}) % ${n}`,
  // unnest in the select list: as a lateral FROM item it took 14 s for 360 K elements, this 0.1 s.
  splitRows: (table, column, sep) => `SELECT unnest(string_split(t.${column}, ${str(sep)})) AS "value" FROM ${table} t`,
  textFromHex: (expr) => `decode(unhex(${expr}))`,
  clockNowQuery: () => `SELECT strftime(current_localtimestamp(), '%Y-%m-%d %H:%M:%S.%f') AS "t"`,
  // With ICU (bundled), TIMESTAMPTZ -> TIMESTAMP gives the wall-clock time in the TimeZone setting.
  clockFromOffsetQuery: () => `SELECT strftime(CAST(CAST(? AS TIMESTAMPTZ) AS TIMESTAMP), '%Y-%m-%d %H:%M:%S.%f') AS "t"`,
};
