// detection.md: "one set of step definitions, two dialects"; the clock T passed as a literal (no
// engine now() in any step); excluded SSNs travel as data. And the `sql` tool (operations.md).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuckDBInstance, type DuckDBValue } from '@duckdb/node-api';
import { detectionStatements, type PlanParams, type Statement } from '../../src/detection/detection.js';
import { bindForReading, sqlCommand } from '../../src/tools/sql.js';
import { detectFile, params, pair, tempDir, uid, UNCHANGED, writeWarehouse, type ParamsOver } from './warehouse.js';

const SECRET_SSN = '555-12-3456';
const base = (over: ParamsOver = {}): PlanParams => ({
  ...params({ excludedSsns: [SECRET_SSN, ' 555-99-0000 '], excludedProviders: [uid('a', 9)], ...over }),
  clock: '2026-02-14 12:00:00',
  database: 'ANALYTICS',
  schema: 'BI',
});

const shape = (list: Statement[]) => list.filter((s) => s.step !== 'Session setup').map((s) => `${s.step} ${s.kind}`);

describe('one step list, two dialects (detection.md)', () => {
  for (const comprehensive of [true, false]) {
    test(`the same steps, kinds and count on DuckDB and Snowflake (${comprehensive ? 'comprehensive' : 'delta only'})`, () => {
      const duck = detectionStatements('duckdb', base({ comprehensive }));
      const snow = detectionStatements('snowflake', base({ comprehensive }));
      assert.deepEqual(shape(duck), shape(snow));
      assert.equal(snow.filter((s) => s.step === 'Session setup').length, 0);
      assert.ok(duck.some((s) => /preserve_insertion_order/.test(s.sql)), 'DuckDB session setup');
      const steps = [...new Set(shape(duck).map((s) => s.replace(/ \w+$/, '')))];
      assert.deepEqual(
        steps,
        [
          'Step 0 (excluded_ssns)',
          'Step 1 (delta_keys)',
          'Step 2a (base_visits changed)',
          ...(comprehensive ? ['Step 2b (base_visits unchanged)'] : []),
          "Open rows' keys (to the warehouse)",
          'Affected groups',
          'Scope visit ids',
          'Step 3 (conflicts)',
        ],
      );
    });
  }

  test('each dialect uses its own functions', () => {
    const duck = detectionStatements('duckdb', base()).map((s) => s.sql).join('\n');
    const snow = detectionStatements('snowflake', base()).map((s) => s.sql).join('\n');
    for (const f of ['ST_DISTANCE(ST_MAKEPOINT', 'DATEDIFF(minute', 'REGEXP_SUBSTR', 'SPLIT_TO_TABLE', 'HEX_DECODE_STRING', 'TO_VARCHAR', 'DATEADD(hour, -36', "'2026-02-14 12:00:00'::TIMESTAMP_NTZ", 'TRY_TO_DOUBLE']) {
      assert.ok(snow.includes(f), `snowflake: ${f}`);
      assert.ok(!duck.includes(f), `duckdb has no ${f}`);
    }
    for (const f of ['asin(sqrt(', "date_diff('minute'", 'regexp_extract', 'string_split', 'unhex', 'strftime', "TIMESTAMP '2026-02-14 12:00:00'", 'TRY_CAST']) {
      assert.ok(duck.includes(f), `duckdb: ${f}`);
      assert.ok(!snow.includes(f), `snowflake has no ${f}`);
    }
    assert.ok(duck.includes('12742020'), 'haversine on a sphere of radius 6 371 010 m (2R)');
  });

  test('no step calls the engine clock; T is a literal in the statements that need it', () => {
    for (const dialect of ['duckdb', 'snowflake'] as const) {
      const list = detectionStatements(dialect, base({ asOf: undefined }));
      const clock = list.filter((s) => s.step === 'Clock');
      assert.equal(clock.length, 1, 'without AS_OF the clock is read once');
      for (const s of list.filter((x) => x.step !== 'Clock')) {
        assert.doesNotMatch(s.sql, /\b(now|getdate|current_timestamp|current_date|current_localtimestamp|localtimestamp|sysdate|systimestamp)\b/i, s.step);
      }
      assert.ok(list.filter((s) => s.sql.includes('2026-02-14 12:00:00')).length >= 4);
    }
    const naive = detectionStatements('duckdb', base({ asOf: '2026-02-14T12:00:00' }));
    assert.equal(naive.filter((s) => s.step === 'Clock').length, 0, 'a naive AS_OF is T itself: nothing to read');
    const offset = detectionStatements('snowflake', base({ asOf: '2026-02-14T12:00:00-05:00' }));
    const c = offset.find((s) => s.step === 'Clock');
    assert.ok(c && /CONVERT_TIMEZONE/.test(c.sql));
    assert.deepEqual(c.params, ['2026-02-14T12:00:00-05:00'], 'AS_OF travels as a parameter');
  });

  test('excluded SSNs and providers never appear in SQL text; they travel as data', () => {
    for (const dialect of ['duckdb', 'snowflake'] as const) {
      const list = detectionStatements(dialect, base());
      for (const s of list) {
        assert.ok(!s.sql.includes(SECRET_SSN) && !s.sql.includes('555-99-0000'), s.step);
        assert.ok(!s.sql.toLowerCase().includes(uid('a', 9).toLowerCase()), s.step);
      }
      const inserts = list.filter((s) => s.kind === 'insertRows');
      assert.deepEqual(inserts.map((s) => [s.data?.table, s.data?.rowCount]), [['cu_excluded_ssns', 2], ['cu_excluded_providers', 1], ['cu_open_ids_packed', 0], ['cu_open_groups_packed', 0]], "the open keys' rows are the job's, at run time");
      assert.deepEqual(inserts[0].data?.sample, [[SECRET_SSN], ['555-99-0000']], 'trimmed');
    }
  });

  test('excluded values are trimmed of spaces only, then deduplicated; provider ids lower-cased (detection.md, "Trimming")', () => {
    const list = detectionStatements('duckdb', base({ excludedSsns: [' 1 ', '1', '1\t', ''], excludedProviders: [uid('a', 9).toUpperCase(), ` ${uid('a', 9)}`] }));
    const rows = list.flatMap((s) => (s.kind === 'insertRows' && s.step === 'Step 0 (excluded_ssns)' ? [[s.data.table, s.data.rows.map((r) => r[0])]] : []));
    assert.deepEqual(rows, [['cu_excluded_ssns', ['1', '1\t']], ['cu_excluded_providers', [uid('a', 9).toLowerCase()]]]);
  });
});

