// The delimited text a DuckDB process (duckdbProcess.ts) sends narrow batches in; no DuckDB import
// here, so the job process does not load the engine to read it.
import type { WarehouseRow } from './warehouse.js';

/**
 * A batch of rows whose values are all text or NULL, as one delimited text (TEXT_BATCH first,
 * rows joined by RS, values by US, NULL as GS): a fraction of JSON's cost on both sides for the
 * narrow streams of millions of rows (affected groups, scope visit ids). Undefined when a value is
 * not text or holds one of the separators: the batch then travels as JSON.
 */
export const TEXT_BATCH = '\x02';
const RS = '\x1e';
const US = '\x1f';
const GS = '\x1d';
const SEPARATORS = /[\x1d-\x1f]/;

export function textBatch(rows: readonly WarehouseRow[]): string | undefined {
  const lines: string[] = new Array(rows.length);
  for (let j = 0; j < rows.length; j++) {
    const row = rows[j];
    let line = '';
    for (let i = 0; i < row.length; i++) {
      const v = row[i];
      if (i > 0) line += US;
      if (v === null) line += GS;
      else if (typeof v !== 'string' || SEPARATORS.test(v)) return undefined;
      else line += v;
    }
    lines[j] = line;
  }
  return TEXT_BATCH + lines.join(RS);
}

/** The rows of a textBatch(). */
export function parseTextBatch(text: string): WarehouseRow[] {
  const lines = text.slice(1).split(RS);
  const rows: WarehouseRow[] = new Array(lines.length);
  for (let j = 0; j < lines.length; j++) {
    const values: WarehouseRow = lines[j].split(US);
    for (let i = 0; i < values.length; i++) if (values[i] === GS) values[i] = null;
    rows[j] = values;
  }
  return rows;
}

