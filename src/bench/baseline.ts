// Engine baselines, measured in the same bench run (performance.md):
// - DuckDB: the job's own statements (detectionStatements) in a fresh session opened the way the
//   job opens it, in a process of its own (so its memory is measured apart from the job's); the
//   open rows' keys the job would send, read from the target the same way (openRows.ts); the
//   streamed results (affected groups, scope visit ids, the conflicts query) as
//   `COPY (…) TO '/dev/null'`, which materialises every column and sends it nowhere.
// - PostgreSQL: `COPY … FROM STDIN` of the same rows into an empty temporary table, from files
//   exported once. The detected rows are the COPY text of their values, as the job sends a row
//   the precheck vouches for (without its empty `raw` field), into text columns: performance.md's
//   plain COPY, where the job's staging table parses them into their types.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, renameSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadConfig } from '../config/config.js';
import { detectionStatements, type Statement } from '../detection/detection.js';
import { TEMP as WAREHOUSE_TEMP } from '../detection/names.js';
import type { OpenKeys } from '../detection/types.js';
import { createLogger } from '../log.js';
import { DETECTED_NAMES } from '../sync/columns.js';
import { copyLine } from '../sync/copy.js';
import { readReferenceData } from '../target/referenceData.js';
import { syncDb, targetTables } from '../sync/db.js';
import { snapshotOpenRows } from '../sync/openRows.js';
import { affectedGroupsLine, scopeIdLines } from '../sync/stage.js';
import { openTarget } from '../target/postgres.js';
import { postgresIdent as quoteIdent } from '../sqlText.js';
import { openDuckDb } from '../warehouse/duckdb.js';
import type { WarehouseSession } from '../warehouse/warehouse.js';
import { duckdbPreload, jobEnv, programArgs, ROOT, type JobRunInput, type Program } from './job.js';
import { procStatus } from './memory.js';
import { paramsFromTarget } from './targetReference.js';

export interface ExportFiles {
  /** The detected rows as the job's staging COPY sends them: `rn \t value…` in the text format. */
  readonly detected: string;
  /** The affected groups, one `SSN \t {dates}` line per SSN. */
  readonly groups: string;
  /** The scope visit ids, one per line. */
  readonly scope: string;
}

export interface DuckDbBaseline {
  /** Seconds per detection step name (the job's step names). */
  readonly seconds: Record<string, number>;
  readonly rows: Record<string, number>;
  /** Peak RSS of the process that ran them, MB (DuckDB plus an idle Node.js). */
  readonly peakRssMb: number;
  /** RSS of that process before the first statement, MB (Node.js and the loaded DuckDB library). */
  readonly idleRssMb: number;
}

interface WorkerSpec {
  readonly env: Record<string, string | undefined>;
  readonly exports: ExportFiles | undefined;
  readonly out: string;
}

const STREAM_COPY = (sql: string) => `COPY (${sql}) TO '/dev/null' (FORMAT csv)`;

/** Runs the DuckDB baseline in a child process (`bench --worker duckdb-baseline FILE`). */
export async function duckdbBaseline(
  input: Omit<JobRunInput, 'reportPath' | 'logPath'> & { specPath: string; exports: ExportFiles | undefined },
  program: Program,
): Promise<DuckDbBaseline> {
  const out = `${input.specPath}.result.json`;
  const env = jobEnv({ ...input, reportPath: '/dev/null', logPath: '/dev/null' });
  const spec: WorkerSpec = { env: env as Record<string, string | undefined>, exports: input.exports, out };
  await writeFile(input.specPath, JSON.stringify(spec));
  const child = spawn(process.execPath, programArgs(program, ['bench', '--worker', 'duckdb-baseline', input.specPath], duckdbPreload(input.duckdb)), {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...(env.BENCH_DUCKDB_SETTINGS ? { BENCH_DUCKDB_SETTINGS: env.BENCH_DUCKDB_SETTINGS } : {}) },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`the DuckDB baseline failed (exit ${code})`);
  return JSON.parse(await readFile(out, 'utf8')) as DuckDbBaseline;
}

