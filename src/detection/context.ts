// What every step's SQL is written against: the dialect, the parameters, T and the windows derived
// from it as literals, and the shared filters (detection.md, "Filters shared by every step").
import { assertClock } from './clock.js';
import type { SqlDialect } from './dialect/index.js';
import { TEMP } from './names.js';
import type { DetectionParams } from './types.js';

export type PlanParams = DetectionParams & {
  /** T: `YYYY-MM-DD HH:MM:SS[.ffffff]`, naive, in the session's zone. */
  readonly clock: string;
  readonly database: string;
  readonly schema: string;
};

export interface Ctx {
  readonly d: SqlDialect;
  readonly p: PlanParams;
  /** A quoted identifier (the dialect's). */
  readonly q: (name: string) => string;
  /** A string literal (the dialect's). */
  readonly str: (s: string) => string;
  /** A warehouse table: `DATABASE.SCHEMA."NAME"`. */
  readonly tbl: (name: string) => string;
  readonly T: string;
  readonly changedSince: string;
  readonly windowFrom: string;
  readonly windowTo: string;
  readonly today: string;
}

export function context(d: SqlDialect, p: PlanParams): Ctx {
  assertClock(p.clock);
  for (const [name, n, min] of [
    ['lookbackHours', p.lookbackHours, 1],
    ['lookbackYears', p.lookbackYears, 1],
    ['lookforwardDays', p.lookforwardDays, 0],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < min) throw new Error(`${name} must be a whole number, at least ${min} (got ${n})`);
  }
  if (!/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p.database) || !/^[A-Za-z_][A-Za-z0-9_$]*$/.test(p.schema)) {
    throw new Error(`warehouse database and schema must be plain identifiers (got ${p.database}.${p.schema})`);
  }
  const T = d.timestampLiteral(p.clock);
  const q = d.text.ident;
  return {
    d,
    p,
    q,
    str: d.text.str,
    tbl: (name) => `${p.database}.${p.schema}.${q(name)}`,
    T,
    changedSince: d.dateAdd('hour', -p.lookbackHours, T),
    windowFrom: `CAST(${d.dateAdd('year', -p.lookbackYears, T)} AS DATE)`,
    windowTo: `CAST(${d.dateAdd('day', p.lookforwardDays, T)} AS DATE)`,
    today: `CAST(${T} AS DATE)`,
  };
}

/** `CREATE OR REPLACE TEMPORARY TABLE name AS select` (the same on both engines). */
export function createTempTableAs(name: string, select: string): string {
  return `CREATE OR REPLACE TEMPORARY TABLE ${name} AS\n${select}`;
}

/** `CREATE OR REPLACE TEMPORARY TABLE name (cols)`. */
export function createTempTable(x: Ctx, name: string, columns: ReadonlyArray<readonly [string, string]>): string {
  return `CREATE OR REPLACE TEMPORARY TABLE ${name} (${columns.map(([c, t]) => `${x.q(c)} ${t}`).join(', ')})`;
}

export function changed(x: Ctx, f = 'f'): string {
  return `${f}."Visit Updated Timestamp" >= ${x.changedSince}`;
}

function unchanged(x: Ctx, f = 'f'): string {
  return `(${f}."Visit Updated Timestamp" IS NULL OR ${f}."Visit Updated Timestamp" < ${x.changedSince})`;
}

/**
 * The fact rows steps 2 and 3 read: comprehensive mode, the rows of the visits of the groups that
 * can hold a pair (cu_pair_facts, baseVisits.ts); delta-only mode, the fact table.
 */
export function factSource(x: Ctx): string {
  return x.p.comprehensive ? TEMP.pairFacts : x.tbl('FACTVISITCALLPERFORMANCE_CR');
}

/** Which fact rows: changed visits (2a), unchanged ones (2b), or the conflict visits' rows (step 3). */
export type Part = 'changed' | 'unchanged' | 'details';

/**
 * The fact rows inside the window whose provider is not excluded, of one part (or changed or not:
 * `any`), as a derived table `f` (the caregiver filter is the join that follows). `dups`: only
 * visits with several fact rows (true), none of them (false), or all (undefined). `from`: the fact
 * rows read (default: the fact table; details: the conflict visits' rows).
 */
export function eligibleFact(x: Ctx, part: Part | 'any', dups?: boolean, from?: string): string {
  const dupJoin = dups === undefined ? '' : ` LEFT JOIN ${TEMP.factDups} fd ON fd."visit_id" = LOWER(s."Visit Id")`;
  const dupWhere = dups === undefined ? '' : ` AND fd."visit_id" IS ${dups ? 'NOT ' : ''}NULL`;
  // Details (step 3): the fact rows of the conflict visits, copied once, each of its visit's part.
  const source = from ?? (part === 'details' ? TEMP.conflictFacts : x.tbl('FACTVISITCALLPERFORMANCE_CR'));
  const time =
    part === 'any'
      ? 'true'
      : part === 'changed'
        ? changed(x, 's')
        : part === 'unchanged'
          ? unchanged(x, 's')
          : `((s."cv_is_delta" AND ${changed(x, 's')}) OR (NOT s."cv_is_delta" AND ${unchanged(x, 's')}))`;
  return (
    `(SELECT s.* FROM ${source} s ` +
    `LEFT JOIN ${TEMP.excludedProviders} xp ON xp."provider_id" = LOWER(s."Provider Id")${dupJoin} ` +
    `WHERE CAST(s."Visit Date" AS DATE) BETWEEN ${x.windowFrom} AND ${x.windowTo} AND xp."provider_id" IS NULL ` +
    `AND ${time}${dupWhere}) f`
  );
}

/**
 * The caregivers of the shared filter, as a derived table `c` ("key", "ssn"): trimmed SSN
 * non-empty and not excluded. Filtered before the join, once per caregiver rather than per fact row.
 */
export function eligibleCaregivers(x: Ctx): string {
  const ssn = x.d.trimSpaces('s."SSN"');
  return (
    `(SELECT DISTINCT s."Caregiver Id" AS "key", ${ssn} AS "ssn" FROM ${x.tbl('DIMCAREGIVER')} s ` +
    `LEFT JOIN ${TEMP.excludedSsns} xs ON xs."ssn" = ${ssn} WHERE ${ssn} <> '' AND xs."ssn" IS NULL) c`
  );
}
