// The local warehouse: the DuckDB file attached read-only as ANALYTICS to an in-memory
// database, so temporary tables never touch the file (operations.md, DUCKDB_PATH).
import { existsSync } from 'node:fs';
import { DuckDBConnection, DuckDBInstance, JsonDuckDBValueConverter, type DuckDBValue } from '@duckdb/node-api';
import type { DuckDbConfig } from '../config/config.js';
import { ConfigError } from '../errors.js';
import type { OpenWarehouseOptions, SqlParam, WarehouseRow, WarehouseSession, WarehouseValue } from './warehouse.js';

export function quoteDuckIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** How often a stop repeats the interrupt while a statement runs (one sent while DuckDB prepares a statement can be lost). */
const INTERRUPT_REPEAT_MS = 100;

class DuckDbSession implements WarehouseSession {
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
    const r = await this.run(() => this.conn.runAndReadAll('SELECT version() AS v'));
    return `DuckDB ${String(r.getRowObjectsJson()[0].v)}`;
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
    this.refuseIfCancelled();
    // An open stream counts as running until its last chunk (or its consumer stops).
    this.inflight++;
    try {
      const result = await this.conn.stream(sql, params.length ? (params as DuckDBValue[]) : undefined);
      let batch: WarehouseRow[] = [];
      for (;;) {
        this.refuseIfCancelled();
        const chunk = await result.fetchChunk();
        if (!chunk || chunk.rowCount === 0) break;
        for (const row of chunk.convertRows(JsonDuckDBValueConverter) as WarehouseRow[]) {
          batch.push(row);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length) yield batch;
    } finally {
      this.inflight--;
    }
  }

  async insertRows(table: string, columns: readonly string[], rows: readonly SqlParam[][]): Promise<void> {
    if (rows.length === 0) return;
    // An appender would need the table's catalog; a prepared multi-row INSERT keeps values bound.
    const width = columns.length;
    const per = Math.max(1, Math.floor(1000 / width));
    const cols = columns.map(quoteDuckIdent).join(', ');
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

export async function openDuckDb(config: DuckDbConfig, opts: OpenWarehouseOptions): Promise<WarehouseSession> {
  if (!existsSync(config.path)) {
    throw new ConfigError(
      `DUCKDB_PATH: no DuckDB warehouse at ${config.path} (generate one with: npx conflict-updater generate --profile small --out ${config.path})`,
    );
  }
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH ${sqlString(config.path)} AS ${quoteDuckIdent(config.database)} (READ_ONLY)`);
    if (opts.timezone) await conn.run(`SET TimeZone = ${sqlString(opts.timezone)}`);
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    throw err;
  }
  return new DuckDbSession(instance, conn);
}
