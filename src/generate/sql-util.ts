// Small helpers shared by the generator: DDL from the transcribed column list, list literals,
// naive-timestamp arithmetic in JavaScript (for the hand-crafted rows) and stable UUID text.
// Identifiers and literals are DuckDB's (src/sqlText.ts).
import { createHash } from 'node:crypto';
import { WAREHOUSE_COLUMNS } from '../schema/columns.js';
import { duckdbText } from '../sqlText.js';

const { ident, literal } = duckdbText;

export type { SqlScalar as SqlValue } from '../sqlText.js';

export const WAREHOUSE_SCHEMA = 'BI';

/** DuckDB type of a warehouse column: `VARCHAR (UUID text)` is VARCHAR, `TIMESTAMP or DATE` is TIMESTAMP. */
export function duckdbTypeOf(duckdbType: string): string {
  if (duckdbType.startsWith('VARCHAR')) return 'VARCHAR';
  if (duckdbType.startsWith('TIMESTAMP')) return 'TIMESTAMP';
  return duckdbType;
}

/** Table name -> its columns (name, DuckDB type), in the order of warehouse-columns.tsv. */
export function warehouseTables(): Map<string, { name: string; type: string }[]> {
  const tables = new Map<string, { name: string; type: string }[]>();
  for (const c of WAREHOUSE_COLUMNS) {
    let cols = tables.get(c.table);
    if (!cols) tables.set(c.table, (cols = []));
    cols.push({ name: c.column, type: duckdbTypeOf(c.duckdbType) });
  }
  return tables;
}

export function tableRef(table: string): string {
  return duckdbText.qualified(WAREHOUSE_SCHEMA, table);
}

/** CREATE TABLE statements for every warehouse table (schema BI, exact names and types). */
export function warehouseDdl(): string[] {
  const out = [`CREATE SCHEMA IF NOT EXISTS ${ident(WAREHOUSE_SCHEMA)}`];
  for (const [table, cols] of warehouseTables()) {
    out.push(`CREATE TABLE ${tableRef(table)} (${cols.map((c) => `${ident(c.name)} ${c.type}`).join(', ')})`);
  }
  return out;
}

/** A SQL list literal of strings/NULLs, e.g. ['NY', NULL]. */
export function listLit(values: readonly (string | null)[]): string {
  return `[${values.map((v) => (v === null ? 'NULL::VARCHAR' : literal(v))).join(', ')}]`;
}

/** A SQL list literal of numbers, e.g. [1.5, 2]. */
export function numListLit(values: readonly number[]): string {
  return `[${values.map((v) => literal(v)).join(', ')}]`;
}

/** Expand (value, weight) pairs into a list of `size` entries, for weighted picks by index. */
export function weighted<T>(pairs: readonly (readonly [T, number])[], size = 100): T[] {
  const total = pairs.reduce((s, [, w]) => s + w, 0);
  const out: T[] = [];
  let acc = 0;
  for (const [v, w] of pairs) {
    acc += w;
    const upTo = Math.round((acc / total) * size);
    while (out.length < upTo) out.push(v);
  }
  return out;
}

/** UUID text that depends only on `key` (the hand-crafted rows keep their ids for every seed). */
export function stableUuid(key: string): string {
  const h = createHash('sha256').update(key).digest('hex');
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---- naive timestamps ('YYYY-MM-DD HH:MM:SS'), computed with UTC arithmetic so no zone applies ----

const AS_OF_RE = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;

export function parseNaive(s: string): number {
  const m = AS_OF_RE.exec(s);
  if (!m) throw new Error(`asOf must be a naive timestamp 'YYYY-MM-DD HH:MM:SS', got '${s}'`);
  const [, y, mo, d, h, mi, se] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    throw new Error(`asOf is not a valid timestamp: '${s}'`);
  }
  return ms;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

export function formatNaive(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function formatDate(ms: number): string {
  return formatNaive(ms).slice(0, 10);
}

export const DAY_MS = 86_400_000;

/** Midnight of the day of `ms`. */
export function startOfDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `ms` minus `years` calendar years, clamping Feb 29 to Feb 28 (as DuckDB and Snowflake do). */
export function minusYears(ms: number, years: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear() - years;
  const m = d.getUTCMonth();
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(d.getUTCDate(), lastDay), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds());
}
