// The answers a Snowflake account that meets every assumption of the job gives to test_connections'
// preflight statements, registered on the local stand-in (which runs no SQL): the columns of
// warehouse-columns.tsv in INFORMATION_SCHEMA, zero-row reads, SHOW PARAMETERS from the session's
// real parameters (what the driver's ALTER SESSIONs set), the temporary table's rows read back
// from what the driver bound, and each semantics probe's known answer. `wrong` answers one probe
// otherwise, as an account whose engine behaves differently would.
import { semanticProbes, type Probe, type ProbeValue } from '../../src/actions/preflight/semantics.js';
import { snowflakeDialect } from '../../src/detection/dialect/snowflake.js';
import { WAREHOUSE_COLUMNS } from '../../src/schema/columns.js';
import { col, wire, type ColumnSpec, type RecordedStatement, type Reply, type SnowflakeStandIn, type WireValue } from '../helpers/snowflakeStandIn.js';

export interface WrongAnswer {
  /** A probe whose name includes this text (the first one). */
  probe: string;
  /** The answer it gets instead: column → value. */
  answer: Record<string, string | number | null>;
}

/** INFORMATION_SCHEMA.COLUMNS.DATA_TYPE and NUMERIC_SCALE of a Snowflake type of the tsv. */
function dataType(t: string): [string, number | null] {
  if (t === 'VARCHAR') return ['TEXT', null];
  const n = /^NUMBER\((\d+),(\d+)\)$/.exec(t);
  if (n) return ['NUMBER', Number(n[2])];
  return [t, null];
}

function cell(probe: Probe, v: ProbeValue | string | number | null): [ColumnSpec['type'], WireValue] {
  if (v === null) return ['text', null];
  if (typeof v === 'string') return ['text', wire.text(v)];
  if (typeof v === 'object') return ['real', wire.real(v.near)];
  // DATEDIFF gives NUMBER (the driver hands such numbers over as text); conversions give FLOAT.
  return probe.name.startsWith('minute') ? ['fixed', wire.fixed(v)] : ['real', wire.real(v)];
}

function bound(stmt: RecordedStatement): unknown[] {
  const b = stmt.bindings ?? {};
  return Object.keys(b)
    .sort((x, y) => Number(x) - Number(y))
    .map((k) => b[k].value);
}

export function answerPreflight(si: SnowflakeStandIn, opts: { wrong?: WrongAnswer } = {}): void {
  si.on(/INFORMATION_SCHEMA\.COLUMNS/, {
    columns: [col('table', 'text'), col('column', 'text'), col('type', 'text'), col('scale', 'fixed', { precision: 9 })],
    rows: WAREHOUSE_COLUMNS.map((c) => {
      const [type, scale] = dataType(c.snowflakeType);
      return [c.table, c.column, type, wire.fixed(scale)];
    }),
  });
  si.on(/ WHERE 1 = 0$/, { columns: [col('any', 'text')], rows: [] });
  si.on(/^SHOW PARAMETERS IN SESSION$/, (stmt): Reply => {
    const params = si.sessionParameters(stmt.sessionToken ?? '') ?? {};
    return {
      columns: ['key', 'value', 'default', 'level', 'description', 'type'].map((n) => col(n, 'text')),
      rows: Object.entries(params).map(([k, v]) => [k, String(v), '', 'SESSION', '', typeof v === 'boolean' ? 'BOOLEAN' : 'STRING']),
    };
  });
  // The temporary table's rows as the driver bound them in the INSERT before (array binding: one array per column).
  si.on(/^SELECT "ssn", "n" FROM conflict_updater_preflight/, (): Reply => {
    const insert = [...si.statements].reverse().find((s) => /^INSERT INTO conflict_updater_preflight/.test(s.sql));
    const [ssns, ns] = insert ? (bound(insert) as unknown[][]) : [[], []];
    return { columns: [col('ssn', 'text'), col('n', 'real')], rows: ssns.map((s, i) => [String(s), String(ns[i])]) };
  });
  si.on(/^SELECT TO_VARCHAR\(CURRENT_TIMESTAMP\(\)/, { columns: [col('t', 'text')], rows: [['2026-12-03 03:00:00.000000']] });

  const probes = semanticProbes(snowflakeDialect, 'ANALYTICS', 'BI');
  const wrong = opts.wrong && probes.find((p) => p.name.includes(opts.wrong!.probe));
  if (opts.wrong && !wrong) throw new Error(`no probe named like ${opts.wrong.probe}`);
  for (const sql of new Set(probes.map((p) => p.sql))) {
    si.on(
      (s) => s === sql,
      (stmt): Reply => {
        const params = JSON.stringify(bound(stmt));
        const probe = probes.find((p) => p.sql === sql && JSON.stringify(p.params) === params);
        if (!probe) return { error: { code: '002003', message: `stand-in: no probe with binds ${params}`, sqlState: '42S02' } };
        const answer: Record<string, ProbeValue | string | number | null> = probe === wrong ? opts.wrong!.answer : probe.expected;
        const cells = Object.values(answer).map((v) => cell(probe, v));
        return { columns: Object.keys(answer).map((name, i) => col(name, cells[i][0])), rows: [cells.map((c) => c[1])] };
      },
    );
  }
}
