// The DuckDB twin of every Snowflake statement of a detection run, for the Snowflake stand-in
// (snowflakeStandInWarehouse.ts). Both dialects' plans are built from the same DetectionParams
// (the job's own detectionParams(config, reference data)) and the same T, and paired by their place
// in the plan: the Snowflake text of a statement is the key, the DuckDB statement of the same
// place its twin. The clock statement depends on AS_OF only; once a session has read T (or with a
// naive AS_OF, T itself) the rest of the plan follows.
import { clockStatement, normaliseClock } from '../../src/detection/clock.js';
import { sqlDialect } from '../../src/detection/dialect/index.js';
import { detectionPlan } from '../../src/detection/plan.js';
import type { Statement } from '../../src/detection/statement.js';
import type { DetectionParams } from '../../src/detection/types.js';
import type { Twin, TwinLookup } from './snowflakeStandInWarehouse.js';

function isStatement(v: unknown): v is Statement {
  return typeof v === 'object' && v !== null && typeof (v as Statement).sql === 'string' && typeof (v as Statement).kind === 'string';
}

/**
 * [Snowflake, DuckDB] statement pairs of two plans of the same shape. `setup` is left out: it is
 * per dialect (DuckDB's is run when the stand-in opens a connection).
 */
function pairs(a: unknown, b: unknown, path: string, out: Array<[Statement, Statement]>): void {
  if (isStatement(a)) {
    if (!isStatement(b) || a.kind !== b.kind || a.step !== b.step) throw new Error(`the two dialects' plans differ at ${path}`);
    out.push([a, b]);
  } else if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) throw new Error(`the two dialects' plans differ at ${path}`);
    a.forEach((x, i) => pairs(x, b[i], `${path}[${i}]`, out));
  } else if (typeof a === 'object' && a !== null) {
    for (const k of Object.keys(a)) if (k !== 'setup') pairs((a as Record<string, unknown>)[k], (b as Record<string, unknown>)?.[k], `${path}.${k}`, out);
  } else if (a !== b) {
    throw new Error(`the two dialects' plans differ at ${path}`);
  }
}

function asTwin(s: Statement, clock = false): Twin {
  return {
    sql: s.sql,
    params: s.params,
    kind: s.kind,
    ...(s.kind === 'insertRows' ? { insert: { table: s.data.table, columns: s.data.columns } } : {}),
    ...(clock ? { clock } : {}),
  };
}

export function detectionTwins(params: DetectionParams, warehouse: { readonly database: string; readonly schema: string }): TwinLookup {
  const sf = sqlDialect('snowflake');
  const dd = sqlDialect('duckdb');
  const clockSf = clockStatement(sf, params.asOf);
  const clockDd = clockStatement(dd, params.asOf);
  const naive = params.asOf?.kind === 'naive' ? params.asOf.clock : undefined;
  const byClock = new Map<string, Map<string, Twin>>();

  const plan = (T: string): Map<string, Twin> => {
    let m = byClock.get(T);
    if (m) return m;
    const p = { ...params, clock: T, ...warehouse };
    const found: Array<[Statement, Statement]> = [];
    pairs(detectionPlan(sf, p), detectionPlan(dd, p), 'plan', found);
    m = new Map();
    for (const [s, d] of found) {
      const twin = asTwin(d);
      const seen = m.get(s.sql);
      if (seen && seen.sql !== twin.sql) throw new Error(`one Snowflake statement, two DuckDB twins: ${s.sql.split('\n')[0]}`);
      m.set(s.sql, twin);
    }
    byClock.set(T, m);
    return m;
  };

  return {
    setup: dd.sessionSetup,
    clockFrom: normaliseClock,
    twin(sql, clock) {
      if (clockSf && clockDd && sql === clockSf.sql) return asTwin(clockDd, true);
      const T = clock ?? naive;
      return T === undefined ? undefined : plan(T).get(sql);
    },
  };
}