test('the DuckDB statement list, sent by hand in order, gives the rows of a run (detection.md)', async () => {
  const cg = uid('c', 1);
  const spec = {
    visits: [
      { id: uid('v', 1), caregiver: cg, provider: uid('a', 1), date: '2026-02-14', sch: ['09:00', '10:00'] as [string, string], visit: ['09:00', '10:00'] as [string, string] },
      { id: uid('v', 2), caregiver: cg, provider: uid('a', 2), date: '2026-02-14', sch: ['09:30', '10:30'] as [string, string], visit: ['09:30', '10:30'] as [string, string], updated: UNCHANGED },
      { id: uid('v', 3), caregiver: cg, provider: uid('a', 3), date: '2026-02-14', sch: ['09:45', '10:45'] as [string, string], updated: UNCHANGED },
    ],
  };
  const path = await writeWarehouse(tempDir(), spec);
  const run = await detectFile(path);
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  const rows: unknown[][] = [];
  try {
    await conn.run(`ATTACH '${path}' AS ANALYTICS (READ_ONLY)`);
    await conn.run(`SET TimeZone = 'UTC'`);
    const list = detectionStatements('duckdb', base({ excludedSsns: [], excludedProviders: [], asOf: '2026-02-14 12:00:00' }));
    for (const s of list) {
      if (s.kind === 'insertRows') {
        for (const r of s.data!.sample) await conn.run(s.sql, r as DuckDBValue[]);
      } else if (s.kind === 'stream' && s.step === 'Step 3 (conflicts)') {
        const res = await conn.runAndReadAll(s.sql);
        rows.push(...res.getRowsJson());
      } else {
        await conn.run(s.sql, s.params as DuckDBValue[]);
      }
    }
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
  assert.equal(run.rows.length, 6);
  const key = (r: readonly unknown[]) => JSON.stringify(r);
  assert.deepEqual(rows.map(key).sort(), run.raw.map(key).sort());
  assert.ok(run.byPair.has(pair(uid('v', 3), uid('v', 1))));
});

describe('sql tool (operations.md: "sql --dialect snowflake|duckdb")', () => {
  async function capture(argv: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
    const chunks: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    }) as typeof process.stdout.write;
    try {
      const code = await sqlCommand(argv, env);
      return { code, out: chunks.join('') };
    } finally {
      process.stdout.write = write;
    }
  }

  test('prints every statement in order, bound for reading, excluded SSNs as a placeholder note', async () => {
    const { code, out } = await capture(['--dialect', 'snowflake', '--as-of', '2026-02-14T12:00:00'], {});
    assert.equal(code, 0);
    const list = detectionStatements('snowflake', base({ asOf: '2026-02-14T12:00:00' }));
    const heads = out.split('\n').filter((l) => /^-- (Step|Clock|Open|Affected|Scope|Session)/.test(l)).map((l) => l.replace(/ \[.*$/, '').slice(3));
    assert.deepEqual(heads, list.map((s) => s.step));
    assert.match(out, /travel as bound data, never as SQL text/);
    assert.match(out, /'2026-02-14 12:00:00'::TIMESTAMP_NTZ/);
    assert.doesNotMatch(out, /\?\)/, 'no placeholder left unbound');
  });

  test('duckdb dialect, ENABLE_ASYMMETRIC_JOIN=false: no part B; AS_OF with an offset shown in TIMEZONE', async () => {
    const { out } = await capture(['--dialect', 'duckdb', '--as-of', '2026-02-14T12:00:00Z'], { ENABLE_ASYMMETRIC_JOIN: 'false', TIMEZONE: 'America/New_York' });
    assert.doesNotMatch(out, /Step 2b/);
    assert.match(out, /T = 2026-02-14 07:00:00/);
    assert.match(out, /CAST\(CAST\('2026-02-14T12:00:00\+00:00' AS TIMESTAMPTZ\) AS TIMESTAMP\)/);
  });

  test('a bad dialect is a usage error', async () => {
    await assert.rejects(() => capture(['--dialect', 'oracle'], {}), /--dialect must be snowflake or duckdb/);
  });

  test('a bad --as-of is rejected as AS_OF is (config), not printed with an impossible T', async () => {
    await assert.rejects(() => capture(['--dialect', 'duckdb', '--as-of', '2026-13-14'], {}), /AS_OF must be an ISO-8601 date-time .*got "2026-13-14"/);
  });

  test('binding skips question marks inside string literals (the GPS pattern has some)', () => {
    assert.equal(bindForReading(`SELECT '[+-]?' || ?, "a?" FROM t WHERE x = ?`, ['o\'k', 3]), `SELECT '[+-]?' || 'o''k', "a?" FROM t WHERE x = 3`);
  });
});

test('every Snowflake statement parses (node-sql-parser, snowflake), insertRows bound with its sample row', async () => {
  const { default: pkg } = await import('node-sql-parser');
  const parser = new pkg.Parser();
  for (const comprehensive of [true, false]) {
    for (const s of detectionStatements('snowflake', base({ comprehensive, asOf: undefined }))) {
      const sql = s.kind === 'insertRows' ? bindForReading(s.sql, s.data.sample[0] ?? s.data.columns.map(() => 'x')) : s.sql;
      assert.doesNotThrow(() => parser.astify(sql, { database: 'snowflake' }), `${s.step} (${s.kind})`);
    }
  }
});
