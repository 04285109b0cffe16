// The real program as a child process (as ECS runs it), watched line by line, and what the
// reliability tests read back from PostgreSQL: checksums, the InProgressFlag, open conflicts.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Env } from '../../src/config/config.js';
import { TARGET_TABLES } from '../../src/schema/columns.js';
import { initDb } from '../../src/target/initDb.js';
import { postgresIdent as quoteIdent } from '../../src/sqlText.js';
import { BIN, cleanEnv, ROOT } from '../../test/helpers/cli.js';
import { testPostgresEnv, testPostgresUrl } from '../../test/helpers/pg.js';
import { tempDir as newTempDir } from '../../test/helpers/tmp.js';

export { until } from '../../test/helpers/wait.js';

export const JOB = 'task02_00_run_conflict_update';

let tmp: string | undefined;
/** A temporary directory for this test file, removed when the process exits. */
export function tempDir(): string {
  return (tmp ??= newTempDir('cu-rel-'));
}

/**
 * The program the tests run. By default src/ compiled once per test file (esbuild, file by file,
 * as tsx does at run time; under a second) and started as the container starts it, from
 * JavaScript: the same code as bin/conflict-updater.js runs in a checkout, without tsx's start-up
 * cost (~1.5 s a run, some seventy runs). RELIABILITY_PROGRAM=source runs bin/conflict-updater.js.
 */
let program: string[] | undefined;
function programArgs(): string[] {
  if (program) return program;
  if (process.env.RELIABILITY_PROGRAM === 'source') return (program = [BIN]);
  const out = join(tempDir(), 'program');
  const srcDir = join(ROOT, 'src');
  const files = readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(srcDir, f));
  // esbuild comes with tsx (the test runner's loader); spawned synchronously so that this stays sync.
  const build = `import('esbuild').then((e) => e.build(${JSON.stringify({ entryPoints: files, outdir: out, outbase: srcDir, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' })}))`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', build], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(join(out, 'cli.js'))) throw new Error(`compiling src/ for the tests failed: ${r.stderr}`);
  writeFileSync(join(out, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(ROOT, 'node_modules'), join(out, 'node_modules'));
  const bin = join(out, 'conflict-updater.mjs');
  // bin/conflict-updater.js, the compiled branch
  writeFileSync(bin, `const { main } = await import('./cli.js');\nconst code = await main(process.argv.slice(2));\nprocess.stdout.write('', () => process.exit(code));\n`);
  return (program = [bin]);
}

let reports = 0;
/** POSTGRES_* for `schema` on the server of `url` (default: the test server). */
export function postgresEnv(schema: string, url?: string): Env {
  if (!url) return testPostgresEnv(schema);
  const u = new URL(url);
  return {
    POSTGRES_HOST: u.hostname,
    POSTGRES_PORT: u.port || '5432',
    POSTGRES_USER: decodeURIComponent(u.username),
    POSTGRES_PASSWORD: decodeURIComponent(u.password),
    POSTGRES_DATABASE: u.pathname.slice(1) || 'postgres',
    POSTGRES_SCHEMA: schema,
    POSTGRES_SSLMODE: 'disable',
  };
}

/** The environment of a job run over `duckdb` into `schema` at `asOf` (`more.url`: another server). */
export function jobEnv(schema: string, duckdb: string, asOf: string, more: Env & { url?: string } = {}): Env {
  const { url, ...rest } = more;
  return {
    ...postgresEnv(schema, url),
    ACTION: JOB,
    DUCKDB_PATH: duckdb,
    AS_OF: asOf,
    TIMEZONE: 'UTC',
    RUN_REPORT_PATH: join(tempDir(), `report-${process.pid}-${++reports}.json`),
    ...rest,
  };
}

export interface JobResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
  /** Milliseconds from the start (or from the SIGTERM, see `Job.terminate`) to the exit. */
  ms: number;
  report: Report | undefined;
}

export interface Report {
  status: string;
  exitCode: number;
  error: string | null;
  statistics: Record<string, number>;
  rejects: Array<{ reason: string; count: number; examples: Array<Record<string, unknown>> }>;
  steps: Array<{ name: string; seconds: number; rows?: number }>;
}

export interface Job {
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  /** Resolves with the first line matching `re` (already printed or to come); rejects after `timeoutMs` or at exit. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Send SIGTERM; the result's `ms` then counts from this moment. */
  terminate(): void;
  /** Freeze the program (SIGSTOP) where it is, and let it go on (SIGCONT). */
  freeze(): void;
  thaw(): void;
  readonly done: Promise<JobResult>;
}

