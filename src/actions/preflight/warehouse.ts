// Warehouse access (operations.md, "Preflight checks"): every table and column of
// warehouse-columns.tsv readable (a zero-row read) with a type the job can use, the pinned
// session settings in effect, a temporary table created, filled with bound rows and dropped,
// and the session's time zone and current time.
import { createTempTable, type Ctx } from '../../detection/context.js';
import type { SqlDialect } from '../../detection/dialect/index.js';
import { WAREHOUSE_COLUMNS, type WarehouseColumn } from '../../schema/columns.js';
import { sessionSettings } from '../../warehouse/snowflake.js';
import type { WarehouseSession, WarehouseValue } from '../../warehouse/warehouse.js';
import type { Preflight } from './check.js';
import { probeContext, show } from './semantics.js';

const AREA = 'warehouse access';

export interface WarehouseTarget {
  readonly database: string;
  readonly schema: string;
  /** TIMEZONE as configured (unset: the session keeps its own). */
  readonly timezone: string | undefined;
  /** The query tag the session was opened with (Snowflake). */
  readonly queryTag: string | undefined;
}

/** What the job reads a column as, from its Snowflake type in warehouse-columns.tsv. */
type Kind = 'text' | 'boolean' | 'integer' | 'number' | 'timestamp';

function kindOf(c: WarehouseColumn): Kind {
  const t = c.snowflakeType;
  if (t === 'VARCHAR') return 'text';
  if (t === 'BOOLEAN') return 'boolean';
  if (t === 'FLOAT') return 'number';
  if (t.startsWith('TIMESTAMP')) return 'timestamp';
  if (/^NUMBER\(\d+,0\)$/.test(t)) return 'integer';
  throw new Error(`warehouse-columns: no usable types known for ${t}`);
}

/**
 * Whether a column of the engine's type `found` (information_schema DATA_TYPE, scale) can be read
 * as `c`: the same values compare and convert the same way. Timestamps must be naive
 * (TIMESTAMP_NTZ / TIMESTAMP): with a zone the lookback and the rules would shift.
 */
