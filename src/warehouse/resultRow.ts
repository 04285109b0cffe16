// Reading a small warehouse result by column name. A column the job reads that is missing from the
// result (an account that upper-cases quoted aliases, QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE) is an
// error naming the step and the column, never an undefined that becomes 0 (detection.md,
// "Session settings").
import { StepError } from '../errors.js';
import type { WarehouseValue } from './warehouse.js';

/** One row of a result: the value of a column, which must be in the result. */
export type ResultRow = (column: string) => WarehouseValue;

/** The single row of `rows` (the result of a statement of `step`), read by column name. */
export function onlyRow(step: string, rows: ReadonlyArray<Readonly<Record<string, WarehouseValue>>>): ResultRow {
  const row = rows[0];
  if (!row) throw new StepError(step, new Error('the warehouse returned no row where one was expected'));
  return (column) => {
    if (!Object.hasOwn(row, column)) {
      const found = Object.keys(row).map((c) => `"${c}"`).join(', ') || 'none';
      throw new StepError(
        step,
        new Error(
          `the warehouse result has no column "${column}" (its columns: ${found}); ` +
            'a session setting such as QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE changes the names of result columns',
        ),
      );
    }
    return row[column] ?? null;
  };
}