/** Start the program with `env` (a clean environment: PATH and HOME plus `env`) and `args`. */
export function startJob(env: Env, opts: { timeoutMs?: number; args?: string[] } = {}): Job {
  const child = spawn(process.execPath, [...programArgs(), ...(opts.args ?? [])], { cwd: ROOT, env: cleanEnv(env) });
  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  let partial = '';
  let t0 = Date.now();
  const started = t0;
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    stdout += d;
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          clearTimeout(w.timer);
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => (stderr += d));
  const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
  const done = new Promise<JobResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(kill);
      if (partial) lines.push(partial);
      for (const w of waiters.splice(0)) {
        clearTimeout(w.timer);
        w.reject(new Error(`the program exited (${code ?? signal}) before a line matched ${w.re}\n${stdout}${stderr}`));
      }
      const path = env.RUN_REPORT_PATH;
      const report = path && existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Report) : undefined;
      if (process.env.RELIABILITY_DEBUG) {
        const steps = (report?.steps ?? []).filter((st) => st.seconds >= 0.3).map((st) => `${st.name} ${st.seconds.toFixed(1)}s`);
        console.log(`[job ${env.POSTGRES_SCHEMA}] exit ${code ?? signal} after ${Date.now() - started} ms: ${steps.join('; ')}`);
        if (process.env.RELIABILITY_DEBUG === 'log') console.log(stdout + stderr);
      }
      resolve({ code, signal, stdout, stderr, lines, ms: Date.now() - t0, report });
    });
  });
  return {
    child,
    lines,
    done,
    waitFor(re, timeoutMs = 120_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`the program has exited; no line matched ${re}\n${stdout}${stderr}`));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.splice(waiters.findIndex((w) => w.timer === timer), 1);
          reject(new Error(`no line matched ${re} within ${timeoutMs} ms\n${stdout}${stderr}`));
        }, timeoutMs);
        waiters.push({ re, resolve, reject, timer });
      });
    },
    terminate() {
      t0 = Date.now();
      child.kill('SIGTERM');
    },
    freeze() {
      child.kill('SIGSTOP');
    },
    thaw() {
      t0 = Date.now();
      child.kill('SIGCONT');
    },
  };
}

export async function runJob(env: Env, opts: { timeoutMs?: number; args?: string[] } = {}): Promise<JobResult> {
  return startJob(env, opts).done;
}

/** The program with `args` and `env`, as test/helpers/cli.ts runCli runs it (compiled, see programArgs). */
export async function runProgram(args: string[], env: Env, opts: { timeoutMs?: number } = {}): Promise<JobResult> {
  return startJob(env, { ...opts, args }).done;
}

/** `r` as a message for a failed assertion: exit code and the log. */
export function show(r: JobResult): string {
  return `exit ${r.code ?? r.signal}\n${r.stdout}${r.stderr}`;
}

// ---- PostgreSQL ------------------------------------------------------------------------------

