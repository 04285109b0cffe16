// Step "Clock" (detection.md, "The run's clock"): T is read once, from the session or from AS_OF,
// and every later statement gets it as a literal.
import type { AsOf } from '../config/config.js';
import type { SqlDialect } from './dialect/index.js';
import { STEP } from './names.js';
import { query, type QueryStatement } from './statement.js';

const TS_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?$/;

/** Checks T before it is inlined into SQL as a literal. */
export function assertClock(clock: string): void {
  if (!TS_TEXT.test(clock)) throw new Error(`the run's clock must be a naive timestamp YYYY-MM-DD HH:MM:SS[.ffffff] (got "${clock}")`);
}

/** The query that reads T (column `t`): the session's now, or AS_OF's instant in the session's zone. */
export function clockQuery(d: SqlDialect, asOf: Extract<AsOf, { kind: 'instant' }> | undefined): QueryStatement {
  return asOf === undefined ? query(STEP.clock, d.clockNowQuery()) : query(STEP.clock, d.clockFromOffsetQuery(), [asOf.instant]);
}

/** The statement that reads T, or undefined when AS_OF is naive (T is AS_OF itself). */
export function clockStatement(d: SqlDialect, asOf: AsOf | undefined): QueryStatement | undefined {
  return asOf?.kind === 'naive' ? undefined : clockQuery(d, asOf);
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` from the engine → T, without a zero fraction. */
export function normaliseClock(text: string): string {
  const t = text.trim().replace('T', ' ');
  const m = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:\.(\d+))?$/.exec(t);
  if (!m) throw new Error(`unexpected clock value from the warehouse: "${text}"`);
  const f = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return Number(f) === 0 ? m[1] : `${m[1]}.${f}`;
}
