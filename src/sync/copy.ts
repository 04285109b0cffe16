// COPY … FROM STDIN in PostgreSQL's text format: the bulk path of sync.md ("All or nothing").
// Rows arrive in batches from an async source; each batch becomes one chunk written with
// back-pressure, so memory holds one batch at a time whatever the size of the result.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** Bytes of COPY text encoded ahead of what PostgreSQL has taken (about one batch of detected rows). */
const READ_AHEAD = 8 * 1024 * 1024;

/** `\N`: NULL in the text format. */
export const COPY_NULL = '\\N';

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value's text as COPY sends it, before escaping; null for NULL. */
export function fieldText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return String(value); // NaN and ±Infinity stay visible as text: validation rejects them
    case 'boolean':
      return value ? 't' : 'f';
    case 'bigint':
      return value.toString();
    default:
      return value instanceof Date ? value.toISOString() : JSON.stringify(value);
  }
}

/** `s` with backslash, tab, newline and carriage return escaped for the text format. */
export function escapeCopyText(s: string): string {
  return SPECIAL.test(s) ? s.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : s;
}

/** One field in the text format: backslash, tab, newline and carriage return escaped, NULL as \N. */
export function copyField(value: unknown): string {
  const s = fieldText(value);
  return s === null ? COPY_NULL : escapeCopyText(s);
}

const ARRAY_SPECIAL_ALL = /[\\"]/g;

/**
 * One `text[]` field in the text format: the values' texts as array elements, each quoted (so
 * that a text such as NULL, or one with braces, commas or spaces, stays as it is), NULL unquoted.
 */
export function copyTextArray(values: readonly unknown[]): string {
  const elements = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = fieldText(values[i]);
    elements[i] = s === null ? 'NULL' : `"${s.replace(ARRAY_SPECIAL_ALL, '\\$&')}"`;
  }
  return escapeCopyText(`{${elements.join(',')}}`);
}

/**
 * One line (row) in the text format, newline included. Joined, not appended: appending 200 fields
 * builds a chain of string pieces that is copied again when flattened, and costs several times
 * as much, mostly in garbage collection.
 */
export function copyLine(values: readonly unknown[]): string {
  const fields = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) fields[i] = copyField(values[i]);
  return fields.join('\t') + '\n';
}

/**
 * Run `COPY … FROM STDIN` with the chunks `source` yields (each a string of whole lines).
 * Resolves with the number of rows PostgreSQL stored. A failure of the source aborts the COPY
 * (CopyFail): nothing of it is stored and the connection stays usable.
 */
export async function copyIn(client: pg.Client, sql: string, source: AsyncIterable<string>): Promise<number> {
  const stream = client.query(copyFrom(sql));
  // Up to READ_AHEAD bytes encoded ahead: the next batch is fetched and encoded while PostgreSQL
  // reads the last one (with one chunk at a time, the job and the server took turns).
  await pipeline(Readable.from(source, { objectMode: false, highWaterMark: READ_AHEAD }), stream);
  return stream.rowCount;
}
