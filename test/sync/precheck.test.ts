// The Node.js precheck (src/sync/precheck.ts) may only vouch for values PostgreSQL's checks
// (columnChecks) accept: every value it passes is run through those checks on the real server.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { DetectedColumn } from '../../src/schema/columns.js';
import { castExpr, columnChecks } from '../../src/sync/columns.js';
import { copyField, copyLine, fieldText } from '../../src/sync/copy.js';
import { fieldEncoder, rowEncoder } from '../../src/sync/precheck.js';
import type { WarehouseValue } from '../../src/warehouse/warehouse.js';
import { testClient } from '../helpers/pg.js';

let c: pg.Client;
before(async () => {
  c = await testClient();
});
after(async () => {
  await c.end();
});

const col = (pgType: string): DetectedColumn => ({ name: 'x', pgType, from: 'V1.x' });

/** The precheck of one column: true when fieldEncoder vouches for the value. */
function precheck(c: DetectedColumn): (v: WarehouseValue) => boolean {
  const encode = fieldEncoder(c);
  return (v) => encode(v) !== undefined;
}

const CASES: Record<string, WarehouseValue[]> = {
  uuid: ['0f8fad5b-d9cb-469f-a165-70867728950e', '0F8FAD5B-D9CB-469F-A165-70867728950E', '0f8fad5bd9cb469fa16570867728950e', '{0f8fad5b-d9cb-469f-a165-70867728950e}', 'not-a-uuid', '0f8fad5b-d9cb-469f-a165-70867728950e\n', ''],
  int8: ['0', '-5', '123456789012345678', '1234567890123456789', '9223372036854775807', '99999999999999999999', ' 5', '+5', '5.0', '0x10', '1_000', '', '-', 7, 1e21],
  int4: [0, -12, 2147483647, 3_000_000_000, 12.5, '12', '1e3', 'NaN'],
  int2: [0, 9999, 32767, 40000, -32768],
  real: [0, -0, 1.25, -73.985, 1e-7, 1e-39, 1e39, 3.4e38, Number.NaN, Number.POSITIVE_INFINITY, '1.5', '-0.000', '.5', '1e5', 'abc'],
  date: ['2026-02-14', '2024-02-29', '2026-02-29', '2026-02-30', '0000-01-01', '0001-01-01', '2026-13-01', '2026-2-14', '2026-02-14 00:00:00', 'today'],
  timestamp: ['2026-02-14 12:00:00', '2026-02-14T12:00:00', '2026-02-14 12:00:00.123456', '2026-02-14 12:00:00.1234567', '2026-02-14 24:00:00', '2026-02-14 23:59:60', '2026-02-14 12:00', '2026-02-14', '2026-02-30 01:00:00', 'yesterday', 'epoch'],
  bool: [true, false, 't', 'f', 'TRUE', 'False', 'yes', '1', 'maybe'],
  'varchar(5)': ['abcde', 'abcdef', 'ünïcö', '✓✓✓✓✓', '😀😀😀', 12345, 123456, true],
};

test('precheck: every value it vouches for passes the SQL checks of its column', async () => {
  const v = await c.query<{ n: string }>(`SELECT current_setting('server_version_num') AS n`);
  const inputIsValid = Number(v.rows[0].n) >= 160000;
  for (const [type, values] of Object.entries(CASES)) {
    const check = precheck(col(type));
    const sqlChecks = columnChecks(col(type), '$1::text', inputIsValid);
    for (const value of values) {
      const sqlText = typeof value === 'boolean' ? (value ? 't' : 'f') : String(value);
      let sqlInvalid = false;
      for (const ch of sqlChecks) {
        // each check only runs when the ones before it passed, as in the CASE of validation
        const r = await c.query<{ bad: boolean }>(`SELECT (${ch.invalid}) AS bad`, [sqlText]);
        if (r.rows[0].bad) {
          sqlInvalid = true;
          break;
        }
      }
      if (check(value)) assert.equal(sqlInvalid, false, `${type}: precheck vouched for ${JSON.stringify(value)}, which the SQL checks reject`);
    }
  }
});