async function exportStream(session: WarehouseSession, s: Statement, path: string, line: (row: unknown[], n: number) => string): Promise<number> {
  const tmp = `${path}.tmp`;
  const out = createWriteStream(tmp);
  let n = 0;
  for await (const batch of session.stream(s.sql, s.params, 5000)) {
    let chunk = '';
    for (const row of batch) chunk += line(row, ++n);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  renameSync(tmp, path);
  return n;
}

/** The worker: same configuration, same statements, same session setup as the job. */
export async function duckdbBaselineWorker(specPath: string): Promise<number> {
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as WorkerSpec;
  const config = loadConfig(spec.env);
  const log = createLogger({ level: 'WARNING' });
  // Reference data from the target, as the job reads it.
  const params = await paramsFromTarget(config, log);
  if (config.warehouse.kind !== 'duckdb') throw new Error('the DuckDB baseline needs DUCKDB_PATH');
  const asOf = config.asOf;
  if (asOf?.kind !== 'naive') throw new Error('the DuckDB baseline needs a naive AS_OF');
  const statements = detectionStatements('duckdb', {
    ...params,
    clock: asOf.clock,
    database: config.warehouse.database,
    schema: config.warehouse.schema,
  });
  // The open rows' keys, as the job takes them from the target (not timed: the job takes them
  // while the warehouse computes); sending them is timed, as in the job.
  const target = await openTarget(config.postgres, log);
  const client = await target.connect().catch(async (err: unknown) => {
    await target.close();
    throw err;
  });
  const keysOf: Record<string, keyof OpenKeys> = { [WAREHOUSE_TEMP.openIdsPacked]: 'ids', [WAREHOUSE_TEMP.openGroupsPacked]: 'groups' };
  const idleRssMb = procStatus(process.pid)?.rssMb ?? 0;
  let session: WarehouseSession | undefined;
  const seconds: Record<string, number> = {};
  const rows: Record<string, number> = {};
  const streams: Statement[] = [];
  try {
    const open = await snapshotOpenRows(syncDb(client), targetTables(config.postgres.schema), { groups: config.enableAsymmetricJoin });
    // In this process (not openWarehouse's child process): its peak RSS is DuckDB's.
    session = await openDuckDb(config.warehouse, { timezone: config.timezone, log });
    for (const s of statements) {
      const t0 = performance.now();
      if (s.kind === 'insertRows') {
        const keys = keysOf[s.data.table];
        if (!keys) await session.insertRows(s.data.table, s.data.columns, s.data.rows);
        else for await (const rows of open.keys[keys]()) if (rows.length) await session.insertRows(s.data.table, s.data.columns, rows);
      } else if (s.kind === 'stream') {
        streams.push(s);
        const n = await session.execute(STREAM_COPY(s.sql), s.params);
        rows[s.step] = n ?? 0;
      } else if (s.kind === 'query') {
        await session.query(s.sql, s.params);
      } else {
        await session.execute(s.sql, s.params);
      }
      seconds[s.step] = (seconds[s.step] ?? 0) + (performance.now() - t0) / 1000;
    }
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    // The files of the PostgreSQL baseline, once per cached warehouse (not timed).
    const ex = spec.exports;
    if (ex && !(existsSync(ex.detected) && existsSync(ex.groups) && existsSync(ex.scope))) {
      const [groups, scope, conflicts] = streams;
      // The bytes the job's COPY sends: a line (ssn, {dates}) per SSN, one scope id per line.
      await exportStream(session, groups, ex.groups, (r) => affectedGroupsLine(r[0], String(r[1])));
      await exportStream(session, scope, ex.scope, (r) => scopeIdLines(String(r[0])));
      await exportStream(session, conflicts, ex.detected, (r, n) => `${n}\t${copyLine(r)}`);
    }
    const result: DuckDbBaseline = { seconds, rows, peakRssMb, idleRssMb };
    await writeFile(spec.out, JSON.stringify(result));
  } finally {
    await session?.close();
    await client.end();
    await target.close();
  }
  return 0;
}

export interface PostgresBaseline {
  readonly seconds: { detected: number; groups: number; scope: number };
  readonly rows: { detected: number; groups: number; scope: number };
}

async function copyFile(c: pg.Client, sql: string, path: string): Promise<{ seconds: number; rows: number }> {
  const t0 = performance.now();
  const stream = c.query(copyFrom(sql));
  await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), stream);
  return { seconds: (performance.now() - t0) / 1000, rows: stream.rowCount };
}

/** COPY of the exported rows into empty temporary tables (text columns for the detected rows). */
export async function postgresBaseline(c: pg.Client, files: ExportFiles): Promise<PostgresBaseline> {
  // The job's staging session settings.
  await c.query(`SET temp_buffers = '256MB'`).catch(() => undefined);
  await c.query(`SET work_mem = '256MB'`);
  await c.query(`CREATE TEMPORARY TABLE b_stage (rn bigint, ${DETECTED_NAMES.map((n) => `${quoteIdent(n)} text`).join(', ')})`);
  await c.query(`CREATE TEMPORARY TABLE b_groups (ssn text, dates date[])`);
  await c.query(`CREATE TEMPORARY TABLE b_scope (id uuid)`);
  const d = await copyFile(c, 'COPY pg_temp.b_stage FROM STDIN', files.detected);
  const g = await copyFile(c, 'COPY pg_temp.b_groups FROM STDIN', files.groups);
  const s = await copyFile(c, 'COPY pg_temp.b_scope FROM STDIN', files.scope);
  await c.query('DROP TABLE pg_temp.b_stage, pg_temp.b_groups, pg_temp.b_scope');
  return { seconds: { detected: d.seconds, groups: g.seconds, scope: s.seconds }, rows: { detected: d.rows, groups: g.rows, scope: s.rows } };
}
