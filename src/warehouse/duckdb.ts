// The local warehouse: the DuckDB file attached read-only as ANALYTICS to an in-memory
// database, so temporary tables never touch the file (operations.md, DUCKDB_PATH).
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DuckDBConnection,
  DuckDBInstance,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBDataChunk,
  type DuckDBType,
  type DuckDBValue,
} from '@duckdb/node-api';
import type { DuckDbConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { duckdbText } from '../sqlText.js';
import { onlyRow } from './resultRow.js';
import { textBatch } from './textBatch.js';
import type { OpenWarehouseOptions, SqlParam, WarehouseRow, WarehouseSession, WarehouseValue } from './warehouse.js';

/**
 * Streamed results reach JavaScript value by value, and every string longer than 12 bytes costs a
 * native call and a decode (about a microsecond): a 200-column detected row costs ~200 µs. From this
 * many columns on, the rows travel as one JSON text each (json_array, parsed by JSON.parse), which
 * gives the same values (checked per type below) for a fraction of the cost.
 */
const JSON_TRANSPORT_MIN_COLUMNS = 8;

/** Types whose values JavaScript reads as they are (the JSON converter returns them unchanged). */
const PLAIN_TYPES = new Set<DuckDBTypeId>([DuckDBTypeId.VARCHAR, DuckDBTypeId.INTEGER, DuckDBTypeId.SMALLINT, DuckDBTypeId.TINYINT, DuckDBTypeId.BOOLEAN]);

/**
 * The JSON transport's expression for a column of type `type`, producing the value the JSON
 * converter gives; undefined: not carried (the query streams value by value).
 */
function jsonTransportExpr(col: string, type: DuckDBTypeId): string | undefined {
  if (PLAIN_TYPES.has(type)) return col;
  switch (type) {
    // text, as the converter gives them
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIMESTAMP:
      return `CAST(${col} AS VARCHAR)`;
    case DuckDBTypeId.DOUBLE:
      // JSON has no NaN or infinities: the converter gives them as text
      return `CASE WHEN isnan(${col}) THEN to_json('NaN') WHEN isinf(${col}) THEN to_json(CASE WHEN ${col} > 0 THEN 'Infinity' ELSE '-Infinity' END) ELSE to_json(${col}) END`;
    default:
      return undefined;
  }
}

/** Rows of a chunk, value by value: plain types read directly, the others through the JSON converter. */
function chunkRows(chunk: DuckDBDataChunk): WarehouseRow[] {
  const n = chunk.rowCount;
  const width = chunk.columnCount;
  const rows: WarehouseRow[] = new Array(n);
  for (let j = 0; j < n; j++) rows[j] = new Array(width);
  for (let i = 0; i < width; i++) {
    const vector = chunk.getColumnVector(i);
    const type: DuckDBType = vector.type;
    if (PLAIN_TYPES.has(type.typeId)) {
      for (let j = 0; j < n; j++) rows[j][i] = vector.getItem(j) as WarehouseValue;
    } else {
      for (let j = 0; j < n; j++) rows[j][i] = JsonDuckDBValueConverter(vector.getItem(j), type, JsonDuckDBValueConverter) as WarehouseValue;
    }
  }
  return rows;
}

/** How often a stop repeats the interrupt while a statement runs (one sent while DuckDB prepares a statement can be lost). */
const INTERRUPT_REPEAT_MS = 100;

export class DuckDbSession implements WarehouseSession {
  readonly dialect = 'duckdb' as const;
  /** Set by cancel(): the run is stopping, no new statement starts. */
  private cancelled = false;
  /** Statements (or open streams) running now. */
  private inflight = 0;
  private interruptTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  /** Every statement goes through here: refused after a cancel, counted while it runs. */
  private async run<T>(fn: () => Promise<T>): Promise<T> {
    this.refuseIfCancelled();
    this.inflight++;
    try {
      return await fn();
    } finally {
      this.inflight--;
    }
  }

  private refuseIfCancelled(): void {
    if (this.cancelled) throw new Error('INTERRUPT Error: the run is stopping: no new warehouse statement is started');
  }

  async version(): Promise<string> {
    const r = await this.run(() => this.conn.runAndReadAll('SELECT version() AS "v"'));
    return `DuckDB ${String(onlyRow('DuckDB version', r.getRowObjectsJson() as Array<Record<string, WarehouseValue>>)('v'))}`;
  }

  async execute(sql: string, params: readonly SqlParam[] = []): Promise<number | undefined> {
    const r = await this.run(() => this.conn.run(sql, params.length ? (params as DuckDBValue[]) : undefined));
    const changed = r.rowsChanged;
    return typeof changed === 'number' ? changed : undefined;
  }

  async query(sql: string, params: readonly SqlParam[] = []): Promise<Array<Record<string, WarehouseValue>>> {
    const r = await this.run(() => this.conn.runAndReadAll(sql, params.length ? (params as DuckDBValue[]) : undefined));
    return r.getRowObjectsJson() as Array<Record<string, WarehouseValue>>;
  }

  async *stream(sql: string, params: readonly SqlParam[], batchSize: number): AsyncIterable<WarehouseRow[]> {
    for await (const batch of this.batches(sql, params, batchSize, false)) yield batch as WarehouseRow[];
  }

  /**
   * The same batches as stream(), each as the JSON text of its rows (an array of arrays): what the
   * process that hosts this session (duckdbProcess.ts) sends on, without parsing JSON-transported
   * rows only to write them out again.
   */
  async *streamJson(sql: string, params: readonly SqlParam[], batchSize: number): AsyncIterable<string> {
    for await (const batch of this.batches(sql, params, batchSize, true)) yield batch as string;
  }

  private async *batches(sql: string, params: readonly SqlParam[], batchSize: number, asJson: boolean): AsyncIterable<WarehouseRow[] | string> {
    this.refuseIfCancelled();
    // An open stream counts as running until its last chunk (or its consumer stops).
    this.inflight++;
    try {
      const json = await this.jsonTransport(sql);
      const result = await this.conn.stream(json ?? sql, params.length ? (params as DuckDBValue[]) : undefined);
      // Rows (or, asJson, their JSON texts) of the batch being filled.
      let batch: Array<WarehouseRow | string> = [];
      const flush = (): WarehouseRow[] | string => {
        // JSON-transported rows are JSON texts already; the others are stringified as one array.
        const out = asJson ? (json ? `[${(batch as string[]).join(',')}]` : (textBatch(batch as WarehouseRow[]) ?? JSON.stringify(batch))) : (batch as WarehouseRow[]);
        batch = [];
        return out;
      };
      for (;;) {
        this.refuseIfCancelled();
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        const n = chunk.rowCount;
        let rows: Array<WarehouseRow | string>;
        if (json) {
          const vector = chunk.getColumnVector(0);
          rows = new Array(n);
          for (let j = 0; j < n; j++) {
            const text = vector.getItem(j) as string;
            rows[j] = asJson ? text : (JSON.parse(text) as WarehouseRow);
          }
        } else {
          rows = chunkRows(chunk);
        }
        for (const row of rows) {
          batch.push(row);
          if (batch.length >= batchSize) yield flush();
        }
      }
      if (batch.length) yield flush();
    } finally {
      this.inflight--;
    }
  }

  /**
   * The query wrapped to return one JSON array per row, when it is wide and every column type is
   * carried exactly (jsonTransportExpr); else undefined. A query with ORDER BY is left as it is: a
   * wrapping SELECT need not keep the order of its subquery.
   */
  private async jsonTransport(sql: string): Promise<string | undefined> {
    if (/\border\s+by\b/i.test(sql)) return undefined;
    let prepared;
    try {
      prepared = await this.conn.prepare(sql);
    } catch {
      return undefined; // the stream reports the error itself
    }
    const width = prepared.columnCount;
    if (width < JSON_TRANSPORT_MIN_COLUMNS) return undefined;
    const cols = Array.from({ length: width }, (_, i) => `c${i}`);
    const exprs: string[] = [];
    for (let i = 0; i < width; i++) {
      const e = jsonTransportExpr(cols[i], prepared.columnTypeId(i));
      if (e === undefined) return undefined;
      exprs.push(e);
    }
    return `SELECT CAST(json_array(${exprs.join(', ')}) AS VARCHAR) AS "row" FROM (${sql}) AS t(${cols.join(', ')})`;
  }

  async insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlParam[])[]): Promise<void> {
    if (rows.length === 0) return;
    // An appender would need the table's catalog; a prepared multi-row INSERT keeps values bound.
    const width = columns.length;
    const per = Math.max(1, Math.floor(1000 / width));
    const cols = columns.map(duckdbText.ident).join(', ');
    for (let i = 0; i < rows.length; i += per) {
      const slice = rows.slice(i, i + per);
      const placeholders = slice.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
      await this.run(() => this.conn.run(`INSERT INTO ${table} (${cols}) VALUES ${placeholders}`, slice.flat() as DuckDBValue[]));
    }
  }

  /**
   * Stop: interrupt the running statement and refuse new ones. DuckDB drops an interrupt that
   * arrives while a statement is still being prepared, so it is repeated while one runs.
   */
  async cancel(): Promise<void> {
    this.cancelled = true;
    this.conn.interrupt();
    if (!this.interruptTimer) {
      this.interruptTimer = setInterval(() => {
        if (this.inflight > 0) this.conn.interrupt();
      }, INTERRUPT_REPEAT_MS);
      this.interruptTimer.unref();
    }
  }

  async close(): Promise<void> {
    if (this.interruptTimer) clearInterval(this.interruptTimer);
    this.interruptTimer = undefined;
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

export async function openDuckDb(config: DuckDbConfig, opts: OpenWarehouseOptions): Promise<DuckDbSession> {
  if (!existsSync(config.path)) {
    throw new ConfigError(
      `DUCKDB_PATH: no DuckDB warehouse at ${config.path} (generate one with: npx conflict-updater generate --profile small --out ${config.path})`,
    );
  }
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH ${duckdbText.str(config.path)} AS ${duckdbText.ident(config.database)} (READ_ONLY)`);
    // The session settings the SQL depends on (detection.md, "Session settings"): the zone when
    // set. The rest are this fresh in-memory instance's own defaults, with no account or user layer
    // to change them, and the SQL does not lean on them (sort orders say NULLS LAST, trims name the
    // space, no integer division).
    if (opts.timezone) await conn.run(`SET TimeZone = ${duckdbText.str(opts.timezone)}`);
    // Bounded memory (performance.md: the DuckDB process within 3 GB at production size); what
    // does not fit spills to the machine's temporary directory, never next to the warehouse file.
    await conn.run(`SET memory_limit = ${duckdbText.str(config.memoryLimit)}`);
    await conn.run(`SET temp_directory = ${duckdbText.str(join(tmpdir(), 'conflict-updater-duckdb'))}`);
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    throw err;
  }
  return new DuckDbSession(instance, conn);
}
