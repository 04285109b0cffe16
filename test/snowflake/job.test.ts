// The whole job (init_db, task02_00_run_conflict_update) through the real program with Snowflake as
// the warehouse: the local stand-in answers detection's statements with canned results (it runs
// no SQL), PostgreSQL is the test server. What this checks is the Snowflake path end to end: one
// login, every statement in one session and in order, the excluded SSNs bound as data, the
// streamed results converted and written by sync, the session logged out, exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DETECTED_COLUMNS } from '../../src/schema/columns.js';
import { cleanEnv, BIN, ROOT, runCli } from '../helpers/cli.js';
import { dropSchema, testClient, testPostgresEnv, uniqueSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/tmp.js';
import { until } from '../helpers/wait.js';
import { col, type ColumnSpec, type SnowflakeStandIn, type WireValue } from '../helpers/snowflakeStandIn.js';
import { loginEnv, standIn } from './fixtures.js';

const havePostgres = Boolean(process.env.TEST_POSTGRES_URL);
const schema = uniqueSchema('sfjob');
const reports = tempDir('cu-sf-job-');
let si: SnowflakeStandIn;

const SSN = '123-45-6789';
const V1 = '0b6a4f5e-8f0c-4b8e-9a51-2f5a1c3d4e01';
const V2 = '0b6a4f5e-8f0c-4b8e-9a51-2f5a1c3d4e02';

/** A detected row as Snowflake's result would carry it (the SELECT casts ids and times to text). */
function detected(v1: string, v2: string): { columns: ColumnSpec[]; row: WireValue[] } {
  const columns: ColumnSpec[] = [];
  const row: WireValue[] = [];
  for (const c of DETECTED_COLUMNS) {
    const con = c.name.startsWith('Con');
    const side = con ? v2 : v1;
    const n = side === V1 ? 1 : 2;
    let value: WireValue;
    let type: ColumnSpec['type'] = 'text';
    const len = Number(/varchar\((\d+)\)/.exec(c.pgType)?.[1] ?? 0);
    if (c.pgType === 'uuid') {
      value = /VisitID$/.test(c.name) ? side : `00000000-0000-4000-8000-${String(DETECTED_COLUMNS.indexOf(c) * 10 + n).padStart(12, '0')}`;
      if (/ProviderID$/.test(c.name)) value = `00000000-0000-4000-8000-00000000000${n}`;
    } else if (c.pgType === 'int8') value = String(1000 + n);
    else if (c.pgType === 'date') value = '2026-02-14';
    else if (c.pgType === 'timestamp') value = n === 1 ? '2026-02-14 09:00:00' : '2026-02-14 09:30:00';
    else if (c.pgType === 'real') {
      type = 'real';
      value = '1.5';
    } else if (c.pgType === 'int4') {
      type = 'fixed'; // CAST(.. AS INTEGER) is NUMBER(38,0) in Snowflake
      value = '0';
    } else if (c.pgType === 'bool') {
      type = 'boolean';
      value = '0';
    } else if (/Flag$/.test(c.name)) value = c.name === 'VisitTimeOverAnotherVisitTimeFlag' ? 'Y' : 'N';
    else if (c.name === 'SSN') value = SSN;
    else value = `${c.name}-${n}`.slice(0, Math.max(1, len));
    columns.push(col(c.name, type));
    row.push(value);
  }
  return { columns, row };
}

before(async () => {
  si = await standIn();
  const count = (names: string[], values: string[]) => ({
    columns: names.map((n) => col(n, 'fixed', { precision: 18 })),
    rows: [values],
  });
  si.on(/CURRENT_TIMESTAMP\(\)::TIMESTAMP_NTZ/, { columns: [col('t', 'text')], rows: [['2026-02-14 06:00:00.000000']] });
  si.on(/^SELECT COUNT\(\*\) AS "groups"/, count(['groups', 'ssns', 'dates', 'changed'], ['1', '1', '1', '2']));
  si.on(/^SELECT COUNT\(\*\) AS "pair_groups"/, count(['pair_groups', 'pair_visits'], ['1', '2']));
  si.on(/^SELECT COUNT\(\*\) AS "rows"/, count(['rows', 'candidates', 'dropped', 'gps_bad'], ['2', '2', '0', '0']));
  si.on(/^SELECT \(SELECT COUNT\(\*\) FROM cu_open_ids\) AS "ids"/, count(['ids', 'groups'], ['0', '0']));
  si.on(/^SELECT k\."ssn" AS "SSN", LISTAGG\(/, { columns: [col('SSN', 'text'), col('VisitDates', 'text')], rows: [[SSN, '2026-02-14']] });
  si.on(/^SELECT LISTAGG\(s\."VisitID", ','\) AS "VisitIDs"/, { columns: [col('VisitIDs', 'text')], rows: [[V1]] });
  const a = detected(V1, V2);
  const b = detected(V2, V1);
  si.on(/^SELECT CAST\(v1\."SSN" AS VARCHAR\) AS "SSN"/, { columns: a.columns, rows: [a.row, b.row] });
});
after(async () => {
  await si.close();
  if (havePostgres) await dropSchema(schema);
});

test('task02_00_run_conflict_update on Snowflake (stand-in): one session, statements in order, conflicts written', { skip: havePostgres ? false : 'needs TEST_POSTGRES_URL (npm test starts one)' }, async () => {
  const env = {
    ...testPostgresEnv(schema),
    ...loginEnv(si.url),
    TIMEZONE: 'America/New_York',
    RUN_REPORT_PATH: join(reports, 'run.json'),
  };
  assert.equal((await runCli(['init_db'], env)).code, 0);
  const c = await testClient();
  try {
    await c.query(`INSERT INTO "${schema}".excluded_ssn ("SSN") VALUES ('999-99-9999'), (' 888-88-8888 ')`);
  } finally {
    await c.end();
  }
  const r = await runCli(['task02_00_run_conflict_update'], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Clock T = 2026-02-14 06:00:00/);
  assert.match(r.stdout, /Status: completed/);

  assert.equal(si.logins.length, 1, 'one login');
  const tokens = new Set(si.statements.map((s) => s.sessionToken));
  assert.equal(tokens.size, 1, 'every statement in the one session');
  assert.ok(si.logouts.some((l) => tokens.has(l.sessionToken)), 'logged out');
  const sqls = si.statements.map((s) => s.sql);
  assert.equal(sqls[0], 'ALTER SESSION SET CLIENT_RESULT_CHUNK_SIZE = 16', 'result chunks as small as Snowflake makes them, first');
  const clock = sqls.findIndex((s) => /CURRENT_TIMESTAMP\(\)::TIMESTAMP_NTZ/.test(s));
  assert.ok(sqls.slice(0, clock).every((s) => s.startsWith('ALTER SESSION SET ')), 'the session settings come first (detection.md, "Session settings")');
  assert.ok(sqls.slice(0, clock).includes("ALTER SESSION SET TIMEZONE = 'America/New_York'"), 'the clock is read once, after the zone is set');
  assert.equal(sqls.filter((s) => /CURRENT_TIMESTAMP/.test(s)).length, 1);
  const insert = si.statements.find((s) => s.sql.startsWith('INSERT INTO cu_excluded_ssns'));
  assert.ok(insert, 'excluded SSNs inserted');
  assert.deepEqual((insert.bindings?.['1']?.value as string[]).sort(), ['888-88-8888', '999-99-9999'], 'bound as data, trimmed');
  for (const s of si.statements) assert.match(String(s.parameters?.QUERY_TAG), /^conflict-updater task02_00_run_conflict_update run [0-9a-f-]{36}$/);

  const c2 = await testClient();
  try {
    const rows = (await c2.query(`SELECT "VisitID", "ConVisitID", "SSN", "VisitTimeOverAnotherVisitTimeFlag" FROM "${schema}".conflictvisitmaps ORDER BY "VisitID"`)).rows;
    assert.deepEqual(
      rows.map((x) => [x.VisitID, x.ConVisitID, x.SSN, x.VisitTimeOverAnotherVisitTimeFlag]),
      [
        [V1, V2, SSN, 'Y'],
        [V2, V1, SSN, 'Y'],
      ],
    );
  } finally {
    await c2.end();
  }
});

test('SIGTERM during a Snowflake statement: cancelled on the server, session closed, exit 143 within 20 s', { skip: havePostgres ? false : 'needs TEST_POSTGRES_URL (npm test starts one)' }, async () => {
  const s2 = uniqueSchema('sfterm');
  const stuck = await standIn();
  try {
    stuck.on(/CURRENT_TIMESTAMP\(\)::TIMESTAMP_NTZ/, { columns: [col('t', 'text')], rows: [['2026-02-14 06:00:00.000000']] });
    stuck.on(/^SELECT COUNT\(\*\) AS "groups"/, { columns: ['groups', 'ssns', 'dates', 'changed'].map((n) => col(n, 'fixed')), rows: [['1', '1', '1', '1']] });
    stuck.on(/^SELECT COUNT\(\*\) AS "pair_groups"/, { columns: ['pair_groups', 'pair_visits'].map((n) => col(n, 'fixed')), rows: [['1', '2']] });
    stuck.on(/^CREATE OR REPLACE TEMPORARY TABLE cu_base_visits/, { hang: true }); // a long step 2
    const env = {
      ...testPostgresEnv(s2),
      ...loginEnv(stuck.url),
      RUN_REPORT_PATH: join(reports, 'stopped.json'),
    };
    assert.equal((await runCli(['init_db'], env)).code, 0);
    const child = spawn(process.execPath, [BIN, 'task02_00_run_conflict_update'], { cwd: ROOT, env: cleanEnv(env) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const running = await until(() => `step 2a to reach the stand-in\n${out}`, () => stuck.statements.find((s) => s.sql.startsWith('CREATE OR REPLACE TEMPORARY TABLE cu_base_visits')));
    assert.ok(running, `the run reached step 2a\n${out}`);
    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await closed;
    assert.equal(code, 143, out);
    assert.ok(Date.now() - t0 < 20_000);
    assert.deepEqual(stuck.aborts.map((a) => a.requestId), [running.requestId], 'the running statement was aborted on the server');
    assert.ok(stuck.logouts.some((l) => l.sessionToken === running.sessionToken), 'the session was logged out');
    assert.match(out, /Cancelling the running Snowflake statement: CREATE OR REPLACE TEMPORARY TABLE cu_base_visits AS/);
    assert.match(out, /Status: stopped/);
  } finally {
    await stuck.close();
    await dropSchema(s2);
  }
});
