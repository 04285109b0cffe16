// dialect/: regexGroups gives, group by group, what regexGroup gives (baseVisits.ts uses it for the
// GPS text, detection.md "Coordinates"; DuckDB matches once for all the groups).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlDialect } from '../../src/detection/dialect/index.js';
import { GPS_RE } from '../../src/detection/locations.js';
import { duckdbText } from '../../src/sqlText.js';

const TEXTS = [
  '40.5,-73.25',
  ' "5." , ".5" ',
  '+40,+73',
  '1,2,3',
  'NaN,5',
  ',',
  '',
  'abc',
  '1e5,2',
  '1,2\n',
];

describe('regexGroups (dialect/)', () => {
  test('Snowflake: the same REGEXP_SUBSTR per group as regexGroup', () => {
    const d = sqlDialect('snowflake');
    assert.deepEqual(d.regexGroups('x', GPS_RE, [1, 4]), [d.regexGroup('x', GPS_RE, 1), d.regexGroup('x', GPS_RE, 4)]);
  });

  test('DuckDB: each group equals regexGroup, NULL when no match or NULL text', async () => {
    const d = sqlDialect('duckdb');
    const inst = await DuckDBInstance.create(':memory:');
    const conn = await inst.connect();
    try {
      const values = [...TEXTS.map((t) => `(${duckdbText.str(t)})`), '(NULL)'].join(', ');
      const [g1, g4] = d.regexGroups('t.x', GPS_RE, [1, 4]);
      const r = await conn.runAndReadAll(
        `SELECT t.x, ${g1} AS a1, ${d.regexGroup('t.x', GPS_RE, 1)} AS b1, ${g4} AS a4, ${d.regexGroup('t.x', GPS_RE, 4)} AS b4 ` +
          `FROM (VALUES ${values}) t(x)`,
      );
      const rows = r.getRowObjectsJson();
      assert.equal(rows.length, TEXTS.length + 1);
      for (const row of rows) {
        assert.equal(row.a1, row.b1, `group 1 of ${JSON.stringify(row.x)}`);
        assert.equal(row.a4, row.b4, `group 4 of ${JSON.stringify(row.x)}`);
      }
      const first = rows.find((row) => row.x === '40.5,-73.25');
      assert.deepEqual([first?.a1, first?.a4], ['40.5', '-73.25']);
      // No match: 7 of the texts (with the trailing newline: $ is the end of the text), and NULL.
      assert.equal(rows.filter((row) => row.a1 === null).length, 8);
    } finally {
      conn.closeSync();
      inst.closeSync();
    }
  });
});