test('precheck: a value it vouches for, COPYed into its typed column (as staging does), has the value the general cast gives', async () => {
  for (const [type, values] of Object.entries(CASES)) {
    const check = precheck(col(type));
    const vouched = values.filter((v) => check(v));
    await c.query(`CREATE TEMPORARY TABLE typed_copy (i int, x ${type})`);
    try {
      const stream = c.query(copyFrom('COPY typed_copy (i, x) FROM STDIN'));
      await pipeline(Readable.from([vouched.map((v, i) => copyLine([i, v])).join('')]), stream);
      const stored = await c.query<{ i: number; x: string | null }>('SELECT i, x::text AS x FROM typed_copy ORDER BY i');
      assert.equal(stored.rows.length, vouched.length);
      for (const { i, x } of stored.rows) {
        const value = vouched[i];
        const general = await c.query<{ x: string }>(`SELECT (${castExpr(col(type), '$1::text')})::text AS x`, [fieldText(value)]);
        assert.equal(x, general.rows[0].x, `${type}: ${JSON.stringify(value)}`);
      }
    } finally {
      await c.query('DROP TABLE typed_copy');
    }
  }
});

test('precheck: a vouched value\'s field is the COPY text copyField gives for it', () => {
  const awkward = { 'varchar(20)': ['tab\there', 'back\\slash', 'new\nline', '\\N', 7, true] };
  for (const [type, values] of Object.entries({ ...CASES, ...awkward })) {
    const encode = fieldEncoder(col(type));
    for (const value of [...values, null]) {
      const field = encode(value);
      if (field !== undefined) assert.equal(field, copyField(value), `${type}: ${JSON.stringify(value)}`);
    }
  }
  const cols: DetectedColumn[] = [
    { name: 'VisitID', pgType: 'uuid', from: 'V1.VisitID' },
    { name: 'ConVisitID', pgType: 'uuid', from: 'V2.VisitID' },
    { name: 'SSN', pgType: 'varchar(20)', from: 'V1.SSN' },
    { name: 'IsMissed', pgType: 'bool', from: 'V1.IsMissed' },
  ];
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const values = [id, id, 'a\tb', false];
  assert.equal(rowEncoder(cols)(values) + '\n', copyLine(values));
});

test('precheck: NULL passes; a row with a NULL key or an unknown type is not vouched for', () => {
  assert.equal(precheck(col('uuid'))(null), true);
  assert.equal(precheck(col('tsvector'))('x'), false);
  const cols: DetectedColumn[] = [
    { name: 'VisitID', pgType: 'uuid', from: 'V1.VisitID' },
    { name: 'ConVisitID', pgType: 'uuid', from: 'V2.VisitID' },
    { name: 'SSN', pgType: 'varchar(20)', from: 'V1.SSN' },
  ];
  const encode = rowEncoder(cols);
  const row = (values: WarehouseValue[]) => encode(values) !== undefined;
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';
  assert.equal(row([id, id, '123-45-6789']), true);
  assert.equal(row([id, id, null]), true);
  assert.equal(row([id, null, '123-45-6789']), false);
  // keys in upper case: valid, but not in the form detection sends (a typed key reads back in lower case)
  assert.equal(row([id.toUpperCase(), id, '123-45-6789']), false);
  assert.equal(row([id, id, 'x'.repeat(21)]), false);
});

test('precheck: the values detection produces are vouched for', () => {
  assert.equal(precheck(col('uuid'))('0f8fad5b-d9cb-469f-a165-70867728950e'), true);
  assert.equal(precheck(col('int8'))('123456'), true);
  assert.equal(precheck(col('int4'))(42), true);
  assert.equal(precheck(col('real'))(40.7128), true);
  assert.equal(precheck(col('date'))('2026-02-14'), true);
  assert.equal(precheck(col('timestamp'))('2026-02-14 08:30:00'), true);
  assert.equal(precheck(col('timestamp'))('2026-02-14 08:30:00.5'), true);
  assert.equal(precheck(col('bool'))(false), true);
});
