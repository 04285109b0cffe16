// Every Snowflake statement a run sends parses as Snowflake SQL, checked with a maintained parser
// (node-sql-parser, database "Snowflake"). There is no Snowflake here to compile them; this catches
// syntax slips (a missing parenthesis, a DuckDB-only construct) before production does.
//
// What node-sql-parser 5.4 cannot read, although Snowflake can (recorded by the last tests here,
// which fail when the parser learns them, so this list stays true):
//   1. `?` positional bind markers. Snowflake takes `?` and `:1`; the parser only `:1`. Markers are
//      renumbered to `:n` before parsing (same statement, the other spelling of a bind).
//   2. `IS NOT DISTINCT FROM` (Step 2a/2b: the NULL-safe join to payer/contract; `IS DISTINCT
//      FROM` does parse). Replaced by `=` before parsing: the same grammar slot (a comparison),
//      so the rest of the statement is still checked. Each replacement is counted and expected.
//   3. The TIMESTAMP_LTZ type in a cast (`x::TIMESTAMP_LTZ`, `CAST(x AS TIMESTAMP_LTZ)`: the clock
//      query for an AS_OF with an offset). Read as TIMESTAMP_TZ, the same grammar slot (a type).
//   4. `ALTER SESSION SET ...` (the session's TIMEZONE, snowflake.ts). Not parsed; the statement
//      is one line built from a validated IANA zone name.
// Everything else detection uses parses: CREATE OR REPLACE TEMPORARY TABLE [AS], QUALIFY/window
// functions, ST_DISTANCE(ST_MAKEPOINT()), DATEADD/DATEDIFF, TRY_TO_DOUBLE, REGEXP_SUBSTR/LIKE,
// TO_VARCHAR(.., fmt), `::` casts, NULLS LAST, UNION ALL, INSERT ... SELECT, LATERAL SPLIT_TO_TABLE,
// HEX_DECODE_STRING.
// The parser is lenient in one way worth knowing: a double-quoted name alone in a select list
// may be read as a string, so a pass means "Snowflake syntax", not "these columns exist".
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pkg from 'node-sql-parser';
import { parseAsOf } from '../../src/config/config.js';
import { detectionStatements, type PlanParams, type Statement } from '../../src/detection/detection.js';
import { sqlDialect } from '../../src/detection/dialect/index.js';
import { detectionPlan } from '../../src/detection/plan.js';

const { Parser } = pkg;
const parser = new Parser();
const SNOWFLAKE = { database: 'Snowflake' };

interface Prepared {
  sql: string;
  replaced: string[];
  /** `?` markers renumbered. */
  binds: number;
}

/**
 * Applies the parser workarounds above outside string literals, quoted identifiers and
 * comments: `?` → `:n`, `IS NOT DISTINCT FROM` → `=`, the type TIMESTAMP_LTZ → TIMESTAMP_TZ.
 */
