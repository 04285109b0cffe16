// The small differences between DuckDB and Snowflake SQL that detection needs. Every step is
// written once in terms of these helpers; nothing else in detection knows which engine it talks
// to (detection.md: "one set of step definitions, two dialects").
import type { SqlText } from '../../sqlText.js';
import type { Dialect } from '../../warehouse/warehouse.js';

export interface SqlDialect {
  readonly name: Dialect;
  /** Identifiers and string literals of this engine (src/sqlText.ts). */
  readonly text: SqlText;
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
  /**
   * `expr` trimmed (detection.md, "Trimming"): only leading and trailing spaces (U+0020) removed;
   * tabs, newlines and no-break spaces stay (DuckDB's one-argument trim removes more).
   */
  trimSpaces(expr: string): string;
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
  /** A SELECT of one row per element of the text column `column` of `table` split at `sep`: column "value". */
  splitRows(table: string, column: string, sep: string): string;
  /** Text from the hexadecimal of its UTF-8 bytes (lower or upper case). */
  textFromHex(expr: string): string;
  /** Reads T as a naive timestamp text in the session's zone: the session's current time. */
  clockNowQuery(): string;
  /** Converts the bound ISO-8601 instant with an offset (`?`) to the session's zone, as naive text. */
  clockFromOffsetQuery(): string;
}

/**
 * The text of a finite number for a DOUBLE literal: the shortest text that reads back as the same
 * double, parsed from text (a numeric literal would be an exact DECIMAL first, and its conversion
 * to DOUBLE is not always the nearest double).
 */
export function doubleText(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`not a finite number: ${n}`);
  return String(n);
}
