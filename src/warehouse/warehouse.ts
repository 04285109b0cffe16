// The warehouse session every detection step runs in: one session per run (temporary tables
// live per session), statements in order, big results streamed (detection.md).
import type { WarehouseConfig } from '../config/config.js';
import type { Logger } from '../log.js';

export type Dialect = 'duckdb' | 'snowflake';

/** A bound parameter: positional `?` placeholders on both engines. */
export type SqlParam = string | number | boolean | null;

/**
 * A value as it arrives from the warehouse: text, number, boolean or NULL. Timestamps arrive as
 * text `YYYY-MM-DD HH:MM:SS[.ffffff]`, dates as `YYYY-MM-DD`, 64-bit integers as text.
 */
export type WarehouseValue = string | number | boolean | null;
export type WarehouseRow = WarehouseValue[];

export interface WarehouseSession {
  readonly dialect: Dialect;
  /** `DuckDB v1.5.6` / the Snowflake CURRENT_VERSION(). */
  version(): Promise<string>;
  /** Run one statement; resolves with the rows it changed when the engine says. */
  execute(sql: string, params?: readonly SqlParam[]): Promise<number | undefined>;
  /** Run a query with a small result and return it whole, as objects keyed by column name. */
  query(sql: string, params?: readonly SqlParam[]): Promise<Array<Record<string, WarehouseValue>>>;
  /**
   * Stream a large result in batches of `batchSize` rows (column order of the SELECT). The next
   * batch is fetched only when the consumer asks for it (back-pressure); memory stays flat.
   */
  stream(sql: string, params: readonly SqlParam[], batchSize: number): AsyncIterable<WarehouseRow[]>;
  /** Bulk-insert rows into an existing (temporary) table: data travels as data, never as SQL text. */
  insertRows(table: string, columns: readonly string[], rows: readonly (readonly SqlParam[])[]): Promise<void>;
  /** Cancel the statement running now, if any (SIGTERM). */
  cancel(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenWarehouseOptions {
  /** TIMEZONE: the session's zone; unset keeps the session's own. */
  timezone?: string;
  /** Snowflake QUERY_TAG naming the job and run. */
  queryTag?: string;
  log: Logger;
}

export async function openWarehouse(config: WarehouseConfig, opts: OpenWarehouseOptions): Promise<WarehouseSession> {
  if (config.kind === 'duckdb') {
    // In a process of its own: DuckDB's memory is the warehouse's, not the job's (duckdbProcess.ts).
    const { openDuckDbProcess } = await import('./duckdbProcess.js');
    return openDuckDbProcess(config, opts);
  }
  const { openSnowflake } = await import('./snowflake.js');
  return openSnowflake(config, opts);
}
