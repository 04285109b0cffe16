// PostgreSQL (operations.md, "Preflight checks"): the server version; what the job's role may do
// (select, insert and update the conflict tables, update settings, take the advisory lock, create
// temporary tables), checked without changing data; the indexes of sync.md (a missing one is a
// warning: the job runs without it, only slower).
import type pg from 'pg';
import { errorMessage, oneLine } from '../../errors.js';
import { formatCount } from '../../log.js';
import { TARGET_TABLES } from '../../schema/columns.js';
import { postgresText } from '../../sqlText.js';
import { INDEXES, missingIndexes } from '../../target/initDb.js';
import { tryLock, unlock } from '../../target/lock.js';
import type { Preflight } from './check.js';

const AREA = 'PostgreSQL';
const { ident, qualified } = postgresText;

/** The oldest server the job's SQL runs on (hashtextextended for the advisory lock: 11). */
const MIN_SERVER_VERSION = 110000;

/** What the job does to each table: sync.md (conflict tables, settings."InProgressFlag") and detection.md (reference data). */
const NEEDED: ReadonlyArray<{ table: string; privileges: readonly string[]; column?: string }> = [
  { table: 'conflictvisitmaps', privileges: ['SELECT', 'INSERT', 'UPDATE'] },
  { table: 'conflicts', privileges: ['SELECT', 'INSERT', 'UPDATE'] },
  { table: 'settings', privileges: ['SELECT'] },
  { table: 'settings', privileges: ['UPDATE'], column: 'InProgressFlag' },
  { table: 'excluded_agency', privileges: ['SELECT'] },
  { table: 'excluded_ssn', privileges: ['SELECT'] },
  { table: 'mph', privileges: ['SELECT'] },
];

const COUNTED = ['settings', 'excluded_agency', 'excluded_ssn', 'mph', 'conflictvisitmaps'] as const;

export async function checkPostgres(client: pg.Client, schema: string, pf: Preflight): Promise<void> {
  const who = await client.query<{ role: string; db: string }>('SELECT current_user AS role, current_database() AS db');
  const { role, db } = who.rows[0];

  await pf.guard(AREA, 'server version', `PostgreSQL ${MIN_SERVER_VERSION / 10000} or later`, 'check the connection', async () => {
    const r = await client.query<{ num: string; version: string }>(
      `SELECT current_setting('server_version_num') AS num, current_setting('server_version') AS version`,
    );
    const { num, version } = r.rows[0];
    pf.expect(
      AREA,
      'server version',
      Number(num) >= MIN_SERVER_VERSION
        ? undefined
        : { expected: `PostgreSQL ${MIN_SERVER_VERSION / 10000} or later`, found: version, action: 'upgrade the server (the advisory lock uses hashtextextended)' },
      `PostgreSQL ${version}`,
    );
  });

  const schemaState = await checkSchema(client, schema, role, pf);
  if (schemaState === 'usable') {
    const present = await presentTables(client, schema);
    await listTables(client, schema, present, pf);
    await checkPrivileges(client, schema, role, present, pf);
    if (present.has('conflictvisitmaps')) await checkIndexes(client, schema, pf);
  }
  await checkTempTables(client, role, db, pf);
  await checkLock(client, schema, pf);
}

async function checkSchema(client: pg.Client, schema: string, role: string, pf: Preflight): Promise<'missing' | 'no usage' | 'usable'> {
  const r = await client.query<{ exists: boolean; usage: boolean | null }>(
    `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS exists,
            CASE WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) THEN has_schema_privilege($1, 'USAGE') END AS usage`,
    [schema],
  );
  const { exists, usage } = r.rows[0];
  if (!exists) {
    pf.warn(AREA, `schema ${schema}`, { expected: 'the schema', found: 'no such schema', action: 'run init_db (it creates the schema and its tables)' });
    return 'missing';
  }
  pf.expect(
    AREA,
    `schema ${schema}: USAGE`,
    usage ? undefined : { expected: 'USAGE', found: `no USAGE for role ${role}`, action: `GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(role)}` },
  );
  return usage ? 'usable' : 'no usage';
}

async function presentTables(client: pg.Client, schema: string): Promise<Set<string>> {
  const r = await client.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return new Set(r.rows.map((x) => x.table_name));
}

/** The schema's tables and the row counts of the reference tables; a missing or empty one is a warning. */
async function listTables(client: pg.Client, schema: string, present: Set<string>, pf: Preflight): Promise<void> {
  pf.ok(AREA, `schema ${schema} tables`, present.size ? [...present].join(', ') : 'none');
  for (const table of Object.keys(TARGET_TABLES)) {
    if (!present.has(table)) {
      pf.warn(AREA, `table ${schema}.${table}`, { expected: 'the table', found: 'missing', action: 'run init_db (it creates the missing tables)' });
    }
  }
  for (const table of COUNTED) {
    if (!present.has(table)) continue;
    try {
      const r = await client.query<{ n: string }>(`SELECT count(*)::bigint AS n FROM ${qualified(schema, table)}`);
      const n = Number(r.rows[0]?.n ?? 0);
      if (n === 0 && table === 'settings') {
        pf.warn(AREA, `table ${schema}.settings rows`, { expected: '1 row (ExtraDistancePer)', found: '0 rows', action: 'run init_db (it creates the row with ExtraDistancePer 1.25), or insert it' });
      } else if (n === 0 && table === 'mph') {
        pf.warn(AREA, `table ${schema}.mph rows`, { expected: 'MPH bands', found: '0 rows', action: 'run init_db (default bands) or insert your own: without a band rule 7 never fires' });
      } else {
        pf.ok(AREA, `table ${schema}.${table} rows`, `${formatCount(n)} rows`);
      }
    } catch {
      // no SELECT: the privilege check says so
    }
  }
}