export async function withClient<T>(fn: (c: pg.Client) => Promise<T>, url?: string): Promise<T> {
  const c = new pg.Client({ connectionString: url ?? testPostgresUrl().toString() });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A schema bootstrapped as init_db does it. */
export async function initSchema(schema: string, url?: string): Promise<void> {
  await withClient((c) => initDb(c, schema).then(() => undefined), url);
}

const TS_COLUMNS = new Set(['ID', 'CreatedDate', 'UpdatedDate', 'ResolveDate', 'CRDATEUNIQUE']);

/** md5 of every row of `table`, in ID order (byte-for-byte: any change shows). */
export async function checksum(c: pg.Client, schema: string, table: 'conflictvisitmaps' | 'conflicts'): Promise<string> {
  const key = table === 'conflicts' ? '"CONFLICTID"' : '"ID"';
  const r = await c.query<{ h: string | null; n: string }>(
    `SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY ${key}), '')) AS h, count(*) AS n FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`,
  );
  return `${r.rows[0].n}:${r.rows[0].h}`;
}

/** Both tables' checksums. */
export async function tablesChecksum(schema: string, url?: string): Promise<{ cvm: string; conflicts: string }> {
  return withClient(async (c) => ({ cvm: await checksum(c, schema, 'conflictvisitmaps'), conflicts: await checksum(c, schema, 'conflicts') }), url);
}

/**
 * md5 of the business content: every CVM column except ID and the timestamps the run takes from
 * the clock (CreatedDate, UpdatedDate, ResolveDate, CRDATEUNIQUE), rows in key order; and the
 * set of CONFLICTIDs of `conflicts`.
 */
export async function businessChecksum(schema: string, url?: string): Promise<{ cvm: string; conflicts: string; rows: number }> {
  const cols = TARGET_TABLES.conflictvisitmaps.filter((c) => !TS_COLUMNS.has(c.name)).map((c) => `t.${quoteIdent(c.name)}`);
  const s = quoteIdent(schema);
  return withClient(async (c) => {
    const cvm = await c.query<{ h: string; n: string }>(
      `SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) AS h, count(*) AS n
         FROM (SELECT ROW(${cols.join(', ')})::text AS x FROM ${s}."conflictvisitmaps" t) y`,
    );
    const conflicts = await c.query<{ h: string }>(
      `SELECT md5(coalesce(string_agg("CONFLICTID"::text, ',' ORDER BY "CONFLICTID"), '')) AS h FROM ${s}."conflicts"`,
    );
    return { cvm: cvm.rows[0].h, conflicts: conflicts.rows[0].h, rows: Number(cvm.rows[0].n) };
  }, url);
}

export async function inProgressFlag(schema: string, url?: string): Promise<number | null> {
  return withClient(async (c) => {
    const r = await c.query<{ f: number | null }>(`SELECT "InProgressFlag"::int AS f FROM ${quoteIdent(schema)}."settings" ORDER BY "ID" LIMIT 1`);
    return r.rows[0]?.f ?? null;
  }, url);
}

/** The open conflicts (StatusFlag U/N or NULL): key, status, the seven flags; sorted. */
export async function openConflicts(schema: string, url?: string): Promise<string[]> {
  return withClient(async (c) => {
    const r = await c.query<{ x: string }>(
      `SELECT concat_ws(' ', "VisitID", "ConVisitID", coalesce("StatusFlag", '-'), "SameSchTimeFlag", "SameVisitTimeFlag",
                        "SchAndVisitTimeSameFlag", "SchOverAnotherSchTimeFlag", "VisitTimeOverAnotherVisitTimeFlag",
                        "SchTimeOverVisitTimeFlag", "DistanceFlag") AS x
         FROM ${quoteIdent(schema)}."conflictvisitmaps"
        WHERE "StatusFlag" IN ('U', 'N') OR "StatusFlag" IS NULL
        ORDER BY 1`,
    );
    return r.rows.map((row) => row.x);
  }, url);
}

/** A copy of `src` (every table of target-tables.tsv, identities included) as `dst`. */
export async function cloneSchema(src: string, dst: string, url?: string): Promise<void> {
  await initSchema(dst, url);
  await withClient(async (c) => {
    const s = quoteIdent(src);
    const d = quoteIdent(dst);
    await c.query('BEGIN');
    for (const table of Object.keys(TARGET_TABLES)) {
      const t = quoteIdent(table);
      await c.query(`DELETE FROM ${d}.${t}`);
      await c.query(`INSERT INTO ${d}.${t} OVERRIDING SYSTEM VALUE SELECT * FROM ${s}.${t}`);
      for (const col of TARGET_TABLES[table].filter((x) => x.default === 'identity')) {
        const r = await c.query<{ v: string | null }>(
          `SELECT pg_sequence_last_value(pg_get_serial_sequence($1, $2)::regclass)::text AS v`,
          [`${s}.${t}`, col.name],
        );
        if (r.rows[0].v !== null) await c.query(`SELECT setval(pg_get_serial_sequence($1, $2), $3::bigint, true)`, [`${d}.${t}`, col.name, r.rows[0].v]);
      }
    }
    await c.query('COMMIT');
  }, url);
}

export async function dropSchemas(schemas: string[], url?: string): Promise<void> {
  await withClient(async (c) => {
    for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(s)} CASCADE`);
  }, url);
}

/** The backend that holds the advisory lock of `schema`: the running job's own session. */
export async function jobBackend(c: pg.Client, schema: string): Promise<{ pid: number; app: string; wait: string | null; query: string } | undefined> {
  const r = await c.query<{ pid: number; app: string; wait: string | null; query: string }>(
    `SELECT a.pid, a.application_name AS app, a.wait_event_type AS wait, a.query
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted
        AND l.classid::text::bigint = (hashtextextended($1, 0) >> 32) & 4294967295
        AND l.objid::text::bigint = hashtextextended($1, 0) & 4294967295`,
    [`conflict-updater:${schema}`],
  );
  return r.rows[0];
}

/**
 * A run stopped (SIGTERM, MAX_RUN_MINUTES) as operations.md and sync.md require: exit 143, the
 * rollback and the flag in its log and report, both tables byte-for-byte as `before`,
 * InProgressFlag 2, the advisory lock released.
 */
export async function assertStoppedCleanly(r: JobResult, schema: string, before: { cvm: string; conflicts: string }): Promise<void> {
  assert.equal(r.code, 143, show(r));
  assert.match(r.stdout, /Stopped: the open transaction was rolled back, nothing was written/);
  assert.match(r.stdout, /settings: InProgressFlag = 2/);
  assert.match(r.stdout, /Status: stopped/);
  assert.equal(r.report?.status, 'stopped');
  assert.deepEqual(await tablesChecksum(schema), before, 'conflictvisitmaps and conflicts are byte-for-byte as before');
  assert.equal(await inProgressFlag(schema), 2);
  await withClient(async (c) => assert.equal(await jobBackend(c, schema), undefined, 'the advisory lock is released'));
}

/**
 * Hold a SHARE lock on `schema`.conflictvisitmaps in an open transaction: the job's first write
 * to the table (the merge) then waits, a statement genuinely running inside the write transaction.
 */
export async function blockWrites(schema: string, url?: string): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ connectionString: url ?? testPostgresUrl().toString() });
  await c.connect();
  c.on('error', () => undefined); // a server stop ends this session too
  await c.query('BEGIN');
  await c.query(`LOCK TABLE ${quoteIdent(schema)}."conflictvisitmaps" IN SHARE MODE`);
  return {
    release: async () => {
      await c.query('ROLLBACK').catch(() => undefined);
      await c.end().catch(() => undefined);
    },
  };
}
