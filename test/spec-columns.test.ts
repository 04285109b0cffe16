// The column lists in src/schema/columns.ts are transcribed from the spec's TSV files; this test
// fails when the spec changes and the transcription does not (spec README: column names are
// case-sensitive). Runs where ../shared/spec exists (a checkout next to shared/, and CI).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BASE_VISIT_COLUMNS, DETECTED_COLUMNS, TARGET_TABLES, WAREHOUSE_COLUMNS } from '../src/schema/columns.js';

const SPEC = new URL('../../shared/spec/', import.meta.url);
const hasSpec = existsSync(new URL('README.md', SPEC));

function tsv(name: string): string[][] {
  return readFileSync(new URL(name, SPEC), 'utf8').trimEnd().split('\n').slice(1).map((l) => l.split('\t'));
}

test('detected-columns.tsv: every column, in order, with its PostgreSQL type', { skip: !hasSpec && 'no ../shared/spec' }, () => {
  assert.deepEqual(DETECTED_COLUMNS.map((c) => [c.name, c.pgType, c.from]), tsv('detected-columns.tsv'));
});

test('target-tables.tsv: every table and column with type, not-null, default and key', { skip: !hasSpec && 'no ../shared/spec' }, () => {
  const ours = Object.entries(TARGET_TABLES).flatMap(([t, cols]) =>
    cols.map((c) => [t, c.name, c.type, c.notNull ? 'yes' : '', c.default ?? '', c.primaryKey ? 'yes' : '']),
  );
  assert.deepEqual(ours, tsv('target-tables.tsv').map((r) => [...r, '', '', '', '', ''].slice(0, 6)));
});

test('warehouse-columns.tsv: every source column with both engines\' types', { skip: !hasSpec && 'no ../shared/spec' }, () => {
  assert.deepEqual(WAREHOUSE_COLUMNS.map((c) => [c.table, c.column, c.snowflakeType, c.duckdbType]), tsv('warehouse-columns.tsv'));
});

test('base-visit-columns.tsv: the base visit columns in order', { skip: !hasSpec && 'no ../shared/spec' }, () => {
  assert.deepEqual([...BASE_VISIT_COLUMNS], tsv('base-visit-columns.tsv').map((r) => r[0]));
});

test('every detected column exists in conflictvisitmaps with the same type', () => {
  const cvm = new Map(TARGET_TABLES.conflictvisitmaps.map((c) => [c.name, c.type]));
  for (const c of DETECTED_COLUMNS) assert.equal(cvm.get(c.name), c.pgType, c.name);
});
