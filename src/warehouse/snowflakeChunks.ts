// How long the driver spends parsing result chunks (issue 15: the job's own CPU cost of the
// Snowflake path). snowflake-sdk turns a downloaded chunk into rows in one call, Chunk#getRows()
// (JSON.parse of the chunk's text, then one row object per row); that method is wrapped once per
// process to add up its time. A driver without it is not measured (undefined), never broken.
import { createRequire } from 'node:module';

export interface ChunkParsing {
  /** Chunks parsed (downloaded ones; the rows sent inline with a result are not counted). */
  chunks: number;
  /** Characters of JSON text parsed. */
  chars: number;
  rows: number;
  seconds: number;
}

interface DriverChunk {
  _rowsetAsString?: string;
  _rows?: unknown[];
  getRows(): unknown[];
}

const totals: ChunkParsing = { chunks: 0, chars: 0, rows: 0, seconds: 0 };
let installed: boolean | undefined;

/** Wraps Chunk#getRows once; false when the driver has no such method (then nothing is measured). */
function install(): boolean {
  if (installed !== undefined) return installed;
  installed = false;
  let proto: DriverChunk | undefined;
  try {
    const require = createRequire(import.meta.url);
    proto = (require('snowflake-sdk/dist/lib/connection/result/chunk.js') as { prototype?: DriverChunk }).prototype;
  } catch {
    return false;
  }
  if (!proto || typeof proto.getRows !== 'function') return false;
  const getRows = proto.getRows;
  proto.getRows = function timedGetRows(this: DriverChunk): unknown[] {
    const text = Array.isArray(this._rows) ? undefined : this._rowsetAsString;
    if (text === undefined) return getRows.call(this);
    const t0 = performance.now();
    const rows = getRows.call(this);
    totals.seconds += (performance.now() - t0) / 1000;
    totals.chunks++;
    totals.chars += text.length;
    totals.rows += rows.length;
    return rows;
  };
  installed = true;
  return true;
}

/** A counter of chunk parsing from now on; `read()` gives what was parsed since (undefined: not measured). */
export function chunkParsingCounter(): { read(): ChunkParsing | undefined } {
  const ok = install();
  const start = { ...totals };
  return {
    read: () =>
      ok
        ? {
            chunks: totals.chunks - start.chunks,
            chars: totals.chars - start.chars,
            rows: totals.rows - start.rows,
            seconds: totals.seconds - start.seconds,
          }
        : undefined,
  };
}