export function usableType(c: WarehouseColumn, found: string, scale: number | null): boolean {
  const t = found.toUpperCase().replace(/\(.*$/, '').trim();
  const dateToo = c.duckdbType.includes('or DATE') && t === 'DATE';
  switch (kindOf(c)) {
    case 'text':
      return ['TEXT', 'VARCHAR', 'STRING', 'CHAR', 'CHARACTER'].includes(t);
    case 'boolean':
      return t === 'BOOLEAN';
    case 'integer':
      return ['BIGINT', 'INTEGER', 'SMALLINT', 'TINYINT', 'HUGEINT', 'UBIGINT', 'UINTEGER', 'USMALLINT', 'UTINYINT'].includes(t) ||
        (['NUMBER', 'DECIMAL', 'NUMERIC'].includes(t) && (scale ?? 0) === 0);
    case 'number':
      return ['FLOAT', 'DOUBLE', 'REAL', 'NUMBER', 'DECIMAL', 'NUMERIC', 'BIGINT', 'INTEGER'].includes(t);
    case 'timestamp':
      return dateToo || ['TIMESTAMP_NTZ', 'TIMESTAMP', 'TIMESTAMP_NS', 'TIMESTAMP_MS', 'TIMESTAMP_S', 'DATETIME'].includes(t);
  }
}

/**
 * The information_schema query of the columns of `schema` (the catalog named per engine). The job
 * names database and schema unquoted (plain identifiers, any case): compared case-insensitively.
 */
function columnsQuery(d: SqlDialect, database: string): string {
  const from = d.name === 'snowflake' ? `${database}.INFORMATION_SCHEMA.COLUMNS` : 'INFORMATION_SCHEMA.COLUMNS';
  return (
    `SELECT TABLE_NAME AS "table", COLUMN_NAME AS "column", DATA_TYPE AS "type", NUMERIC_SCALE AS "scale" ` +
    `FROM ${from} WHERE UPPER(TABLE_CATALOG) = UPPER(?) AND UPPER(TABLE_SCHEMA) = UPPER(?)`
  );
}

const GRANT =
  'grant the job\'s role SELECT on it (Snowflake: GRANT SELECT ON <table> TO ROLE <role>, with USAGE on the database and schema), or point SNOWFLAKE_DATABASE / SNOWFLAKE_SCHEMA at the schema that holds it';

/** Every table and column of warehouse-columns.tsv: present, of a usable type, readable (zero rows). */
async function checkColumns(wh: WarehouseSession, x: Ctx, t: WarehouseTarget, pf: Preflight): Promise<void> {
  const d = x.d;
  const found = new Map<string, { type: string; scale: number | null }>();
  await pf.guard(AREA, `columns of ${t.database}.${t.schema} (information_schema)`, 'the column list', GRANT, async () => {
    for (const r of await wh.query(columnsQuery(d, t.database), [t.database, t.schema])) {
      const scale = r.scale === null || r.scale === undefined ? null : Number(r.scale);
      found.set(`${String(r.table)}\u0000${String(r.column)}`, { type: String(r.type), scale });
    }
  });
  const tables = [...new Set(WAREHOUSE_COLUMNS.map((c) => c.table))];
  for (const table of tables) {
    const columns = WAREHOUSE_COLUMNS.filter((c) => c.table === table);
    const name = `${t.schema}.${table}`;
    if (!columns.some((c) => found.has(`${table}\u0000${c.column}`))) {
      pf.fail(AREA, `table ${name}`, {
        expected: `a table with ${columns.length} columns`,
        found: 'no such table (or not visible to the job\'s role)',
        action: `create it, or ${GRANT}`,
      });
      continue;
    }
    let bad = 0;
    for (const c of columns) {
      const f = found.get(`${table}\u0000${c.column}`);
      const want = d.name === 'snowflake' ? c.snowflakeType : c.duckdbType;
      const what = `column ${name}.${d.text.ident(c.column)}`;
      if (!f) {
        bad++;
        pf.fail(AREA, what, {
          expected: `a column of type ${want}`,
          found: 'no such column (or not visible to the job\'s role)',
          action: `add the column to ${name} (warehouse-columns.tsv lists every column the job reads), or ${GRANT}`,
        });
      } else if (!usableType(c, f.type, f.scale)) {
        bad++;
        pf.fail(AREA, what, {
          expected: want,
          found: f.type,
          action: `give ${name}.${d.text.ident(c.column)} the type ${want} (a view can cast it), so the job reads its values as specified`,
        });
      }
    }
    // The zero-row read: the role may read the columns the job reads (those present; the missing ones failed above).
    const present = columns.filter((c) => found.has(`${table}\u0000${c.column}`));
    const sql = `SELECT ${present.map((c) => d.text.ident(c.column)).join(', ')} FROM ${x.tbl(table)} WHERE 1 = 0`;
    await pf.guard(AREA, `table ${name} readable`, `a zero-row read of its ${present.length} columns`, GRANT, async () => {
      await wh.query(sql);
      if (bad === 0) pf.ok(AREA, `table ${name} readable`, `${columns.length} columns of usable types`);
    });
  }
}

/** The session's parameters by upper-case name (Snowflake: SHOW PARAMETERS; DuckDB: the settings read back). */
async function sessionParameters(wh: WarehouseSession, d: SqlDialect): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (d.name === 'snowflake') {
    for (const r of await wh.query('SHOW PARAMETERS IN SESSION')) {
      const key = r.key ?? r.KEY;
      const value = r.value ?? r.VALUE;
      if (key !== null && key !== undefined) out.set(String(key).toUpperCase(), value === null || value === undefined ? '' : String(value));
    }
  } else {
    const rows = await wh.query(`SELECT current_setting('TimeZone') AS "tz"`);
    out.set('TIMEZONE', String(rows[0]?.tz ?? ''));
  }
  return out;
}

/** The settings the job pins, as text: Snowflake's sessionSettings() and the query tag; DuckDB its zone. */
function pinned(d: SqlDialect, t: WarehouseTarget): Array<[string, string]> {
  if (d.name === 'duckdb') return t.timezone ? [['TIMEZONE', t.timezone]] : [];
  const out: Array<[string, string]> = sessionSettings(t.timezone).map((s) => [s.name, String(s.value)]);
  if (t.queryTag) out.push(['QUERY_TAG', t.queryTag]);
  return out;
}

