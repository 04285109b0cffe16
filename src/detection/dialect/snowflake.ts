// Snowflake's side of the SqlDialect (production).
import { snowflakeText } from '../../sqlText.js';
import { doubleText, type SqlDialect } from './dialect.js';

const { str } = snowflakeText;

const regexGroup = (expr: string, pattern: string, group: number): string =>
  `REGEXP_SUBSTR(${expr}, ${str(pattern)}, 1, 1, 'e', ${group})`;

export const snowflakeDialect: SqlDialect = {
  name: 'snowflake',
  text: snowflakeText,
  sessionSetup: [],
  timestampType: 'TIMESTAMP_NTZ',
  doubleType: 'FLOAT',
  timestampLiteral: (ts) => `${str(ts)}::TIMESTAMP_NTZ`,
  dateLiteral: (d) => `${str(d)}::DATE`,
  doubleLiteral: (n) => `${str(doubleText(n))}::FLOAT`,
  dateAdd: (unit, n, expr) => `DATEADD(${unit}, ${n}, ${expr})`,
  minuteDiff: (from, to) => `DATEDIFF(minute, ${from}, ${to})`,
  distanceMetres: (lat1, lon1, lat2, lon2) => `ST_DISTANCE(ST_MAKEPOINT(${lon1}, ${lat1}), ST_MAKEPOINT(${lon2}, ${lat2}))`,
  regexGroup,
  regexGroups: (expr, pattern, groups) => groups.map((g) => regexGroup(expr, pattern, g)),
  regexFullMatch: (expr, pattern) => `REGEXP_LIKE(${expr}, ${str(pattern)})`,
  // TRIM's default is ' ' already; written out so the SQL says what it removes.
  trimSpaces: (expr) => `TRIM(${expr}, ' ')`,
  tryToDouble: (expr) => `TRY_TO_DOUBLE(${expr})`,
  timestampText: (e) =>
    `CASE WHEN DATE_TRUNC('second', ${e}) = ${e} THEN TO_VARCHAR(${e}, 'YYYY-MM-DD HH24:MI:SS') ELSE TO_VARCHAR(${e}, 'YYYY-MM-DD HH24:MI:SS.FF6') END`,
  dateText: (e) => `TO_VARCHAR(${e}, 'YYYY-MM-DD')`,
  stringAgg: (expr, sep) => `LISTAGG(${expr}, ${str(sep)})`,
  hashBucket: (expr, n) => `MOD(HASH(${expr}), ${n})`,
  splitRows: (table, column, sep) => `SELECT s.VALUE AS "value" FROM ${table} t, LATERAL SPLIT_TO_TABLE(t.${column}, ${str(sep)}) s`,
  textFromHex: (expr) => `HEX_DECODE_STRING(${expr})`,
  // CURRENT_TIMESTAMP is TIMESTAMP_LTZ in the session's TIMEZONE; as NTZ it is that wall-clock time.
  clockNowQuery: () => `SELECT TO_VARCHAR(CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF6') AS "t"`,
  // The instant, converted to the session's TIMEZONE, then its wall-clock time.
  clockFromOffsetQuery: () =>
    `SELECT TO_VARCHAR(CONVERT_TIMEZONE('UTC', TO_TIMESTAMP_TZ(?))::TIMESTAMP_LTZ::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF6') AS "t"`,
};