/** has_table_privilege / has_column_privilege / has_sequence_privilege: nothing is changed. */
async function checkPrivileges(client: pg.Client, schema: string, role: string, present: Set<string>, pf: Preflight): Promise<void> {
  for (const need of NEEDED) {
    if (!present.has(need.table)) continue;
    const name = qualified(schema, need.table);
    for (const privilege of need.privileges) {
      const on = need.column ? `${need.table}.${ident(need.column)}` : need.table;
      const r = need.column
        ? await client.query<{ ok: boolean }>('SELECT has_column_privilege($1, $2, $3) AS ok', [name, need.column, privilege])
        : await client.query<{ ok: boolean }>('SELECT has_table_privilege($1, $2) AS ok', [name, privilege]);
      const grant = need.column ? `GRANT ${privilege} (${ident(need.column)}) ON ${name} TO ${ident(role)}` : `GRANT ${privilege} ON ${name} TO ${ident(role)}`;
      pf.expect(
        AREA,
        `${privilege} on ${schema}.${on}`,
        r.rows[0].ok ? undefined : { expected: `${privilege} for role ${role}`, found: 'not granted', action: grant },
      );
    }
  }
  // New conflicts get ids from the sequence behind conflicts.CONFLICTID; the job moves it past the ids it used (setval).
  if (present.has('conflicts')) {
    const table = qualified(schema, 'conflicts');
    const r = await client.query<{ seq: string | null }>('SELECT pg_get_serial_sequence($1, $2) AS seq', [table, 'CONFLICTID']);
    const seq = r.rows[0]?.seq;
    if (seq) {
      const p = await client.query<{ read: boolean; update: boolean }>(
        `SELECT has_sequence_privilege($1, 'USAGE, SELECT') AS read, has_sequence_privilege($1, 'UPDATE') AS update`,
        [seq],
      );
      const missing = [p.rows[0].read ? '' : 'USAGE', p.rows[0].update ? '' : 'UPDATE'].filter(Boolean);
      pf.expect(
        AREA,
        `sequence ${seq} (conflicts.CONFLICTID)`,
        missing.length ? { expected: 'USAGE and UPDATE', found: `no ${missing.join(', ')}`, action: `GRANT USAGE, UPDATE ON SEQUENCE ${seq} TO ${ident(role)}` } : undefined,
      );
    }
  }
}

/** A temporary table created in a transaction that is rolled back. */
async function checkTempTables(client: pg.Client, role: string, db: string, pf: Preflight): Promise<void> {
  const check = 'create temporary tables';
  const action = `GRANT TEMPORARY ON DATABASE ${ident(db)} TO ${ident(role)} (the job stages detected rows in temporary tables)`;
  try {
    await client.query('BEGIN');
    try {
      await client.query('CREATE TEMPORARY TABLE conflict_updater_preflight (n int) ON COMMIT DROP');
      pf.ok(AREA, check);
    } finally {
      await client.query('ROLLBACK');
    }
  } catch (err) {
    pf.fail(AREA, check, { expected: `role ${role} may create temporary tables in database ${db}`, found: oneLine(errorMessage(err)), action });
  }
}

/** The run's advisory lock, taken and released at once. */
async function checkLock(client: pg.Client, schema: string, pf: Preflight): Promise<void> {
  const check = `advisory lock of schema ${schema}`;
  try {
    if (await tryLock(client, schema)) {
      await unlock(client, schema);
      pf.ok(AREA, check, 'taken and released');
    } else {
      pf.warn(AREA, check, {
        expected: 'the lock free',
        found: 'held by another session (a run in progress?)',
        action: 'a run started now would be skipped (exit 3); wait for the other run to end',
      });
    }
  } catch (err) {
    pf.fail(AREA, check, { expected: 'pg_try_advisory_lock allowed', found: oneLine(errorMessage(err)), action: `GRANT EXECUTE ON FUNCTION pg_try_advisory_lock(bigint), pg_advisory_unlock(bigint) TO the job's role` });
  }
}

async function checkIndexes(client: pg.Client, schema: string, pf: Preflight): Promise<void> {
  const missing = await missingIndexes(client, schema);
  const missingNames = new Set(missing.map((m) => m.name));
  for (const idx of INDEXES) {
    const what = `index on ${schema}.conflictvisitmaps (${idx.columns.map(ident).join(', ')})${idx.where ? ' partial on InService/PTO dates NULL' : ''}`;
    if (!missingNames.has(idx.name)) pf.ok(AREA, what);
    else {
      pf.warn(AREA, what, {
        expected: 'an index on these columns',
        found: 'none',
        action: `run init_db: it creates ${idx.name} (without it the job runs correctly, only slower)`,
      });
    }
  }
}