async function checkSettings(wh: WarehouseSession, d: SqlDialect, t: WarehouseTarget, pf: Preflight): Promise<Map<string, string>> {
  let params = new Map<string, string>();
  const action = "the session did not keep the value the job sets at login: remove the policy or parameter that overrides it for the job's user (results would be wrong), or send this line to the developers";
  await pf.guard(AREA, 'session settings', 'the pinned session settings', action, async () => {
    params = await sessionParameters(wh, d);
    for (const [name, value] of pinned(d, t)) {
      const got = params.get(name);
      // Booleans come back as `false`/`FALSE`; every other value exactly as set.
      const same = got !== undefined && (/^(true|false)$/i.test(value) ? got.toLowerCase() === value.toLowerCase() : got === value);
      pf.expect(AREA, `session setting ${name}`, same ? undefined : { expected: show(value), found: got === undefined ? 'not set' : show(got), action }, show(value));
    }
  });
  return params;
}

const PROBE_TABLE = 'conflict_updater_preflight';

/** A temporary table created, filled with bound rows (the way step 0 loads excluded SSNs), read back and dropped. */
async function checkTempTable(wh: WarehouseSession, x: Ctx, pf: Preflight): Promise<void> {
  const rows: Array<[string, number]> = [
    ['123-45-6789', 1],
    ['\t123-45-6789\u00a0', 2],
    ["O'Brien \"x\" \\ ;", 3],
  ];
  const check = 'temporary table created, filled with bound rows, read back and dropped';
  const action =
    'grant the job\'s role the right to create temporary tables in the schema (Snowflake: USAGE on the database and schema; temporary tables need no CREATE TABLE grant, but a managed-access schema or a restricted role may refuse them)';
  await pf.guard(AREA, check, `${rows.length} rows read back as bound`, action, async () => {
    await wh.execute(createTempTable(x, PROBE_TABLE, [['ssn', 'VARCHAR'], ['n', x.d.doubleType]]));
    try {
      await wh.insertRows(PROBE_TABLE, ['ssn', 'n'], rows);
      const back = await wh.query(`SELECT "ssn", "n" FROM ${PROBE_TABLE} ORDER BY "n"`);
      const got = back.map((r) => [r.ssn, Number(r.n)] as [WarehouseValue, number]);
      const same = got.length === rows.length && got.every(([s, n], i) => s === rows[i][0] && n === rows[i][1]);
      pf.expect(
        AREA,
        check,
        same ? undefined : { expected: rows.map(([s]) => show(s)).join(', '), found: got.map(([s]) => (typeof s === 'string' ? show(s) : String(s))).join(', '), action: 'the warehouse changed bound values on the way in or out: send this line to the developers' },
        `${rows.length} rows`,
      );
    } finally {
      await wh.execute(`DROP TABLE IF EXISTS ${PROBE_TABLE}`);
    }
  });
}

/** The session's time zone and current time: T unless AS_OF is set (detection.md, "The run's clock"). */
async function checkClock(wh: WarehouseSession, d: SqlDialect, params: Map<string, string>, pf: Preflight): Promise<void> {
  await pf.guard(AREA, 'session time zone and current time', 'the session\'s current time', 'check the warehouse connection', async () => {
    const rows = await wh.query(d.clockNowQuery());
    pf.ok(AREA, 'session time zone and current time', `time zone ${params.get('TIMEZONE') || 'unknown'}, current time ${String(rows[0]?.t)}`);
  });
}

export async function checkWarehouseAccess(wh: WarehouseSession, d: SqlDialect, t: WarehouseTarget, pf: Preflight): Promise<void> {
  // The context the steps are written against (table names, temp-table DDL); its clock is unused.
  const x = probeContext(d, t.database, t.schema, '2000-01-01 00:00:00');
  await checkColumns(wh, x, t, pf);
  const params = await checkSettings(wh, d, t, pf);
  await checkTempTable(wh, x, pf);
  await checkClock(wh, d, params, pf);
}