function forParser(sql: string): Prepared {
  const replaced: string[] = [];
  let out = '';
  let bind = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const rest = sql.slice(i);
    if (c === "'" || c === '"') {
      let j = i + 1;
      while (j < sql.length && sql[j] !== c) j += sql[j] === '\\' && c === "'" ? 2 : 1;
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (rest.startsWith('--')) {
      const j = sql.indexOf('\n', i);
      const end = j < 0 ? sql.length : j;
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = sql.indexOf('*/', i + 2) + 2;
      out += sql.slice(i, end);
      i = end;
      continue;
    }
    if (c === '?') {
      out += `:${++bind}`;
      i++;
      continue;
    }
    const distinct = /^IS\s+NOT\s+DISTINCT\s+FROM\b/i.exec(rest);
    if (distinct && /[\s(]/.test(sql[i - 1] ?? ' ')) {
      replaced.push('IS NOT DISTINCT FROM');
      out += '=';
      i += distinct[0].length;
      continue;
    }
    const ltz = /^TIMESTAMP_LTZ\b/i.exec(rest);
    if (ltz && /(::|\bAS\s+)$/i.test(out)) {
      replaced.push('TIMESTAMP_LTZ type');
      out += 'TIMESTAMP_TZ';
      i += ltz[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return { sql: out, replaced, binds: bind };
}

function parses(sql: string): string | undefined {
  try {
    parser.astify(sql, SNOWFLAKE);
    return undefined;
  } catch (err) {
    const e = err as { message?: string; location?: { start: { line: number; column: number } } };
    const where = e.location ? `line ${e.location.start.line}, column ${e.location.start.column}` : '';
    const line = e.location ? sql.split('\n')[e.location.start.line - 1] : '';
    const at = e.location ? line.slice(Math.max(0, e.location.start.column - 40), e.location.start.column + 40) : '';
    return `${where}: ${String(e.message).split('\n')[0].slice(-120)} near «${at}»`;
  }
}

const base: PlanParams = {
  asOf: undefined,
  lookbackHours: 36,
  lookbackYears: 2,
  lookforwardDays: 45,
  comprehensive: true,
  batchSize: 5000,
  excludedProviders: ['0b6a4f5e-8f0c-4b8e-9a51-2f5a1c3d4e5f'],
  excludedSsns: ['123-45-6789', "O'Hara"],
  mphBands: [
    { from: 0, to: 10, mph: 20 },
    { from: 10.01, to: 10_000, mph: 45.5 },
  ],
  extraDistancePer: 1.15,
  clock: '2026-02-14 06:00:00',
  database: 'ANALYTICS',
  schema: 'BI',
};

/** Every shape of a run: both modes, each kind of AS_OF, with and without MPH bands and exclusions. */
const variants: Array<[string, PlanParams]> = [
  ['comprehensive, clock from the session', base],
  ['delta only', { ...base, comprehensive: false }],
  ['AS_OF with an offset (bound clock query)', { ...base, asOf: parseAsOf('2026-02-14T06:00:00-05:00') }],
  ['AS_OF naive, no clock query', { ...base, asOf: parseAsOf('2026-02-14T06:00:00'), clock: '2026-02-14 06:00:00' }],
  ['no MPH band, no exclusions', { ...base, mphBands: [], excludedSsns: [], excludedProviders: [] }],
];

/** The only replacements expected: the NULL-safe joins of step 2, the clock query's LTZ cast. */
const EXPECTED_REPLACEMENTS = new Set(['IS NOT DISTINCT FROM', 'TIMESTAMP_LTZ type']);

/** DuckDB spellings that must never reach Snowflake. */
const DUCKDB_ONLY = [/\bstrftime\s*\(/i, /\bdate_diff\s*\(/i, /\bregexp_full_match\s*\(/i, /\bregexp_extract\s*\(/i, /\bcurrent_localtimestamp\s*\(/i, /\bINTERVAL\s*\(/i, /\bpreserve_insertion_order\b/i];

for (const [name, params] of variants) {
  describe(`detection statements for Snowflake: ${name}`, () => {
    // The run's statements, and the whole stale scope (a run sent no open keys) as well.
    const whole = detectionPlan(sqlDialect('snowflake'), params).scope;
    const statements: Statement[] = [...detectionStatements('snowflake', params), whole.affectedGroups, whole.scopeVisitIds];

    test('there are statements for every step', () => {
      const steps = new Set(statements.map((s) => s.step));
      for (const step of ['Step 0 (excluded_ssns)', 'Step 1 (delta_keys)', 'Step 2a (base_visits changed)', 'Affected groups', 'Scope visit ids', 'Step 3 (conflicts)']) {
        assert.ok(steps.has(step), `a statement for ${step}`);
      }
    });

    statements.forEach((s, i) => {
      test(`#${i + 1} ${s.step}: ${s.sql.split('\n')[0].slice(0, 70)}`, () => {
        const prepared = forParser(s.sql);
        const error = parses(prepared.sql);
        assert.equal(error, undefined, `does not parse as Snowflake SQL: ${error}`);
        for (const r of prepared.replaced) assert.ok(EXPECTED_REPLACEMENTS.has(r), `unexpected parser workaround: ${r}`);
        for (const re of DUCKDB_ONLY) assert.doesNotMatch(s.sql, re, 'no DuckDB-only construct');
        if (s.kind !== 'insertRows') assert.equal(prepared.binds, s.params.length, 'one bound value per placeholder');
      });
    });
  });
}

describe("the session's own statements (snowflake.ts)", () => {
  test('SELECT CURRENT_VERSION() and the array-bound INSERT of insertRows parse', () => {
    assert.equal(parses('SELECT CURRENT_VERSION() AS "version"'), undefined);
    assert.equal(parses(forParser('INSERT INTO cu_excluded_ssns ("ssn") VALUES (?)').sql), undefined);
    assert.equal(parses(forParser('INSERT INTO t ("Visit Id", "n") VALUES (?, ?)').sql), undefined);
  });
});

describe('the parser: what it checks and what it cannot read (keep this list true)', () => {
  test('it rejects broken SQL (the check has teeth)', () => {
    assert.notEqual(parses('SELECT a FROM t WHERE (a = 1'), undefined);
    assert.notEqual(parses('SELEC a FROM t'), undefined);
    assert.notEqual(parses('CREATE OR REPLACE TEMPORARY TABLE t AS SELECT a, FROM s'), undefined);
  });

  test('Snowflake constructs detection relies on parse', () => {
    for (const sql of [
      'CREATE OR REPLACE TEMPORARY TABLE t ("a" VARCHAR)',
      'CREATE OR REPLACE TEMPORARY TABLE t AS\nSELECT a FROM s QUALIFY ROW_NUMBER() OVER (PARTITION BY a ORDER BY b ASC NULLS LAST) = 1',
      'SELECT ST_DISTANCE(ST_MAKEPOINT(-73.9, 40.7), ST_MAKEPOINT(-74.0, 40.8)) AS d',
      "SELECT DATEDIFF(minute, a, b), DATEADD(hour, -36, '2026-02-14 06:00:00'::TIMESTAMP_NTZ) FROM t",
      "SELECT TRY_TO_DOUBLE(REGEXP_SUBSTR(x, '^([^,]*),', 1, 1, 'e', 1)) FROM t WHERE REGEXP_LIKE(y, '^[0-9]+$')",
      "SELECT TO_VARCHAR(CURRENT_TIMESTAMP()::TIMESTAMP_NTZ, 'YYYY-MM-DD HH24:MI:SS.FF6') AS \"t\"",
    ]) {
      assert.equal(parses(sql), undefined, sql);
    }
  });

  test('known gaps: `?` binds, IS NOT DISTINCT FROM, TIMESTAMP_LTZ casts, ALTER SESSION (legitimate Snowflake, unreadable here)', () => {
    // When one of these starts to parse, drop its workaround above and this line.
    assert.notEqual(parses('SELECT a FROM t WHERE b = ?'), undefined, '`?` binds');
    assert.equal(parses('SELECT a FROM t WHERE b = :1'), undefined, '`:1` binds parse');
    assert.notEqual(parses('SELECT a FROM t JOIN s ON s.b IS NOT DISTINCT FROM t.b'), undefined, 'IS NOT DISTINCT FROM');
    assert.equal(parses('SELECT a FROM t WHERE b IS DISTINCT FROM c'), undefined, 'IS DISTINCT FROM parses');
    assert.notEqual(parses('SELECT x::TIMESTAMP_LTZ FROM t'), undefined, '::TIMESTAMP_LTZ');
    assert.notEqual(parses('SELECT CAST(x AS TIMESTAMP_LTZ) FROM t'), undefined, 'CAST AS TIMESTAMP_LTZ');
    assert.notEqual(parses("ALTER SESSION SET TIMEZONE = 'America/New_York'"), undefined, 'ALTER SESSION');
  });

  test('the workarounds leave literals, quoted names and comments alone', () => {
    const p = forParser(`SELECT '?', "is distinct from?", 'x::TIMESTAMP_LTZ' FROM t -- why?\nWHERE a IS NOT DISTINCT FROM ? AND b = ?::TIMESTAMP_LTZ`);
    assert.equal(p.sql, `SELECT '?', "is distinct from?", 'x::TIMESTAMP_LTZ' FROM t -- why?\nWHERE a = :1 AND b = :2::TIMESTAMP_TZ`);
    assert.deepEqual(p.replaced, ['IS NOT DISTINCT FROM', 'TIMESTAMP_LTZ type']);
    assert.equal(p.binds, 2);
  });
});
