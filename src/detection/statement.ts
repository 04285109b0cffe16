// A statement of a run: a frozen value, every field required for its kind (in the spirit of
// kysely's CompiledQuery). The run sends it by its kind; the `sql` tool prints it.
import type { SqlScalar, SqlText } from '../sqlText.js';
import type { StepName } from './names.js';

interface Sent {
  /** The step it belongs to, as the recorder and the log name it (one of STEP). */
  readonly step: string;
  readonly sql: string;
  readonly params: readonly SqlScalar[];
}

/** Run for its effect (DDL, INSERT … SELECT). */
export interface ExecuteStatement extends Sent {
  readonly kind: 'execute';
}

/** A small result, read at once (statistics, the clock). */
export interface QueryStatement extends Sent {
  readonly kind: 'query';
}

/** A large result, streamed in batches. */
export interface StreamStatement extends Sent {
  readonly kind: 'stream';
}

/**
 * Rows that travel as data through WarehouseSession.insertRows (never as SQL text); `sql` shows
 * the INSERT with one row of placeholders, for reading.
 */
export interface InsertRowsStatement extends Sent {
  readonly kind: 'insertRows';
  readonly data: {
    readonly table: string;
    readonly columns: readonly string[];
    readonly rows: readonly (readonly string[])[];
    readonly rowCount: number;
    /** Where the rows come from at run time, for reading (`sql` tool). */
    readonly source: string;
    /** The first few rows, for reading. */
    readonly sample: readonly (readonly string[])[];
  };
}

export type Statement = ExecuteStatement | QueryStatement | StreamStatement | InsertRowsStatement;

const NO_PARAMS: readonly SqlScalar[] = Object.freeze([]);
const SAMPLE_ROWS = 3;

export function execute(step: StepName, sql: string): ExecuteStatement {
  return Object.freeze({ kind: 'execute', step, sql, params: NO_PARAMS });
}

export function query(step: StepName, sql: string, params: readonly SqlScalar[] = NO_PARAMS): QueryStatement {
  return Object.freeze({ kind: 'query', step, sql, params: Object.freeze([...params]) });
}

export function stream(step: StepName, sql: string): StreamStatement {
  return Object.freeze({ kind: 'stream', step, sql, params: NO_PARAMS });
}

/** One text column of `values`, one row each; `source` says where a run's rows come from. */
export function insertRows(step: StepName, text: SqlText, table: string, column: string, values: readonly string[], source: string): InsertRowsStatement {
  const rows = Object.freeze(values.map((v) => Object.freeze([v])));
  return Object.freeze({
    kind: 'insertRows',
    step,
    sql: `INSERT INTO ${table} (${text.ident(column)}) VALUES (?)`,
    params: NO_PARAMS,
    data: Object.freeze({ table, columns: Object.freeze([column]), rows, rowCount: rows.length, source, sample: Object.freeze(rows.slice(0, SAMPLE_ROWS)) }),
  });
}
